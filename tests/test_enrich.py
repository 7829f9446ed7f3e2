"""The default enricher, alone and in process_inbox, against local servers."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from pytest_httpserver import HTTPServer

from obsidian_inbox import (
    ConfigError,
    Enrichment,
    Fetcher,
    LLMSummarizer,
    Note,
    Settings,
    Source,
    WebEnricher,
    load_settings,
    parse_inbox_file,
    parse_note,
    process_inbox,
)
from obsidian_inbox._extract import plain_text
from obsidian_inbox._tags import is_valid_tag

from .conftest import DATA, RouteTransport, tools_or_skip

SEED = DATA / "seed"
SEED_URL = (
    "https://towardsdatascience.com/dont-follow-generic-ml-engineer-roadmaps-do-this-instead-2/"
)
FEED = (SEED / "feed.xml").read_bytes()
ARTICLE = (SEED / "article.html").read_bytes()
PROSE = " ".join(
    f"Sentence {n} of the article says one more useful thing about the topic." for n in range(30)
)


def page(title: str, body: str = PROSE, head: str = "") -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1><p>{body}</p></article>"
        "<footer>Footer text of the site.</footer></body></html>"
    ).encode()


def rss(*items: tuple[str, str], content: str = "") -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><dc:creator>Ann Author</dc:creator>"
        "<pubDate>Mon, 01 Sep 2025 08:00:00 +0000</pubDate><category>Data Science</category>"
        f"<description>A description of {title} written by the author.</description>"
        + (f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else "")
        + "</item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Local Weekly</title>'
        f"<link>http://127.0.0.1/</link>{entries}</channel></rss>"
    ).encode()


def write_capture(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rss_capture(folder: Path, feed: str, link: str, title: str) -> Note:
    text = f"RSS Feed: Local Weekly\nSource: {feed}\nLink: {link}\n\n{title}\n\nWhat the capture said. The post {title} appeared first on Local Weekly.\n"
    return parse_inbox_file(write_capture(folder, "20250901_080000_rss_capture.txt", text))


def link_capture(folder: Path, url: str, comment: str = "") -> Note:
    text = f"Link: {url}\n" + (f"\n{comment}\n" if comment else "")
    return parse_inbox_file(write_capture(folder, "20250901_090000_link_capture.txt", text))


def sources_of(note: Note, kind: str) -> list[Source]:
    return [source for source in note.sources if source.kind == kind]


@pytest.fixture
def enricher(fetcher: Fetcher) -> Iterator[WebEnricher]:
    with WebEnricher(fetcher=fetcher) as made:
        yield made


def requests_to(httpserver: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


# --- the seed capture ----------------------------------------------------------------


@pytest.fixture
def tds(httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> Fetcher:
    """A Fetcher that finds towardsdatascience.com (the seed's site) on the local server."""
    httpserver.expect_request("/feed").respond_with_data(
        FEED, content_type="application/rss+xml; charset=UTF-8"
    )
    httpserver.expect_request(
        "/dont-follow-generic-ml-engineer-roadmaps-do-this-instead-2/"
    ).respond_with_data(ARTICLE, content_type="text/html; charset=UTF-8")
    return make_fetcher(
        transport=RouteTransport({"towardsdatascience.com": httpserver.url_for("/")})
    )


def frontmatter_of(markdown: str) -> dict[str, Any]:
    _, front, _ = markdown.split("---\n", 2)
    data = yaml.safe_load(front)
    assert isinstance(data, dict)
    return data


def test_the_seed_capture_makes_a_clean_note(tds: Fetcher) -> None:
    capture = next(SEED.glob("*.txt"))
    with WebEnricher(fetcher=tds) as enricher:
        result = enricher(parse_inbox_file(capture), vocabulary=["MachineLearning", "programming"])
    note = result.note
    assert result.transient == ()
    assert note.status == "draft"
    assert note.status_reason == ""
    assert note.title == "How to Become a Machine Learning Engineer (Step-by-Step)"
    assert note.category == "development"
    assert note.summary == "Your one-stop guide to becoming a machine learning engineer"
    assert note.url == SEED_URL
    assert note.fetched_at is not None

    # Tags: valid, spelled as the vault spells them, no meaningless categories.
    assert note.tags[:2] == ("MachineLearning", "career-advice")
    assert all(is_valid_tag(tag) and " " not in tag for tag in note.tags)
    assert "uncategorized" not in note.tags

    # The feed item's data, not its XML.
    (feed,) = sources_of(note, "feed")
    assert feed.url == "https://towardsdatascience.com/feed"
    assert feed.title == note.title
    assert feed.author == "Egor Howell"
    assert feed.site == "Towards Data Science"
    assert feed.published == dt.datetime(2025, 9, 15, 13, tzinfo=dt.timezone.utc)
    assert feed.error == ""
    assert feed.text == ""  # the article has the text

    # The article's main text, without the site's chrome.
    (article,) = sources_of(note, "article")
    assert article.author == "Egor Howell"
    assert article.site == "Towards Data Science"
    assert article.error == ""
    text = plain_text(article.text)
    assert "Machine learning engineers sit where software engineering meets statistics" in text
    assert "You don\u2019t need to be a maths prodigy" in text
    assert "build two or three end-to-end projects" in text
    markdown = note.to_markdown()
    for chrome in (
        "Sign in",
        "Submit an Article",
        "Toggle Mobile Navigation",
        "Write For TDS",
        "We use cookies",
    ):
        assert chrome not in markdown, chrome
    for raw in ("<?xml", "<rss", "<item>", "&#8217;", "&#38;", "&amp;", "<p>", "appeared first on"):
        assert raw not in markdown, raw
    front = frontmatter_of(markdown)
    assert front["category"] == "development"
    assert front["tags"] == list(note.tags)
    assert Note.from_markdown(markdown) == note


def test_the_seed_capture_through_process_inbox(tmp_path: Path, tds: Fetcher) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / "Inbox").mkdir()
    capture = next(SEED.glob("*.txt"))
    (vault / "Inbox" / capture.name).write_bytes(capture.read_bytes())
    with WebEnricher(fetcher=tds) as enricher:
        report = process_inbox(vault, enricher=enricher, settings=Settings(settle_seconds=0))
    (outcome,) = report.outcomes
    assert outcome.status == "created", outcome.reason
    assert outcome.note == "Notes/How to Become a Machine Learning Engineer (Step-by-Step).md"
    written = parse_note((vault / outcome.note).read_text(encoding="utf-8"))
    assert written.category == "development"
    assert written.summary == "Your one-stop guide to becoming a machine learning engineer"


# --- outcomes ------------------------------------------------------------------------


def test_article_gone_but_the_feed_has_the_content(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/08/gone/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(
            ("Gone Story", article),
            content="<p>The full text survives in the feed, every word of it.</p>",
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/2025/08/gone/").respond_with_data("no", status=404)
    result = enricher(rss_capture(tmp_path, httpserver.url_for("/feed"), article, "Gone Story"))
    note = result.note
    assert result.transient == ()
    assert note.status == "partial"
    assert note.status_reason == f"404 Not Found for {article}; the text is the feed item's"
    (feed,) = sources_of(note, "feed")
    assert feed.text == "The full text survives in the feed, every word of it."
    assert feed.author == "Ann Author"
    (page_source,) = sources_of(note, "article")
    assert page_source.error == "404 Not Found"
    assert note.tags == ("data-science",)


def test_an_item_rotated_out_of_the_feed(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/08/old/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(("Something Newer", httpserver.url_for("/2025/09/new/"))),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/2025/08/old/").respond_with_data(
        page("The Old Story"), content_type="text/html"
    )
    note = enricher(
        rss_capture(tmp_path, httpserver.url_for("/feed"), article, "The Old Story")
    ).note
    assert note.status == "draft"
    (feed,) = sources_of(note, "feed")
    assert feed.error == "the feed has no item for this capture (it may have rotated out)"
    assert feed.site == "Local Weekly"
    (page_source,) = sources_of(note, "article")
    assert "Sentence 3 of the article" in page_source.text


def test_a_stale_cached_feed_is_fetched_again(
    tmp_path: Path, httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    article = httpserver.url_for("/2025/09/fresh/")
    httpserver.expect_ordered_request("/feed").respond_with_data(
        rss(("Older", httpserver.url_for("/2025/08/older/"))), content_type="application/rss+xml"
    )
    httpserver.expect_ordered_request("/feed").respond_with_data(
        rss(("Fresh Story", article)), content_type="application/rss+xml"
    )
    httpserver.expect_request("/2025/09/fresh/").respond_with_data(
        page("Fresh Story"), content_type="text/html"
    )
    make_fetcher().fetch(httpserver.url_for("/feed"))  # an earlier run cached the feed
    later = make_fetcher()
    later.started_at += dt.timedelta(hours=1)
    with WebEnricher(fetcher=later) as enricher:
        note = enricher(
            rss_capture(tmp_path, httpserver.url_for("/feed"), article, "Fresh Story")
        ).note
    (feed,) = sources_of(note, "feed")
    assert feed.error == ""
    assert feed.author == "Ann Author"
    assert requests_to(httpserver, "/feed") == 2


def test_a_capture_link_with_tracking_parameters_finds_its_item(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/09/tracked/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(("Tracked", article)), content_type="application/rss+xml"
    )
    httpserver.expect_request("/2025/09/tracked/").respond_with_data(
        page("Tracked"), content_type="text/html"
    )
    captured = article + "?utm_source=rss&utm_medium=rss&utm_campaign=tracked"
    note = enricher(
        rss_capture(tmp_path, httpserver.url_for("/feed"), captured, "A Different Title")
    ).note
    (feed,) = sources_of(note, "feed")
    assert feed.title == "Tracked"
    assert feed.error == ""


def test_an_empty_link_line_is_recovered_from_the_feed(
    tmp_path: Path, httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    article = httpserver.url_for("/2025/09/found/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(("Found Again", article)), content_type="application/rss+xml"
    )
    httpserver.expect_request("/2025/09/found/").respond_with_data(
        page("Found Again"), content_type="text/html"
    )
    capture = rss_capture(tmp_path, httpserver.url_for("/feed"), "", "Found Again")
    with WebEnricher(fetcher=fetcher, block_private_addresses=False) as enricher:
        note = enricher(capture).note
    assert note.url == article
    assert note.status == "partial"
    assert (
        note.status_reason == 'the "Link:" line is empty; the page was found through the feed item'
    )
    (page_source,) = sources_of(note, "article")
    assert "Sentence 29 of the article" in page_source.text


# --- private addresses: refused for links found in fetched content -------------------


def private_feed_vault(tmp_path: Path, httpserver: HTTPServer, config: str = "") -> Path:
    """A vault whose capture names a feed on 127.0.0.1 (no page); the item links to 127.0.0.1."""
    article = httpserver.url_for("/2025/09/inside/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(("Inside Job", article), content="<p>What the feed item says about it.</p>"),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/2025/09/inside/").respond_with_data(
        page("Inside Job"), content_type="text/html"
    )
    text = (
        f"RSS Feed: Local Weekly\nSource: {httpserver.url_for('/feed')}\nLink:\n\n"
        "Inside Job\n\nWhat the capture said.\n"
    )
    vault = make_vault(tmp_path, {"20250901_080000_rss_inside.txt": text})
    (vault / ".obsidian-inbox.toml").write_text(f"settle_seconds = 0\n{config}", encoding="utf-8")
    return vault


def test_a_feed_items_private_link_is_refused_by_default(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    vault = private_feed_vault(tmp_path, httpserver)
    report = process_inbox(vault)
    (outcome,) = report.outcomes
    assert outcome.status == "partial"
    assert outcome.capture == "Inbox/20250901_080000_rss_inside.txt"
    assert "refused: 127.0.0.1 is a loopback address" in outcome.reason
    assert "set block_private_addresses = false" in outcome.reason
    assert requests_to(httpserver, "/2025/09/inside/") == 0  # never connected
    note = parse_note((vault / str(outcome.note)).read_text(encoding="utf-8"))
    assert note.status == "partial"
    assert "refused: 127.0.0.1 is a loopback address" in note.status_reason
    assert "Sentence 29 of the article" not in note.to_markdown()
    assert "What the feed item says" in note.to_markdown()  # the feed's own text is kept


def test_a_feed_items_private_link_is_followed_when_allowed(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    vault = private_feed_vault(tmp_path, httpserver, "block_private_addresses = false\n")
    report = process_inbox(vault)
    (outcome,) = report.outcomes
    assert "refused" not in outcome.reason
    assert requests_to(httpserver, "/2025/09/inside/") == 1
    assert "Sentence 29 of the article" in (vault / str(outcome.note)).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "value"), [("", True), ("block_private_addresses = false\n", False)]
)
def test_block_private_addresses_is_read_and_shown(tmp_path: Path, text: str, value: bool) -> None:
    vault = make_vault(tmp_path, {})
    (vault / ".obsidian-inbox.toml").write_text(text, encoding="utf-8")
    assert load_settings(vault).block_private_addresses is value
    shown = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", "config", str(vault)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    origin = "file" if text else "default"
    assert f"block_private_addresses = {str(value).lower()}  # {origin}" in shown


def test_block_private_addresses_must_be_a_boolean(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {})
    (vault / ".obsidian-inbox.toml").write_text(
        'block_private_addresses = "no"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(vault)
    assert caught.value.key == "block_private_addresses"
    assert "expected a boolean (true or false), got a string ('no')" in str(caught.value)
    assert ".obsidian-inbox.toml" in str(caught.value)


def test_a_captures_own_private_url_is_fetched(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/mine").respond_with_data(page("Mine"), content_type="text/html")
    vault = make_vault(
        tmp_path, {"20250901_090000_link_m.txt": f"Link: {httpserver.url_for('/mine')}\n"}
    )
    report = process_inbox(vault, settings=Settings(settle_seconds=0))
    assert [o.status for o in report.outcomes] == ["created"]
    assert requests_to(httpserver, "/mine") == 1


def test_a_cached_private_page_is_not_served_to_a_feed_link(
    tmp_path: Path, httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    """A page the user captured (cached) is not handed out when a feed item links to it."""
    vault = private_feed_vault(tmp_path, httpserver)
    url = httpserver.url_for("/2025/09/inside/")
    assert fetcher.fetch(url).content  # the user's own capture of it, now cached
    with WebEnricher(fetcher=fetcher) as enricher:
        report = process_inbox(vault, enricher=enricher, settings=Settings(settle_seconds=0))
    (outcome,) = report.outcomes
    assert "refused: 127.0.0.1 is a loopback address" in outcome.reason


@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        ({"status": 404}, "404 Not Found for {url}"),
        ({"status": 410}, "410 Gone for {url}"),
        (
            {"response_data": b"%PDF-1.4 ...", "content_type": "application/pdf"},
            "not a web page (application/pdf) for {url}",
        ),
        (
            {"status": 302, "headers": {"Location": "file:///etc/passwd"}},
            "refused a redirect to a file: URL (only http and https are followed) for {url}",
        ),
    ],
)
def test_permanent_failures_make_a_partial_note(
    tmp_path: Path,
    httpserver: HTTPServer,
    enricher: WebEnricher,
    respond: dict[str, Any],
    reason: str,
) -> None:
    httpserver.expect_request("/thing").respond_with_data(**{"response_data": b"", **respond})
    url = httpserver.url_for("/thing")
    result = enricher(link_capture(tmp_path, url, "Worth a look. #reading"))
    assert result.transient == ()
    assert result.note.status == "partial"
    assert result.note.status_reason == reason.format(url=url)
    assert result.note.tags == ("reading",)
    assert "Worth a look." in result.note.content


def test_a_pdf_is_recorded_as_an_attachment(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    httpserver.expect_request("/files/annual-report.pdf").respond_with_data(
        b"%PDF-1.4", content_type="application/pdf"
    )
    note = enricher(link_capture(tmp_path, httpserver.url_for("/files/annual-report.pdf"))).note
    (attachment,) = sources_of(note, "attachment")
    assert attachment.error == "not a web page (application/pdf)"
    assert attachment.fetched_at is not None
    assert attachment.text == ""


def test_a_refused_scheme_in_the_capture(tmp_path: Path, enricher: WebEnricher) -> None:
    note = parse_inbox_file(
        write_capture(tmp_path, "20250901_100000_link_x.txt", "Link: javascript:alert(1)\n")
    )
    result = enricher(note)
    assert result.note.status == "partial"
    assert "not an http(s) URL" in result.note.status_reason


def test_transient_failures_are_returned_for_a_retry(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    httpserver.expect_request("/busy").respond_with_data("try later", status=503)
    url = httpserver.url_for("/busy")
    result = enricher(link_capture(tmp_path, url))
    assert result.transient == (f"503 Service Unavailable for {url}",)
    assert (
        result.note.status == "draft"
    )  # the pipeline decides: retry, or partial at the last attempt
    assert sources_of(result.note, "article")[0].error == "503 Service Unavailable"


def test_a_broken_feed_does_not_stop_the_article(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/09/fine/")
    httpserver.expect_request("/feed").respond_with_data(
        page("Not a feed"), content_type="text/html"
    )
    httpserver.expect_request("/2025/09/fine/").respond_with_data(
        page("Fine Story"), content_type="text/html"
    )
    note = enricher(rss_capture(tmp_path, httpserver.url_for("/feed"), article, "Fine Story")).note
    assert note.status == "draft"
    (feed,) = sources_of(note, "feed")
    assert feed.error == "not a feed (an HTML page)"
    assert sources_of(note, "article")[0].text


def test_a_bot_check_falls_back_to_the_feed_item(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/09/guarded/")
    httpserver.expect_request("/feed").respond_with_data(
        rss(
            ("Guarded Story", article),
            content="<p>The feed carries the whole story, luckily for us.</p>",
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/2025/09/guarded/").respond_with_data(
        b"<html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing.</p></body></html>",
        status=200,
        content_type="text/html",
    )
    captured = link_capture(tmp_path, article)
    note = enricher(
        attrs.evolve(
            captured,
            sources=[Source(url=httpserver.url_for("/feed"), kind="feed"), *captured.sources],
        )
    ).note
    assert note.title == "Guarded Story"  # the capture had none; the bot check's is generic
    assert note.status == "partial"
    assert "bot check" in note.status_reason
    (feed,) = sources_of(note, "feed")
    assert feed.text == "The feed carries the whole story, luckily for us."


def test_a_guessed_title_is_replaced_by_the_pages(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    httpserver.expect_request("/2025/09/the-real-title/").respond_with_data(
        page("The Real Title: With Punctuation!"), content_type="text/html"
    )
    captured = link_capture(tmp_path, httpserver.url_for("/2025/09/the-real-title/"))
    assert captured.title == "The real title"  # guessed from the URL
    assert enricher(captured).note.title == "The Real Title: With Punctuation!"


def test_a_title_the_user_wrote_is_kept(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    httpserver.expect_request("/a").respond_with_data(
        page("The Page's Own Title"), content_type="text/html"
    )
    path = write_capture(
        tmp_path,
        "20250901_090000_link_x.txt",
        f"Link: {httpserver.url_for('/a')}\n\nMy Own Title\n\nA comment.\n",
    )
    assert enricher(parse_inbox_file(path)).note.title == "My Own Title"


def test_several_pages_in_one_capture(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    for name in ("one", "two"):
        httpserver.expect_request(f"/{name}").respond_with_data(
            page(f"Page {name}"), content_type="text/html"
        )
    text = f"Reading list for the weekend:\n- {httpserver.url_for('/one')}\n- {httpserver.url_for('/two')}\n#reading\n"
    note = enricher(
        parse_inbox_file(write_capture(tmp_path, "20250901_110000_shortcut_x.txt", text))
    ).note
    assert note.title == "Reading list for the weekend"  # not the first page's
    assert [s.title for s in sources_of(note, "article")] == ["Page one", "Page two"]
    assert note.summary == "Links to Page one and Page two."
    assert note.status == "draft"


def test_a_feed_is_fetched_once_for_many_captures(
    tmp_path: Path, httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    items = [(f"Story {n}", httpserver.url_for(f"/s{n}")) for n in range(6)]
    httpserver.expect_request("/feed").respond_with_data(
        rss(*items), content_type="application/rss+xml"
    )
    for n in range(6):
        httpserver.expect_request(f"/s{n}").respond_with_data(
            page(f"Story {n}"), content_type="text/html"
        )
    notes = [
        rss_capture(tmp_path / str(n), httpserver.url_for("/feed"), link, title)
        for n, (title, link) in enumerate(items)
    ]
    with WebEnricher(fetcher=make_fetcher(cache=False)) as enricher:
        results: list[Enrichment] = []
        threads = [threading.Thread(target=lambda n=n: results.append(enricher(n))) for n in notes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(sources_of(r.note, "feed")[0].title for r in results) == [
        f"Story {n}" for n in range(6)
    ]
    assert requests_to(httpserver, "/feed") == 1


def test_tags_follow_the_vaults_spelling(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/x")
    httpserver.expect_request("/feed").respond_with_data(
        rss(("X", article)), content_type="application/rss+xml"
    )
    httpserver.expect_request("/x").respond_with_data(
        page("X", head='<meta name="keywords" content="Python, Data Visualization">'),
        content_type="text/html",
    )
    note = enricher(
        rss_capture(tmp_path, httpserver.url_for("/feed"), article, "X"),
        vocabulary=["DataScience", "python"],
    ).note
    assert note.tags == ("DataScience", "python", "data-visualization")


def test_an_llm_summarizer_plugs_in(
    tmp_path: Path, httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/page").respond_with_data(
        page("Knitting Patterns"), content_type="text/html"
    )
    reply = {
        "summary": "A friendly walk through knitting patterns for beginners.",
        "category": "hobbies",
        "tags": ["knitting"],
    }
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"choices": [{"message": {"role": "assistant", "content": json.dumps(reply)}}]}
    )
    with (
        LLMSummarizer(httpserver.url_for("/v1"), "m") as llm,
        WebEnricher(fetcher=fetcher, summarizer=llm) as enricher,
    ):
        note = enricher(link_capture(tmp_path, httpserver.url_for("/page"))).note
    assert note.summary == "A friendly walk through knitting patterns for beginners."
    assert note.category == "hobbies"
    assert "knitting" in note.tags


def test_a_note_without_links_is_only_classified(tmp_path: Path, enricher: WebEnricher) -> None:
    path = write_capture(
        tmp_path,
        "20250901_120000_note_x.txt",
        "Try the new sourdough recipe this weekend #baking\n",
    )
    note = enricher(parse_inbox_file(path)).note
    assert note.category == "cooking"
    assert note.tags == ("baking",)
    assert note.status == "draft"


# --- offline and the cache ----------------------------------------------------------


def test_offline_with_an_empty_cache_leaves_the_capture_as_it_is(
    tmp_path: Path, httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    captured = link_capture(tmp_path, httpserver.url_for("/never"), "#later")
    with WebEnricher(fetcher=make_fetcher(offline=True)) as enricher:
        result = enricher(captured)
    assert result.transient == ()
    assert result.note.status == "draft"
    assert result.note.sources == captured.sources
    assert httpserver.log == []


def test_offline_after_an_online_run_uses_the_cache(
    tmp_path: Path, httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    httpserver.expect_request("/cached").respond_with_data(
        page("Cached Page"), content_type="text/html"
    )
    captured = link_capture(tmp_path, httpserver.url_for("/cached"))
    with WebEnricher(fetcher=make_fetcher()) as enricher:
        online = enricher(captured).note
    requests = len(httpserver.log)
    with WebEnricher(fetcher=make_fetcher(offline=True)) as enricher:
        offline = enricher(captured).note
    assert len(httpserver.log) == requests
    assert offline.title == online.title == "Cached Page"
    assert offline.sources == online.sources


def make_vault(tmp_path: Path, captures: dict[str, str]) -> Path:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    for name, text in captures.items():
        write_capture(vault / "Inbox", name, text)
    return vault


def test_process_inbox_enriches_by_default(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/default").respond_with_data(
        page("Default Enricher"), content_type="text/html"
    )
    vault = make_vault(
        tmp_path, {"20250901_090000_link_d.txt": f"Link: {httpserver.url_for('/default')}\n"}
    )
    report = process_inbox(vault, settings=Settings(settle_seconds=0))
    (outcome,) = report.outcomes
    assert outcome.status == "created"
    assert outcome.note == "Notes/Default Enricher.md"
    assert requests_to(httpserver, "/default") == 1


def test_process_inbox_offline_fetches_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    vault = make_vault(
        tmp_path, {"20250901_090000_link_d.txt": f"Link: {httpserver.url_for('/x')}\n\nMy title\n"}
    )
    report = process_inbox(vault, offline=True, settings=Settings(settle_seconds=0))
    assert [o.status for o in report.outcomes] == ["created"]
    assert httpserver.log == []


def test_process_inbox_dry_run_leaves_the_cache_alone(
    tmp_path: Path, httpserver: HTTPServer, isolated_cache: Path
) -> None:
    httpserver.expect_request("/dry").respond_with_data(page("Dry Run"), content_type="text/html")
    vault = make_vault(
        tmp_path, {"20250901_090000_link_d.txt": f"Link: {httpserver.url_for('/dry')}\n"}
    )
    report = process_inbox(vault, dry_run=True, settings=Settings(settle_seconds=0))
    assert [o.status for o in report.outcomes] == ["created"]
    assert list(isolated_cache.iterdir()) == []


def test_transient_failures_defer_then_write_a_partial_note(
    tmp_path: Path, httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/flaky").respond_with_data("down", status=500)
    vault = make_vault(
        tmp_path, {"20250901_090000_link_f.txt": f"Link: {httpserver.url_for('/flaky')}\n\nFlaky\n"}
    )
    statuses = []
    for _ in range(3):
        with WebEnricher(fetcher=fetcher) as enricher:
            report = process_inbox(
                vault, enricher=enricher, settings=Settings(settle_seconds=0, max_attempts=3)
            )
        statuses.append(report.outcomes[0].status)
    assert statuses == ["deferred", "deferred", "partial"]
    assert "500 Internal Server Error for http://" in report.outcomes[0].reason
    assert "(after 3 attempts)" in report.outcomes[0].reason


# --- end to end, on a generated site, inbox and vault --------------------------------


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A vault, an inbox of 60 captures and the site they name, served on 127.0.0.1."""
    tools = tools_or_skip()
    from serve_site import make_server  # type: ignore[import-not-found]

    root = tmp_path_factory.mktemp("generated")
    (root / "site").mkdir()
    server = make_server(str(root / "site"), port=0)
    server.handle_error = lambda request, address: None  # clients closing early are fine
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        subprocess.run(
            [
                sys.executable,
                tools / "make_vault.py",
                "--notes",
                "150",
                "--seed",
                "1",
                root / "vault",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                sys.executable,
                tools / "make_inbox.py",
                "--items",
                "60",
                "--seed",
                "1",
                "--large-mb",
                "0.5",
                "--vault",
                root / "vault",
                "--site",
                root / "site",
                "--base-url",
                server.url.rstrip("/"),
                root / "vault" / "Capture Inbox",
            ],
            check=True,
            capture_output=True,
        )
        cache = root / "cache"
        fetcher = Fetcher(retry_wait=0, timeout=10, cache=cache)
        with fetcher, WebEnricher(fetcher=fetcher) as enricher:
            report = process_inbox(
                root / "vault",
                inbox="Capture Inbox",
                enricher=enricher,
                settings=Settings(settle_seconds=0),
            )
        manifest = json.loads((root / "site" / ".manifest.json").read_text(encoding="utf-8"))
        yield {"root": root, "report": report, "manifest": manifest}
    finally:
        server.shutdown()
        server.server_close()


def test_generated_outcomes_match_the_manifest(generated: dict[str, Any]) -> None:
    outcomes = {Path(o.capture).name: o for o in generated["report"].outcomes}
    expected_status = {
        None: {"created", "partial"},
        "http_404": {"partial"},
        "redirect_loop": {"partial"},
        "not_html": {"partial"},
        "http_500": {"deferred"},
        "empty_file": {"failed"},
        "missing_url": {"partial"},
    }
    items = generated["manifest"]["items"]
    assert set(outcomes) == set(items)
    for name, item in items.items():
        outcome = outcomes[name]
        wanted = (
            {"duplicate"} if item["duplicate_of"] else expected_status[item["expected_failure"]]
        )
        assert outcome.status in wanted, (name, outcome)
        if (
            item["expected_failure"] is None
            and not item["duplicate_of"]
            and item["special"] != "article_gone_feed_ok"
        ):
            assert outcome.status == "created", (name, outcome.reason)
    reasons = {item["expected_failure"]: outcomes[name].reason for name, item in items.items()}
    assert "404 Not Found for http://" in reasons["http_404"]
    assert reasons["redirect_loop"].startswith("redirect loop: ")
    assert "not a web page (application/pdf)" in reasons["not_html"]
    assert "500 Internal Server Error" in reasons["http_500"]


def _notes_by_capture(generated: dict[str, Any]) -> dict[str, Note]:
    root = generated["root"] / "vault"
    return {
        Path(o.capture).name: parse_note((root / o.note).read_text(encoding="utf-8"))
        for o in generated["report"].outcomes
        if o.note and o.status in {"created", "partial"}
    }


def test_generated_articles_are_extracted_cleanly(generated: dict[str, Any]) -> None:
    notes = _notes_by_capture(generated)
    checked = 0
    for name, item in generated["manifest"]["items"].items():
        if name not in notes:
            continue
        note = notes[name]
        pages = {collapse(s.url): s for s in note.sources if s.kind == "article"}
        for fetch in item["fetches"]:
            if fetch["role"] != "article" or fetch["expect"] != "ok" or fetch["url"] not in pages:
                continue
            source = pages[fetch["url"]]
            text = collapse(plain_text(source.text))
            for sentence in fetch["must_include"]:
                assert collapse(sentence) in text, (name, sentence)
            for sentence in fetch["must_not_include"] + fetch["should_not_include"]:
                assert collapse(sentence) not in text, (name, sentence)
            assert source.title == fetch["title"], name
            assert source.author == fetch["author"], name
            assert source.site == fetch["site_name"], name
            assert source.published is not None
            assert source.published.isoformat()[:10] == fetch["date"], (name, fetch.get("traps"))
            checked += 1
    assert checked >= 30


def test_generated_feed_items_are_found(generated: dict[str, Any]) -> None:
    notes = _notes_by_capture(generated)
    for name, item in generated["manifest"]["items"].items():
        feed_info = item.get("feed")
        if not feed_info or name not in notes:
            continue
        (feed,) = sources_of(notes[name], "feed")
        if feed_info["item_present"]:
            assert feed.error == "", name
            assert feed.title == item["title"], name
            note_text = collapse(plain_text(notes[name].to_markdown()))
            for sentence in feed_info["must_include"]:
                assert collapse(sentence) in note_text, (name, sentence)
        else:
            assert "rotated out" in feed.error, name


def test_generated_notes_are_clean(generated: dict[str, Any]) -> None:
    for path in (generated["root"] / "vault" / "Notes").glob("*.md"):
        markdown = path.read_text(encoding="utf-8")
        front = frontmatter_of(markdown)
        assert all(is_valid_tag(str(tag)) for tag in front["tags"] or ()), path
        assert not re.search(r"&(?:#\d+|#x[0-9a-f]+|amp|quot|lt|gt);", markdown), path
        assert "<?xml" not in markdown
        assert "appeared first on" not in markdown


# --- the command line ----------------------------------------------------------------


def test_cli_llm_options_go_together(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from obsidian_inbox._cli import cli

    vault = make_vault(tmp_path, {})
    result = CliRunner().invoke(cli, ["process", str(vault), "--llm-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2
    assert "--llm-url and --llm-model go together" in result.output


def test_cli_no_cache_and_llm(tmp_path: Path, httpserver: HTTPServer, isolated_cache: Path) -> None:
    from click.testing import CliRunner

    from obsidian_inbox._cli import cli

    httpserver.expect_request("/page").respond_with_data(
        page("Bread Baking Basics"), content_type="text/html"
    )
    reply = {
        "summary": "How to bake a first loaf of bread at home.",
        "category": "cooking",
        "tags": [],
    }
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"choices": [{"message": {"role": "assistant", "content": json.dumps(reply)}}]}
    )
    vault = make_vault(
        tmp_path, {"20250901_090000_link_b.txt": f"Link: {httpserver.url_for('/page')}\n"}
    )
    args = ["process", str(vault), "--no-cache", "--json", "--concurrency", "2"]
    args += ["--llm-url", httpserver.url_for("/v1"), "--llm-model", "m"]
    result = CliRunner().invoke(cli, args, env={"OBSIDIAN_INBOX_LLM_URL": None})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (capture,) = data["captures"]
    assert capture["outcome"] == "created"
    written = parse_note((vault / capture["note"]).read_text(encoding="utf-8"))
    assert written.summary == "How to bake a first loaf of bread at home."
    assert written.category == "cooking"
    assert list(isolated_cache.iterdir()) == []


def test_a_feed_name_with_a_pipe_still_makes_a_note(tmp_path: Path) -> None:
    # Found by the corpus tier: "craigslist SF bay area | apts/housing for rent search".
    text = "RSS Feed: Site | Section [beta]\nSource: https://x.example/feed\nLink: https://x.example/a\n\nA\n"
    note = parse_inbox_file(write_capture(tmp_path, "20250901_080000_rss_a.txt", text))
    assert note.connections == ("Site - Section (beta)",)


def test_a_link_to_a_feed(tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        rss(("A", "http://x.example/a")), content_type="application/rss+xml"
    )
    note = enricher(
        link_capture(tmp_path, httpserver.url_for("/feed"), "Subscribe to this one.")
    ).note
    (feed,) = sources_of(note, "feed")
    assert feed.title == feed.site == "Local Weekly"
    assert note.status == "draft"


def test_a_feed_url_that_serves_a_file(
    tmp_path: Path, httpserver: HTTPServer, enricher: WebEnricher
) -> None:
    article = httpserver.url_for("/2025/09/page/")
    httpserver.expect_request("/feed").respond_with_data(
        b"%PDF-1.4", content_type="application/pdf"
    )
    httpserver.expect_request("/2025/09/page/").respond_with_data(
        page("Page"), content_type="text/html"
    )
    note = enricher(rss_capture(tmp_path, httpserver.url_for("/feed"), article, "Page")).note
    assert sources_of(note, "feed")[0].error == "not a feed (application/pdf)"
    assert note.status == "draft"


def test_offline_with_only_the_page_cached(
    tmp_path: Path, httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    article = httpserver.url_for("/2025/09/cached/")
    httpserver.expect_request("/2025/09/cached/").respond_with_data(
        page("Cached"), content_type="text/html"
    )
    make_fetcher().fetch(article)
    with WebEnricher(fetcher=make_fetcher(offline=True)) as enricher:
        result = enricher(rss_capture(tmp_path, httpserver.url_for("/feed"), article, "Cached"))
    (feed,) = sources_of(result.note, "feed")
    assert feed.fetched_at is None
    assert feed.error == ""
    assert sources_of(result.note, "article")[0].title == "Cached"
    assert result.note.status == "draft"
    assert repr(enricher).startswith("WebEnricher(fetcher=Fetcher(")
