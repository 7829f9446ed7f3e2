"""Extraction (pure): decoding, article pages, feeds, finding the captured item."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings

from obsidian_inbox import FeedError
from obsidian_inbox._extract import (
    Feed,
    FeedItem,
    clean_description,
    decode_html,
    extract_article,
    find_item,
    html_to_markdown,
    is_generic_title,
    lead_text,
    parse_date,
    parse_feed,
    plain_text,
)
from obsidian_inbox._markdown import parser

from . import strategies
from .conftest import DATA

SEED = DATA / "seed"
SEED_URL = (
    "https://towardsdatascience.com/dont-follow-generic-ml-engineer-roadmaps-do-this-instead-2/"
)
SETTINGS = settings()


def raw_html_tokens(markdown: str) -> list[str]:
    """Return the raw HTML markdown-it finds in ``markdown`` (there should be none)."""
    found = []
    for token in parser().parse(markdown):
        if token.type == "html_block":
            found.append(token.content)
        for child in token.children or ():
            if child.type == "html_inline":
                found.append(child.content)
    return found


def link_targets(markdown: str) -> list[str]:
    """Return the targets of the links in ``markdown``."""
    return [
        str(child.attrs.get("href", ""))
        for token in parser().parse(markdown)
        for child in token.children or ()
        if child.type == "link_open"
    ]


def article_page(body: str, head: str = "", title: str = "A page") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    )


PROSE = " ".join(
    f"Sentence number {n} explains one more detail of the argument in plain words."
    for n in range(40)
)

# --- decoding ------------------------------------------------------------------------

RUSSIAN = (
    "<html><body>"
    + (
        "<p>\u0412 \u044d\u0442\u043e\u0439 \u0441\u0442\u0430\u0442\u044c\u0435 \u043c\u044b "
        "\u0440\u0430\u0441\u0441\u043a\u0430\u0437\u044b\u0432\u0430\u0435\u043c, \u043a\u0430\u043a "
        "\u0441\u0442\u0430\u0442\u044c \u0438\u043d\u0436\u0435\u043d\u0435\u0440\u043e\u043c "
        "\u043c\u0430\u0448\u0438\u043d\u043d\u043e\u0433\u043e \u043e\u0431\u0443\u0447\u0435\u043d\u0438\u044f.</p>"
        * 30
    )
    + "</body></html>"
)


@pytest.mark.parametrize(
    ("data", "http_charset", "expected"),
    [
        ("caf\u00e9".encode(), None, "caf\u00e9"),
        (b"\xef\xbb\xbfcaf\xc3\xa9", "iso-8859-1", "caf\u00e9"),  # BOM wins
        ("caf\u00e9 \u2019".encode("cp1252"), "windows-1252", "caf\u00e9 \u2019"),
        (
            "caf\u00e9 \u2019".encode("cp1252"),
            "iso-8859-1",
            "caf\u00e9 \u2019",
        ),  # read as browsers do
        ("caf\u00e9".encode(), "iso-8859-1", "caf\u00e9"),  # valid UTF-8 under a legacy label
        ("caf\u00e9 \u2019".encode("cp1252"), "utf-8", "caf\u00e9 \u2019"),  # wrong label, detected
        (
            "\u041f\u0440\u0438\u0432\u0435\u0442".encode("koi8-r"),
            "koi8-r",
            "\u041f\u0440\u0438\u0432\u0435\u0442",
        ),
        (RUSSIAN.encode("cp1251"), None, RUSSIAN),  # detected
        (RUSSIAN.encode("cp1251"), "utf-8", RUSSIAN),  # wrong label, detected
    ],
)
def test_decode_html(data: bytes, http_charset: str | None, expected: str) -> None:
    assert decode_html(data, http_charset=http_charset) == expected


ENGLISH = " ".join(
    f"Sentence {n} of the article says one more useful thing about the topic." for n in range(30)
)


@pytest.mark.parametrize(
    ("words", "encoding"),
    [
        (
            "Caf\u00e9 na\u00efve r\u00e9sum\u00e9. ",
            "cp1252",
        ),  # was read as windows-1250: "na\u010fve"
        ("Il \u00e9tait une fois, d\u00e9j\u00e0 \u00e0 c\u00f4t\u00e9. ", "cp1252"),  # was cp775
        ("\u00bfQu\u00e9 pas\u00f3, se\u00f1or? ", "cp1252"),
        ("\u00dcber die Stra\u00dfe gehen, sch\u00f6n. " * 30, "cp1252"),  # was mac_turkish
        (
            "Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144. Pchn\u0105\u0107 w t\u0119 \u0142\u00f3d\u017a. ",
            "cp1250",
        ),
        (
            "P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148 \u00fap\u011bl \u010f\u00e1belsk\u00e9 \u00f3dy. ",
            "cp1250",
        ),
        (RUSSIAN + " ", "cp1251"),
    ],
)
@pytest.mark.parametrize("http_charset", [None, "utf-8"])
def test_a_mostly_english_page_with_a_few_accents_is_detected_right(
    words: str, encoding: str, http_charset: str | None
) -> None:
    """A page that declares no charset, or a wrong one: a few accents must not pick cp775."""
    page = f"<html><head><title>A page</title></head><body><p>{words}{ENGLISH}</p></body></html>"
    assert decode_html(page.encode(encoding), http_charset=http_charset) == page


NOT_PAGE_CHARSETS = [
    "zlib",
    "hex",
    "base64",
    "rot13",
    "bz2",
    "quopri",
    "undefined",
    "utf-7",
    "unicode_escape",
    "raw_unicode_escape",
    "punycode",
    "idna",
]


@pytest.mark.parametrize("charset", NOT_PAGE_CHARSETS)
def test_charsets_no_page_can_have_are_ignored(charset: str) -> None:
    """Once, ``charset=zlib`` raised LookupError and ``utf-7`` turned ``+ADw-`` into ``<``."""
    page = b"<p>caf\xe9 \\x41 +ADw-script+AD4-</p>"
    expected = "<p>caf\u00e9 \\x41 +ADw-script+AD4-</p>"
    assert decode_html(page, http_charset=charset) == expected
    meta = f"<meta charset={charset}>".encode()
    assert decode_html(meta + page) == meta.decode() + expected


@pytest.mark.parametrize("charset", NOT_PAGE_CHARSETS)
def test_feed_charsets_no_feed_can_have_are_ignored(charset: str) -> None:
    """Once, ``charset=undefined`` (header or XML declaration) raised UnicodeError."""
    body = (
        b'<rss version="2.0"><channel><title>Caf\xe9</title>'
        b"<item><title>T</title><link>https://blog.example/1</link></item></channel></rss>"
    )
    declared = f'<?xml version="1.0" encoding="{charset}"?>'.encode() + body
    for feed, headers in (
        (
            b'<?xml version="1.0"?>' + body,
            {"content-type": f"application/rss+xml; charset={charset}"},
        ),
        (declared, {}),
    ):
        parsed = parse_feed(feed, url="https://blog.example/feed", headers=headers)
        assert parsed.title == "Caf\u00e9"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1252">',
        "<meta charset=windows-1252>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        '<META HTTP-EQUIV="content-type" CONTENT="text/html;charset=ISO-8859-1">',
    ],
)
def test_decode_html_reads_the_meta_charset(meta: str) -> None:
    text = f"<html><head>{meta}</head><body>\u201cna\u00efve\u201d \u2014 \u20ac</body></html>"
    assert decode_html(text.encode("cp1252")) == text


@SETTINGS
@given(strategies.cp1252_text)
def test_decode_html_round_trips_legacy_pages(text: str) -> None:
    page = f'<html><head><meta charset="windows-1252"></head><body>{text}</body></html>'
    assert decode_html(page.encode("cp1252")) == page


# --- articles ------------------------------------------------------------------------


def seed_article():
    return extract_article((SEED / "article.html").read_text(encoding="utf-8"), url=SEED_URL)


def test_article_metadata() -> None:
    article = seed_article()
    assert article.title == "How to Become a Machine Learning Engineer (Step-by-Step)"
    assert article.author == "Egor Howell"
    assert article.site == "Towards Data Science"
    assert article.published == dt.datetime(2025, 9, 15, 13, tzinfo=dt.timezone.utc)
    assert article.description == "Your one-stop guide to becoming a machine learning engineer"
    assert article.url == SEED_URL
    assert article.image.endswith("/ml-engineer-roadmap.png")
    assert {"Machine Learning", "Career Advice"} <= set(article.tags)
    assert article.problem == ""


def test_article_text_keeps_structure_and_drops_chrome() -> None:
    text = seed_article().text
    assert text.startswith(
        "Machine learning engineers sit where software engineering meets statistics"
    )
    assert "### Maths and statistics" in text or "## Maths and statistics" in text
    assert "- Linear algebra: vectors, matrices and eigenvalues" in text
    assert "pip install numpy pandas scikit-learn" in text
    assert "| Supervised learning | An introductory statistics textbook |" in text
    assert "You don\u2019t need to be a maths prodigy" in text
    for chrome in (
        "We use cookies",
        "Toggle Mobile Navigation",
        "Sign in",
        "Submit an Article",
        "Write For TDS",
        "Publish AI, ML",
        "Related articles",
        "Copyright 2025",
        "Privacy Policy",
        "This finally made the roadmap click",  # a comment
        "subscribe to our free newsletter",
        "Share this article",
        "Written by Egor Howell",
        "12 min read",
    ):
        assert chrome not in text, chrome
    assert "# How to Become" not in text  # the note has its own title
    assert "&#" not in text
    assert raw_html_tokens(text) == []


def test_dates_come_from_the_page_metadata_not_the_url() -> None:
    # htmldate reads /2025/09/7-lessons/ as 7 September; the page says otherwise.
    url = "https://blog.example/2025/09/7-lessons-from-a-year-of-python/"
    page = article_page(
        f"<article><h1>7 Lessons</h1><p>{PROSE}</p></article>",
        head='<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2025-09-01T08:00:00+00:00">',
    )
    assert extract_article(page, url=url).published == dt.datetime(
        2025, 9, 1, 8, tzinfo=dt.timezone.utc
    )


@pytest.mark.parametrize(
    "head",
    [
        '<script type="application/ld+json">{"@type": "BlogPosting", "datePublished": "2025-08-26"}</script>',
        '<script type="application/ld+json">[{"@graph": [{"datePublished": "2025-08-26T10:00:00Z"}]}]</script>',
    ],
)
def test_dates_from_json_ld(head: str) -> None:
    page = article_page(f"<article><p>{PROSE}</p></article>", head=head)
    published = extract_article(page, url="https://blog.example/2025/09/3-things/").published
    assert published is not None
    assert published.isoformat().startswith("2025-08-26")


def test_dates_from_a_time_element() -> None:
    body = f'<article><time class="published" datetime="2025-07-04">4 July</time><p>{PROSE}</p></article>'
    assert extract_article(article_page(body)).published == dt.date(2025, 7, 4)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-12:00",  # beyond datetime's range once in UTC
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00",
        "1800-09-01",
    ],
)
def test_implausible_page_dates_are_dropped(value: str) -> None:
    head = f'<meta property="article:published_time" content="{value}">'
    page = article_page(f"<article><p>{PROSE}</p></article>", head=head)
    assert extract_article(page, url="https://blog.example/post/").published is None


@pytest.mark.parametrize(
    "pub_date",
    [
        "Sat, 01 Jan 0000 00:00:00 +1400",  # feedparser reads the year 1400
        "Fri, 31 Dec 9999 23:59:59 +0000",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "0000-01-01T00:00:00Z",
    ],
)
def test_implausible_feed_dates_are_dropped(pub_date: str) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>Old</title><link>https://blog.example/old</link><pubDate>{pub_date}</pubDate>"
        "</item></channel></rss>"
    ).encode()
    (item,) = parse_feed(feed, url="https://blog.example/feed").items
    assert item.published is None


def test_plausible_dates_are_kept() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>New</title><link>https://blog.example/new</link>"
        b"<pubDate>Mon, 01 Sep 1997 08:00:00 +0000</pubDate></item></channel></rss>"
    )
    (item,) = parse_feed(feed, url="https://blog.example/feed").items
    assert item.published == dt.datetime(1997, 9, 1, 8, tzinfo=dt.timezone.utc)


def test_scripts_and_javascript_links_never_reach_the_text() -> None:
    body = (
        f"<article><h1>Safe</h1><p>{PROSE}</p>"
        "<p>For the details of the argument, click <a href='javascript:alert(1)'>here</a> or "
        "<a href='data:text/html,x'>there</a>, or read <a href='https://example.org/ok'>this</a> page, "
        "which goes through every step of it slowly and with many worked examples.</p>"
        "<script>alert('x')</script><p>Talk about &lt;script&gt; tags is fine.</p></article>"
    )
    text = extract_article(article_page(body), url="https://example.org/a").text
    assert "javascript:" not in text
    assert "data:text" not in text
    assert "alert('x')" not in text
    assert "[this](https://example.org/ok)" in text
    assert "click here or there, or read" in text
    assert raw_html_tokens(text) == []
    assert "<script> tags is fine" in plain_text(text)


def test_a_bot_check_page_gives_no_text() -> None:
    page = article_page(
        "<div><h1>Checking your browser before accessing the site.</h1>"
        "<p>Please enable JavaScript and cookies to continue.</p></div>",
        title="Just a moment...",
    )
    article = extract_article(page, url="https://example.org/a")
    assert article.text == ""
    assert article.title == ""
    assert "bot check" in article.problem
    assert "Just a moment..." in article.problem


def test_a_thin_page_is_reported() -> None:
    page = article_page(
        "<article><p>Subscribe to read the rest.</p></article>",
        head='<meta property="og:type" content="article">'
        '<meta name="description" content="A long description promising an article of many words about the topic at hand.">',
        title="A Paywalled Story",
    )
    article = extract_article(page, url="https://example.org/story")
    assert article.problem.startswith("the page gave too little text (")
    assert article.title == "A Paywalled Story"


def test_a_generic_title_is_dropped() -> None:
    page = article_page(f"<article><p>{PROSE}</p></article>", title="YouTube")
    assert extract_article(page, url="https://www.youtube.com/watch?v=x").title == ""


def test_not_html() -> None:
    assert extract_article("").problem


@pytest.mark.parametrize(
    ("title", "generic"),
    [
        ("YouTube", True),
        ("Just a moment\u2026", True),
        ("Attention Required! | Cloudflare", True),
        ("Home", True),
        ("How to Become a Machine Learning Engineer", False),
        ("Home Cooking for Busy People", False),
    ],
)
def test_is_generic_title(title: str, generic: bool) -> None:
    assert is_generic_title(title) is generic


def test_the_site_name_is_a_generic_title() -> None:
    assert is_generic_title("Towards Data Science", site="Towards Data Science")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-09-01T08:00:00+00:00", dt.datetime(2025, 9, 1, 8, tzinfo=dt.timezone.utc)),
        ("2025-09-01T08:00:00.123456789Z", dt.datetime(2025, 9, 1, 8, tzinfo=dt.timezone.utc)),
        ("2025-09-01 08:00:00", dt.datetime(2025, 9, 1, 8)),
        (
            "2025-09-01T08:00:00+0200",
            dt.datetime(2025, 9, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        ("2025-09-01", dt.date(2025, 9, 1)),
        ("Mon, 15 Sep 2025 13:00:00 +0000", dt.datetime(2025, 9, 15, 13, tzinfo=dt.timezone.utc)),
        ("2025-13-45", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: object, expected: object) -> None:
    assert parse_date(value) == expected


# --- feeds ---------------------------------------------------------------------------


def seed_feed() -> Feed:
    return parse_feed(
        (SEED / "feed.xml").read_bytes(),
        url="https://towardsdatascience.com/feed",
        headers={"Content-Type": "application/rss+xml; charset=UTF-8"},
    )


def test_parse_feed() -> None:
    feed = seed_feed()
    assert feed.title == "Towards Data Science"
    assert feed.format == "rss20"
    assert len(feed.items) == 3
    item = feed.items[1]
    assert item.title == "How to Become a Machine Learning Engineer (Step-by-Step)"
    assert item.author == "Egor Howell"
    assert item.published == dt.datetime(2025, 9, 15, 13, tzinfo=dt.timezone.utc)
    assert item.categories == (
        "Machine Learning",
        "Career Advice",
        "Data Science",
        "Deep Dives",
        "Uncategorized",
    )
    assert item.summary == "Your one-stop guide to becoming a machine learning engineer"


def test_feed_content_becomes_clean_markdown() -> None:
    markdown = seed_feed().items[1].content_markdown()
    assert "You don\u2019t need to be a maths prodigy." in markdown
    assert "- Linear algebra: vectors, matrices and eigenvalues" in markdown
    assert "## Maths and statistics" in markdown
    assert "Read the appendix once you are done." in markdown
    for unwanted in ("<", "javascript:", "tracking", "&#8217;", "appeared first on"):
        assert unwanted not in markdown, unwanted


def test_find_item_by_link_ignores_tracking_parameters() -> None:
    feed = seed_feed()
    item = find_item(feed, link=SEED_URL)
    assert item is feed.items[1]
    shouted = SEED_URL.replace(
        "https://towardsdatascience.com", "HTTPS://TowardsDataScience.COM:443"
    )
    assert find_item(feed, link=shouted + "#top") is item


def test_find_item_by_title_when_the_link_differs() -> None:
    feed = seed_feed()
    item = find_item(
        feed,
        link="https://t.co/abc123",
        title="how to become a machine learning engineer (step by step)",
    )
    assert item is feed.items[1]


def test_find_item_when_it_rotated_out() -> None:
    assert (
        find_item(seed_feed(), link="https://towardsdatascience.com/old-post/", title="An Old Post")
        is None
    )


@SETTINGS
@given(strategies.tracking_variants)
def test_find_item_matches_links_canonically(variant: tuple[str, str]) -> None:
    link, captured = variant
    feed = Feed(
        items=(
            FeedItem(title="Other", link="https://other.example/x"),
            FeedItem(title="T", link=link),
        )
    )
    assert find_item(feed, link=captured) is feed.items[1]


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">Caf&amp;eacute; Sciences</title>
  <link href="https://cafe.example/"/>
  <id>urn:cafe</id><updated>2025-09-02T10:00:00Z</updated>
  <entry>
    <title type="html">What&amp;#8217;s New in &lt;em&gt;Dataframes&lt;/em&gt; &amp;amp; Friends</title>
    <link rel="alternate" href="/2025/09/whats-new/"/>
    <id>urn:cafe:1</id>
    <updated>2025-09-02T10:00:00Z</updated>
    <author><name>Ana Ruiz</name></author>
    <category term="Data Science"/>
    <summary type="html">&lt;p&gt;A short &lt;b&gt;summary&lt;/b&gt;.&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;The full text, with &lt;a href="https://cafe.example/x"&gt;a link&lt;/a&gt;.&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_atom_html_titles_are_unescaped() -> None:
    feed = parse_feed(
        ATOM, url="https://cafe.example/atom.xml", headers={"content-type": "application/atom+xml"}
    )
    assert feed.format == "atom10"
    assert feed.title == "Caf\u00e9 Sciences"
    item = feed.items[0]
    assert item.title == "What\u2019s New in Dataframes & Friends"
    assert item.link == "https://cafe.example/2025/09/whats-new/"  # made absolute
    assert item.author == "Ana Ruiz"
    assert item.published == dt.datetime(2025, 9, 2, 10, tzinfo=dt.timezone.utc)
    assert item.summary == "A short summary."
    assert item.content_markdown() == "The full text, with [a link](https://cafe.example/x)."
    assert find_item(feed, title="What's New in Dataframes & Friends") is item


def test_a_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match=r"not a feed \(an HTML page"):
        parse_feed(
            b"<!DOCTYPE html><html><body><p>hi</p></body></html>", url="https://x.example/feed"
        )


def test_a_broken_feed_with_items_still_parses() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T &bogus;</title><item><title>One</title><link>https://x.example/1</link></item></channel></rss>'
    feed = parse_feed(body, url="https://x.example/feed")
    assert [item.title for item in feed.items] == ["One"]
    assert feed.problem


BLOWUP_ITEM = (
    "<item><title>Blown</title><link>https://blog.example/blown</link>"
    "<description>" + "&a;" * 100_000 + "</description></item>"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-32", "cp037"])
@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY a "{value}">]>',  # on one line: feedparser keeps it
        "<!DOCTYPE rss [\n<!ENTITY a '{value}>'>\n]>",
        '<!DOCTYPE rss [<!ENTITY b "x"><!ENTITY a "{value}">]>',
    ],
)
def test_feed_entities_are_never_expanded(encoding: str, doctype: str) -> None:
    """A quadratic blow-up: 500 kB of feed made 25 MB of description (and 10 MB, 1 GB)."""
    feed = (
        f'<?xml version="1.0" encoding="{encoding}"?>{doctype.format(value="x" * 250)}'
        '<rss version="2.0"><channel><title>Blow-up</title>'
        f"{BLOWUP_ITEM}</channel></rss>"
    ).encode(encoding)
    (item,) = parse_feed(feed, url="https://blog.example/feed").items
    assert item.title == "Blown"
    assert "x" * 250 not in item.summary_html
    assert len(item.summary_html) < 1_000_000


def test_a_feed_declaring_html_entities_still_parses() -> None:
    feed = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n]>\n'
        b'<rss version="2.0"><channel><title>Old&nbsp;School</title>'
        b"<item><title>One&nbsp;item</title><link>https://blog.example/1</link></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(feed, url="https://blog.example/feed")
    assert parsed.title == "Old School"
    assert [item.title for item in parsed.items] == ["One item"]


def test_feed_bytes_are_never_taken_for_a_path_or_url(tmp_path) -> None:
    # feedparser reads a str argument as a path or URL; parse_feed hands it bytes only.
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><title>secret</title></channel></rss>')
    with pytest.raises(FeedError):
        parse_feed(str(secret).encode(), url="https://x.example/feed")


# --- helpers -------------------------------------------------------------------------


def test_clean_description_removes_boilerplate() -> None:
    raw = (
        "<p>Your one-stop guide to becoming a machine learning engineer</p>\n"
        '<p>The post <a href="x">How to &#8230; Step-by-Step</a> appeared first on <a href="y">TDS</a>.</p>'
    )
    assert clean_description(raw) == "Your one-stop guide to becoming a machine learning engineer"


def test_html_to_markdown_keeps_text_it_cannot_structure() -> None:
    assert html_to_markdown("Just text &amp; more") == "Just text & more"
    assert html_to_markdown("") == ""


@SETTINGS
@given(strategies.html_fragments)
def test_html_to_markdown_never_leaks_html_or_unsafe_links(fragment: str) -> None:
    markdown = html_to_markdown(fragment)
    assert raw_html_tokens(markdown) == []
    assert all(
        target.startswith(("https://", "http://", "mailto:")) for target in link_targets(markdown)
    )


def test_html_to_markdown_drops_scripts_and_styles() -> None:
    markdown = html_to_markdown(
        "<p>Kept text here.</p><script>evil()</script><style>p{x:y}</style>"
    )
    assert markdown == "Kept text here."


def test_lead_text_takes_prose_and_cuts_at_a_sentence() -> None:
    markdown = (
        "### Heading words that are many and long enough\n\n- a list item with enough words to count here\n\n"
        + PROSE
    )
    lead = lead_text(markdown, limit=120)
    assert lead.startswith("Sentence number 0 explains")
    assert lead.endswith(".")
    assert len(lead) <= 120


def test_plain_text() -> None:
    assert plain_text("**Bold** and [link](https://x.example) and `code`\n\n- item") == (
        "Bold and link and code\nitem"
    )


def test_unknown_and_utf16_labels_fall_back_sensibly() -> None:
    assert decode_html("caf\u00e9".encode(), http_charset="x-no-such-charset") == "caf\u00e9"
    page = '<meta charset="utf-16"><p>caf\u00e9</p>'
    assert decode_html(page.encode()) == page  # an ASCII-compatible page naming UTF-16 is UTF-8


def test_a_page_with_no_main_text() -> None:
    article = extract_article(article_page("<div></div>", title="Empty"), url="https://x.example/e")
    assert article.text == ""
    assert article.problem == "the page has no main text"


def test_parse_date_keeps_dates_and_datetimes() -> None:
    assert parse_date(dt.date(2025, 1, 2)) == dt.date(2025, 1, 2)
    assert parse_date(dt.datetime(2025, 1, 2, 3, 4, 5, 678)) == dt.datetime(2025, 1, 2, 3, 4, 5)


def test_an_item_without_a_link_uses_its_permalink_guid() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>Only a guid</title><guid>https://x.example/p/1</guid></item></channel></rss>"
    )
    (item,) = parse_feed(body, url="https://x.example/feed").items
    assert item.link == "https://x.example/p/1"
    assert item.published is None
