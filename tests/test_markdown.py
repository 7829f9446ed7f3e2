"""The Markdown normaliser: canonical form, section safety and the plain-text fast path."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from obsidian_inbox._markdown import (
    BODY_EXTENSIONS,
    _format,
    _normalize_slowly,
    _plain_paragraphs,
    format_line,
    inline_plain_text,
    is_plain_inline,
    normalize_markdown,
    parser,
    plain_prose_text,
)

from . import strategies

SETTINGS = settings()

# Prose of the kind captures hold: words in several scripts, URLs, #tags, e-mail addresses
# and every punctuation character the fast path accepts, in awkward places.
_word = st.one_of(
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
    st.sampled_from(["café", "Ωmega", "naïve", "東京", "🙂", "’s", "“quoted”", "—", "€5", "x̌"]),
    st.builds(
        lambda host, path: f"https://{host}.example/{path}",
        st.text(string.ascii_lowercase, min_size=1, max_size=5),
        st.text(string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?#", max_size=15),
    ),
    st.builds(lambda t: f"#{t}", st.text(string.ascii_letters + "_-/", min_size=1, max_size=6)),
    st.sampled_from(list(".,;:?!'\"()-/%@+=#&_")),
    st.sampled_from(
        ["1.", "2)", "10.", "a_b", "a_", "_a", "&amp;", "&x", "C#", "a#b", "www.x.org"]
    ),
    st.builds(
        lambda bang, target, alias, after: f"{bang}[[{target}{alias}]]{after}",
        st.sampled_from(["", "", "!"]),
        st.text(string.ascii_letters + " _*&#^/.-é", min_size=1, max_size=10),
        st.sampled_from(["", "|shown", "|a b", "|x_y", "|[", "|300"]),
        st.sampled_from(["", "", "(b)", "[x]", "_", "s", ":"]),
    ),
)
_line = st.lists(_word, min_size=1, max_size=8).map(" ".join) | st.lists(_word, max_size=5).map(
    "".join
)
_item = st.builds(
    lambda marker, line: marker + line,
    st.sampled_from(["- ", "-", "* ", "+ ", "1. ", "- - "]),
    _line,
)
plain_looking = st.lists(st.one_of(_line, _item, _item, st.just("")), min_size=1, max_size=8).map(
    "\n".join
)


@SETTINGS
@given(st.one_of(plain_looking, strategies.markdown_text))
@example("a  b")
@example("see https://x.example/a_b_c_, ok")
@example("Reading:\n- https://a.example/one\n- https://b.example/two\n\nAlso: https://c.example #x")
@example("- a\n\n- b")
@example("- a\nlazy continuation")
@example("- ")
def test_fast_path_agrees_with_mdformat(text: str) -> None:
    paragraphs = _plain_paragraphs(text.strip("\n"))
    if paragraphs is not None and text.strip():
        assert "\n\n".join(paragraphs) == _normalize_slowly(text.strip("\n"))


@SETTINGS
@given(st.one_of(plain_looking, strategies.markdown_text))
@example("a\n- b\n\n- c")
def test_the_blocks_of_a_normalised_plain_text_are_its_own(text: str) -> None:
    """What lets normalisation remember the blocks of its result without reading it again."""
    paragraphs = _plain_paragraphs(text.strip("\n"))
    if paragraphs is not None:
        assert _plain_paragraphs("\n\n".join(paragraphs)) == paragraphs


@SETTINGS
@given(st.one_of(plain_looking, strategies.markdown_text))
@example("![[x]] and [[a|b]]")
@example("a\nb\n\n- c\n- d\n\ne")
@example("x\n\n\n\ny")
def test_plain_text_fast_path_agrees_with_markdown_it(text: str) -> None:
    from obsidian_inbox._extract import _parsed_plain_text

    fast = plain_prose_text(text)
    if fast is not None:
        assert fast == _parsed_plain_text(text)


@SETTINGS
@given(st.one_of(plain_looking, strategies.one_line_text))
def test_inline_fast_path_agrees_with_mdformat(value: str) -> None:
    value = " ".join(value.split())
    if value and is_plain_inline(value):
        for prefix in ("# ", "## Scraped from ", "- title: "):
            assert (
                _format(prefix + value + "\n", ("gfm", "wikilink")).rstrip("\n") == prefix + value
            )


@SETTINGS
@given(strategies.one_line_text)
def test_format_line_reads_back_literally(value: str) -> None:
    value = " ".join(value.split())
    if value:
        tokens = parser().parse(format_line("# ", value))
        assert inline_plain_text(tokens[1].children) == value


@SETTINGS
@given(strategies.markdown_text)
def test_normalised_body_never_breaks_the_sections_after_it(text: str) -> None:
    body = normalize_markdown(text)
    tokens = parser().parse(body + "\n\n## connections\n")
    headings = [t for t in tokens if t.type == "heading_open" and t.level == 0]
    assert headings, "the section heading after the body was swallowed"
    assert headings[-1].tag == "h2"
    assert all(t.tag not in {"h1", "h2"} for t in headings[:-1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("  \n\n ", ""),
        ("Line one\nLine two\n\n\n\nPara two", "Line one\nLine two\n\nPara two"),
        ("# Big\n\ntext\n\n## Smaller", "### Big\n\ntext\n\n#### Smaller"),
        ("### Already deep", "### Already deep"),
        ("Title\n=====\n\nbody", "### Title\n\nbody"),
        (
            "[ref] and [y][ref]\n\n[ref]: http://a.example",
            "[ref](http://a.example) and [y](http://a.example)",
        ),
        ("1) a\n2) b", "1. a\n2. b"),
        ("it&#8217;s", "it’s"),
        ("```\nunclosed fence", "```\nunclosed fence\n```"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("- [ ] task\n- [x] done", "- [ ] task\n- [x] done"),
        ("See [[Note]] and ![[img.png|300]]", "See [[Note]] and ![[img.png|300]]"),
    ],
)
def test_normalize_markdown_examples(text: str, expected: str) -> None:
    assert normalize_markdown(text) == expected


@pytest.mark.parametrize(
    "opener",
    ["<!-- never closed", "<pre>\nnever closed", "<script>\nx = 1", "- [ ]\n  never closed"],
)
def test_what_mdformat_cannot_format_is_kept_as_code(opener: str) -> None:
    body = normalize_markdown(opener + "\n\nmore text")
    assert body.startswith("```")
    assert "never closed" in body or "x = 1" in body
    assert _format(body + "\n", BODY_EXTENSIONS).rstrip("\n") == body


@pytest.mark.parametrize(
    ("text", "frontmatter"),
    [
        ("---\na: 1\n---\nx", True),
        ("--- \t\na: 1\n---\nx", True),
        ("---a: 1\nb\n---\nx", False),  # Obsidian reads "---text" as text, not as frontmatter
        ("---Gradient Descent\n```\ncode\n```\n---", False),
        ("x\n---\na: 1\n---", False),  # only on the first line
    ],
)
def test_frontmatter_opens_only_with_dashes_alone_on_the_first_line(
    text: str, frontmatter: bool
) -> None:
    assert (parser().parse(text)[0].type == "front_matter") is frontmatter
