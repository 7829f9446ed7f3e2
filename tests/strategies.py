"""Hypothesis strategies for captures, notes, titles and Markdown bodies."""

from __future__ import annotations

import datetime as dt
import string
from typing import Literal

from hypothesis import strategies as st

from obsidian_inbox import Note, Source
from obsidian_inbox._markdown import one_line
from obsidian_inbox._note import KNOWN_KEYS

# Text that stresses Markdown: every ASCII punctuation character, spaces, a few letters,
# accents, emoji and look-alikes of the syntax notes use.
_ALPHABET = st.sampled_from(
    [
        *(string.ascii_letters[:8] + string.digits[:3] + string.punctuation + "  "),
        *["é", "ß", "Ω", "—", "’", "🙂", "\u0301", "\t"],
    ]
)
_FRAGMENTS = st.sampled_from(
    [
        "[[Note]]",
        "[[a|b]]",
        "![[img.png]]",
        "`code`",
        "**bold**",
        "*em*",
        "_u_",
        "~~s~~",
        "#tag",
        "# ",
        "## summary",
        "## connections",
        "## Scraped from http://x.y",
        "---",
        "***",
        "> ",
        "> [!info] x",
        "- ",
        "1. ",
        "2) ",
        "+ ",
        "* ",
        "- [ ] ",
        "```",
        "~~~",
        "    ",
        "<div>",
        "</div>",
        "<!--",
        "-->",
        "<pre>",
        "<script>",
        "&amp;",
        "&#8217;",
        "&nbsp;",
        "[x]: http://a.b",
        "[x]",
        "[t](http://a.b)",
        "<http://a.b>",
        "http://a.b/c_d",
        "| a | b |",
        "|---|---|",
        "\\",
        "\\#",
        "===",
        "$$",
        "%%",
        "^block",
        "\r\n",
        "\u2028",
    ]
)
markdown_text = st.lists(
    st.one_of(_FRAGMENTS, st.text(_ALPHABET, max_size=12), st.just("\n"), st.just("\n\n")),
    max_size=25,
).map("".join)

_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
one_line_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40
)
titles = one_line_text.filter(lambda s: one_line(s) != "")

_simple_datetimes = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)
).map(lambda d: d.replace(microsecond=0))
datetimes = st.one_of(
    _simple_datetimes,
    _simple_datetimes.map(lambda d: d.replace(tzinfo=dt.timezone.utc)),
    _simple_datetimes.map(lambda d: d.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1))

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    one_line_text,
    st.text(max_size=30),
    dates,
    _simple_datetimes,
)
yaml_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=6), inner, max_size=4),
    ),
    max_leaves=8,
)
property_keys = st.text(
    st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=15
).filter(lambda k: k not in KNOWN_KEYS)

urls = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8),
    st.text(string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?", max_size=20),
)
link_targets = one_line_text.filter(lambda s: one_line(s) != "" and not any(c in s for c in "[]|"))

sources = st.builds(
    Source,
    url=urls,
    kind=st.sampled_from(["feed", "article", "attachment"]),
    title=one_line_text,
    author=one_line_text,
    site=one_line_text,
    published=st.one_of(st.none(), dates, datetimes),
    fetched_at=st.one_of(st.none(), datetimes),
    error=one_line_text,
    text=markdown_text,
)

notes = st.builds(
    Note,
    title=titles,
    type=one_line_text,
    category=one_line_text,
    created=st.one_of(st.none(), datetimes),
    modified=st.one_of(st.none(), datetimes),
    tags=st.lists(one_line_text, max_size=4),
    status=one_line_text,
    source=one_line_text,
    original_file=one_line_text,
    url=st.one_of(st.just(""), urls),
    capture_id=st.text(string.hexdigits, max_size=16),
    captured=st.one_of(st.none(), datetimes),
    fetched_at=st.one_of(st.none(), datetimes),
    status_reason=one_line_text,
    properties=st.dictionaries(property_keys, yaml_values, max_size=3),
    summary=markdown_text,
    content=markdown_text,
    sources=st.lists(sources, max_size=2),
    connections=st.lists(link_targets, max_size=3),
)


# Plain prose, as most captures are: words, URLs, #tags, punctuation, simple lists.
_plain_word = st.one_of(
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
    st.sampled_from(
        ["café", "東京", "🙂", "it’s", "“quoted”", "—", "C#", "a_b", "x.", "(y)", "#tag", "50%"]
    ),
    urls,
)
_plain_line = st.lists(_plain_word, min_size=1, max_size=8).map(" ".join)
plain_text = st.lists(
    st.one_of(_plain_line, _plain_line.map(lambda line: "- " + line), st.just("")), max_size=8
).map("\n".join)

plain_notes = st.builds(
    Note,
    title=_plain_line,
    category=st.sampled_from(["", "development", "reading"]),
    created=st.one_of(st.none(), datetimes),
    tags=st.lists(st.sampled_from(["python", "ml/engineering", "coffee", "b", "1-1"]), max_size=3),
    url=st.one_of(st.just(""), urls),
    capture_id=st.text(string.hexdigits, max_size=16),
    properties=st.dictionaries(
        st.sampled_from(["project", "rating", "aliases", "when"]),
        st.one_of(_plain_line, st.integers(), st.lists(_plain_line, max_size=2), dates),
        max_size=2,
    ),
    summary=plain_text,
    content=plain_text,
    sources=st.lists(st.builds(Source, url=urls, title=_plain_line, text=plain_text), max_size=2),
    connections=st.lists(link_targets, max_size=2),
)


# --- enrichment ------------------------------------------------------------------------

#: Text made of characters windows-1252 can encode (curly quotes, dashes, accents, €).
cp1252_text = st.text(
    st.sampled_from(
        list(string.ascii_letters + string.digits + " .,;:!?-'\"()&") + list("’‘“”—–€éèàçÉñüöß…™©")
    ),
    max_size=60,
)

_TRACKING = st.sampled_from(
    ["utm_source=rss", "utm_medium=feed", "utm_campaign=x-y", "fbclid=abc", "gclid=1", "mc_cid=z"]
)
_path = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)


def _variant(
    host: str, path: str, kept: list[str], tracking: list[str], upper: bool, fragment: bool
) -> tuple[str, str]:
    link = f"https://{host}.example/{path}/" + (f"?{'&'.join(kept)}" if kept else "")
    query = "&".join([*kept, *tracking])
    captured = f"https://{host.upper() if upper else host}.example/{path}/" + (
        f"?{query}" if query else ""
    )
    return link, captured + ("#comments" if fragment else "")


#: (a feed item's link, the same page's URL as a capture names it: tracking parameters,
#: upper-case host, a fragment).
tracking_variants = st.builds(
    _variant,
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
    _path,
    st.lists(st.sampled_from(["id=3", "p=601099", "page=2"]), max_size=1, unique=True),
    st.lists(_TRACKING, max_size=3, unique=True),
    st.booleans(),
    st.booleans(),
)

_ELEMENT = st.sampled_from(
    [
        "p",
        "div",
        "span",
        "em",
        "strong",
        "a",
        "h2",
        "li",
        "ul",
        "pre",
        "code",
        "table",
        "td",
        "blockquote",
        "iframe",
        "object",
        "style",
        "script",
        "img",
        "svg",
    ]
)
_ATTRIBUTE = st.sampled_from(
    [
        "",
        ' href="javascript:evil()"',
        ' href="JaVaScRiPt:evil()"',
        ' href=" javascript:evil()"',
        ' href="data:text/html,evil()"',
        ' href="https://ok.example/"',
        ' onclick="evil()"',
        ' src="javascript:evil()"',
        ' style="x"',
    ]
)
_TEXT = st.sampled_from(
    [
        "text",
        "evil() is not text",
        "a &lt;b&gt; c",
        "&amp;",
        "&#8217;",
        "<",
        ">",
        "&",
        "**",
        "_",
        "[x]",
        "# h",
        "- l",
        "1. n",
        "`",
        "|",
        " ",
    ]
)


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(_ELEMENT)
            inner = draw(_fragment(depth + 1))
            if tag == "script":
                inner = "evil()"
            parts.append(f"<{tag}{draw(_ATTRIBUTE)}>{inner}</{tag}>")
        else:
            text = draw(_TEXT)
            parts.append("" if text == "evil() is not text" else text)
    return "".join(parts)


#: HTML fragments as feeds hold them: nested tags, dangerous attributes, entities, Markdown look-alikes.
html_fragments = _fragment()
# --- vault titles and text that mentions them ----------------------------------------

#: Note titles for linking tests: prefixes of each other, punctuation, accents, an
#: acronym, Markdown syntax inside, a name two notes share.
vault_titles = (
    "Gradient Descent",
    "Stochastic Gradient Descent",
    "Machine Learning",
    "Machine Learning Engineer",
    "CRISPR",
    "C++ Templates",
    "Zürich",
    "Straße",
    "Don't Make Me Think",
    "Mercury (Planet)",
    "snake_case",
    "x*y",
    "Index",
)
_mention = st.sampled_from(
    [
        *vault_titles,
        "gradient descent",
        "MACHINE LEARNING",
        "crispr",
        "STRASSE",
        "Don’t Make Me Think",
    ]
)
_PLACES = st.sampled_from(
    [
        "{}",
        "{} ",
        " {}.",
        "`{}`",
        "``{}``",
        "[{}](http://a.b)",
        "![{}](x.png)",
        "[[{}]]",
        "[[x|{}]]",
        "![[{}]]",
        "http://a.b/{}",
        "www.{}.org",
        "<http://a.b/{}>",
        "<span>{}</span>",
        "# {}\n",
        "\n## {}\n",
        "\n{}\n===\n",
        "**{}**",
        "*{}*",
        "_{}_",
        "~~{}~~",
        "#{}",
        "${}$",
        "%%{}%%",
        "\n```\n{}\n```\n",
        "\n    {}\n",
        "\n> {}\n",
        "\n- {}\n",
        "\n| {} | b |\n|---|---|\n| {} | d |\n",
        "!{}",
        "[{}]",
        "\\{}",
        "a{}b",
        "{}'s",
    ]
)
mention_markdown = st.lists(
    st.one_of(
        st.builds(lambda place, name: place.replace("{}", name), _PLACES, _mention),
        markdown_text,
        st.sampled_from(["\n", "\n\n", " ", ". ", "---\ntitle: Index\n---\n"]),
    ),
    max_size=12,
).map("".join)
