"""Property tests of the linker: links only in prose, idempotent, canonical Markdown kept."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import pytest
from hypothesis import example, given, reject
from markdown_it.token import Token

from obsidian_inbox import LinkOptions, Note, NoteInfo, Source, VaultIndex, VaultLinker
from obsidian_inbox._links import (
    _Candidate,
    _longest_first,
    _plain_block,
    _reading,
    _replace,
    _Structure,
)
from obsidian_inbox._markdown import normalize_markdown, parser
from obsidian_inbox._urls import find_urls

from . import strategies

# Fuzz targets: nox -s fuzz runs them with FUZZ_EXAMPLES examples each (no @settings here,
# or the profile's max_examples would be overridden).
pytestmark = pytest.mark.fuzz

INDEX = VaultIndex(
    [NoteInfo(f"Notes/{title}.md", title) for title in strategies.vault_titles]
    + [NoteInfo("Archive/Index.md", "Index"), NoteInfo("Notes/Other.md", "Other", aliases=("ML",))]
)
LINKER = VaultLinker(INDEX)
EVERY = VaultLinker(INDEX, options=LinkOptions(first_only=False))


def canonical(text: str) -> str:
    """``normalize_markdown(text)``; inputs that crash mdformat-gfm are rejected.

    mdformat-gfm 1.0 fails an assertion on an empty task item followed by a lazy
    continuation line (``"- [x]\\nword"``): a bug of the formatter, not of linking.
    """
    try:
        return normalize_markdown(text)
    except AssertionError:
        reject()


def _walk(tokens: Iterable[Token]) -> Iterable[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def protected(text: str) -> list[tuple[str, str]]:
    """Everything of a text that is not prose: code, HTML, frontmatter, headings, tables, links."""
    found: list[tuple[str, str]] = []
    tokens = parser().parse(text)
    context: list[str] = []
    for token in tokens:
        if token.nesting == 1:
            context.append(token.type)
        elif token.nesting == -1 and context:
            context.pop()
        if token.type in {"fence", "code_block", "html_block", "front_matter"}:
            found.append((token.type, token.content))
        if token.type == "inline" and any(c.startswith(("heading", "th", "td")) for c in context):
            found.append(("heading or table", token.content))
        if token.type == "inline":
            depth = 0
            for child in _walk(token.children or ()):
                if child.type in {"code_inline", "html_inline", "image"}:
                    found.append((child.type, child.content))
                if child.type == "link_open":
                    depth += 1
                    found.append(("href", str(child.attrs.get("href"))))
                elif child.type == "link_close":
                    depth -= 1
                elif depth and child.type in {"text", "wikilink"}:
                    found.append(("link text", child.content))
    return found


def prose_wikilinks(text: str) -> int:
    tokens = parser().parse(text)
    count = 0
    for index, token in enumerate(tokens):
        if token.type == "inline" and index and tokens[index - 1].type == "paragraph_open":
            depth = 0
            for child in token.children or ():
                depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
                count += child.type == "wikilink" and not depth
    return count


@given(strategies.mention_markdown)
@example("`Gradient Descent` Gradient Descent")
@example("[Index](http://a.b) and ML")
@example("---\ntitle: Index\n---\nIndex")
@example("Gradient Descent\n| Gradient Descent | b |\n|---|---|\n| x | d |\n---\nt: Index\n---\n")
@example("`Gradient Descent`**Gradient Descent**Gradient Descent")
@example("gradient descent [[Gradient Descent]]Gradient Descent")
@example("---Gradient Descent\n```\nGradient Descent\n```\n---")  # not frontmatter: text
def test_links_land_only_in_prose(text: str) -> None:
    for linker in (LINKER, EVERY):
        linked, mentions = linker.link_text(text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        assert all(text[m.start : m.end] == m.text for m in mentions)
        # the links replace exactly the words they were made from, and nothing else changed
        rebuilt, shift = linked, 0
        for mention in mentions:
            link, start = mention.wikilink(), mention.start + shift
            assert rebuilt[start : start + len(link)] == link
            rebuilt = rebuilt[:start] + mention.text + rebuilt[start + len(link) :]
        assert rebuilt == text
        # every link reads as a link, in a paragraph; code, HTML, frontmatter, headings,
        # tables and links read exactly as before; URLs are untouched
        assert prose_wikilinks(linked) == prose_wikilinks(text) + len(mentions)
        assert protected(linked) == protected(text)
        assert set(find_urls(text)) <= set(find_urls(linked))


@given(strategies.mention_markdown)
def test_linking_is_idempotent(text: str) -> None:
    for linker in (LINKER, EVERY):
        once, _ = linker.link_text(text)
        assert linker.link_text(once) == (once, [])


@given(strategies.mention_markdown)
def test_canonical_markdown_stays_canonical(text: str) -> None:
    linked, _ = LINKER.link_text(canonical(text))
    assert normalize_markdown(linked) == linked


@given(strategies.titles, strategies.mention_markdown, strategies.mention_markdown)
def test_linked_notes_round_trip(title: str, summary: str, content: str) -> None:
    note = Note(
        title=title,
        summary=canonical(summary),
        content=canonical(content),
        sources=[Source(url="https://a.example/", site="Zürich", text=canonical(summary))],
    )
    linked = LINKER.link_note(note)
    assert Note.from_markdown(linked.to_markdown()) == linked
    assert LINKER.link_note(linked) == linked


def _parsed_check(block: str, links: list[_Candidate]) -> bool:
    """The linker's check, always with markdown-it (no plain-block shortcut)."""
    linked = _replace(block, 0, links)
    for tables in (True, False):
        html, prose = _reading(block, tables)
        new_html, new_prose = _reading(linked, tables)
        if new_prose != prose + len(links) or new_html != html:
            return False
    return True


@given(strategies.mention_markdown)
@example("**Gradient Descent** and Gradient Descent")
@example("a Gradient Descent(x)")
def test_blocks_taken_as_plain_need_no_parse(text: str) -> None:
    """Where the linker skips markdown-it (plain blocks), markdown-it agrees."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    structure = _Structure(text)
    for candidate in _longest_first(LINKER._candidates(text, frozenset())):
        if candidate.info is None or not structure.allows(candidate.start, candidate.end):
            continue
        begin, end = structure.block(candidate.start)
        moved = [attrs.evolve(candidate, start=candidate.start - begin, end=candidate.end - begin)]
        if _plain_block(text[begin:end], 0, moved):
            assert _parsed_check(text[begin:end], moved), (text[begin:end], candidate)
