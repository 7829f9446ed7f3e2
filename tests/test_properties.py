"""Property tests: the invariants that must hold for every input."""

from __future__ import annotations

from hypothesis import given, settings

from obsidian_inbox import Note
from obsidian_inbox._markdown import format_document, normalize_markdown
from obsidian_inbox._render import verify_rendered

from . import strategies

SETTINGS = settings()


@SETTINGS
@given(strategies.notes)
def test_note_round_trips_through_markdown(note: Note) -> None:
    assert Note.from_markdown(note.to_markdown()) == note


@SETTINGS
@given(strategies.markdown_text)
def test_markdown_normalisation_is_a_fixed_point(text: str) -> None:
    once = normalize_markdown(text)
    assert normalize_markdown(once) == once


@SETTINGS
@given(strategies.notes)
def test_rendered_note_is_already_formatted(note: Note) -> None:
    markdown = note.to_markdown()
    assert format_document(markdown) == markdown


@SETTINGS
@given(strategies.plain_notes)
def test_plain_notes_take_the_fast_checks_and_still_round_trip(note: Note) -> None:
    markdown = note.to_markdown()
    verify_rendered(note, markdown)  # the shortcuts: no YAML re-read, no body re-parse
    assert Note.from_markdown(markdown) == note  # the full check agrees
    assert format_document(markdown) == markdown
