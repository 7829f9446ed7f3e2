"""Hypothesis strategies for captures, notes, titles and Markdown bodies."""

from __future__ import annotations

import datetime as dt
import string

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
    st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=15
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
