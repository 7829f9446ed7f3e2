"""Rendering notes to Markdown and reading them back, including notes users edited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from obsidian_inbox import Note, NoteFormatError, Source, parse_note, render_note
from obsidian_inbox._markdown import format_document
from obsidian_inbox._render import _HANDLER, _Dumper, _frontmatter, _simple_events

from . import strategies

SEED = (
    Path(__file__).parents[1].parent
    / "shared"
    / "examples"
    / "seed-note-how-to-become-an-ml-engineer.md"
)


def _note() -> Note:
    return Note(
        title="A *title* with [[brackets]] & `code` #1",
        category="development",
        created=dt.datetime(2025, 9, 18, 11, 49, 49),
        tags=["python", "ml/engineering"],
        url="https://a.example/x_y?z=1",
        properties={
            "rating": 4.5,
            "when": dt.date(2025, 1, 1),
            "people": ["[[Ana]]"],
            "yes": "yes",
        },
        summary="Short.",
        content="Text with a [link](https://a.example) and\n\n```python\n## not a heading\n```",
        sources=[
            Source(
                url="https://a.example/feed",
                kind="feed",
                title="Item: *x*",
                author="Ana",
                site="A",
                published=dt.datetime(2025, 9, 15, 8, 0),
                fetched_at=dt.datetime(2025, 9, 18, 12, 0),
                text="Feed text",
            ),
            Source(url="https://a.example/x_y?z=1", error="404 Not Found"),
        ],
        connections=["Ana", "Projects/Atlas"],
    )


def test_round_trip_of_a_rich_note() -> None:
    note = _note()
    markdown = render_note(note)
    assert parse_note(markdown) == note
    assert format_document(markdown) == markdown  # already in mdformat's canonical form


def test_frontmatter_order_and_yaml_types() -> None:
    markdown = render_note(_note())
    keys = [
        line.split(":")[0]
        for line in markdown.split("---")[1].splitlines()
        if line and not line.startswith(("-", " "))
    ]
    assert keys[:8] == [
        "type",
        "category",
        "created",
        "modified",
        "tags",
        "status",
        "source",
        "original_file",
    ]
    assert keys[8:] == ["url", "rating", "when", "people", "'yes'"]
    assert "created: 2025-09-18T11:49:49\n" in markdown
    assert "'yes': 'yes'\n" in markdown  # quoted, so YAML 1.1 readers keep strings strings
    assert "- '[[Ana]]'" in markdown


def test_code_and_headings_inside_sections_do_not_break_the_structure() -> None:
    note = Note(title="x", content="# Top\n\n## summary\n\n```\n## connections\n```")
    assert note.content.startswith("### Top")
    assert parse_note(render_note(note)) == note


def test_reading_the_old_seed_note() -> None:
    if not SEED.exists():
        pytest.skip(f"{SEED} is not here (it lives in ../shared/examples)")
    note = parse_note(SEED.read_text(encoding="utf-8"))
    assert note.title == "How to Become a Machine Learning Engineer (Step-by-Step)"
    assert note.created == dt.datetime(2025, 9, 18, 11, 56)
    assert note.tags == ("machine-learning", "programming")
    assert [s.url for s in note.sources] == [
        "https://towardsdatascience.com/feed",
        "https://towardsdatascience.com/dont-follow-generic-ml-engineer-roadmaps-do-this-instead-2/",
    ]


def test_user_edited_note_is_read_leniently() -> None:
    text = """---
created: yesterday
tags: one, two
cssclass: wide
---
Intro the user wrote before the title.

# My title

## My own section

Thoughts.

## summary

S.

## connections

- [[A]] and some text
- plain text
"""
    note = parse_note(text)
    assert note.title == "My title"
    assert note.created is None
    assert note.tags == ("one", "two")
    assert note.properties == {"cssclass": "wide"}
    assert note.summary == "S."
    assert note.connections == ("A",)
    assert ("My own section", "Thoughts.") in note.extra_sections
    assert ("", "Intro the user wrote before the title.") in note.extra_sections
    assert parse_note(render_note(note)) == note


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntags: [unclosed\n---\n# T\n", "invalid YAML frontmatter"),
        ("---\n- a list\n---\n# T\n", "not a mapping"),
        ("no title here\n", "no '# title' heading"),
    ],
)
def test_unreadable_notes_raise_note_format_error(text: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        parse_note(text, path="Notes/x.md")


def test_note_without_heading_can_take_its_title_from_the_file_name() -> None:
    assert parse_note("Just text.\n", title="File name").title == "File name"


def test_crlf_and_bom_are_read() -> None:
    text = "\ufeff" + render_note(_note()).replace("\n", "\r\n")
    assert parse_note(text) == _note()


# --- the YAML dumper's shortcuts change nothing ---------------------------------------------

_tricky_text = st.sampled_from(
    [
        "true",
        "No",
        "~",
        "null",
        "",
        "123",
        "0x1F",
        "1e3",
        ".nan",
        "2025-09-18",
        "12:30",
        "- a",
        "a: b",
    ]
)


_simple_values = st.one_of(
    st.none(),
    st.text(),
    _tricky_text,
    strategies.datetimes,
    st.lists(st.text(max_size=12) | _tricky_text, max_size=4),
    strategies.yaml_values,  # also what the events do not cover: the dumper then
)


@given(st.lists(st.dictionaries(st.text(max_size=12), _simple_values, max_size=8), max_size=4))
def test_frontmatter_events_give_what_the_dumper_gives(documents: list[dict[str, Any]]) -> None:
    """The events handed to the emitter for a note's frontmatter make the dumper's YAML
    (several documents in a row: the events remembered from earlier ones are used)."""
    for document in documents:
        plain = yaml.dump(document, Dumper=_Dumper, **_RENDER_OPTIONS_PLAIN).rstrip("\n")
        assert _HANDLER.export(document, **_RENDER_KWARGS) == plain


_RENDER_KWARGS: dict[str, Any] = {"Dumper": _Dumper, "sort_keys": False, "width": 2**31 - 1}
_RENDER_OPTIONS_PLAIN: dict[str, Any] = {
    "sort_keys": False,
    "width": 2**31 - 1,
    "default_flow_style": False,
    "allow_unicode": True,
}


def test_the_events_serve_what_render_note_writes() -> None:
    note = Note(title="t", tags=["a", "b"], created=dt.datetime(2025, 1, 2, 3, 4, 5), url="")
    assert _simple_events(_frontmatter(note)) is not None
    assert _simple_events({"rating": 5}) is None  # a number: the dumper writes it
