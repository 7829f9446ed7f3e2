"""Property tests: the invariants that must hold for every input."""

from __future__ import annotations

import pytest
from hypothesis import given

from obsidian_inbox import Note
from obsidian_inbox._markdown import format_document, normalize_markdown
from obsidian_inbox._render import verify_rendered

from . import strategies

# Fuzz targets: nox -s fuzz runs them with FUZZ_EXAMPLES examples each (no @settings here,
# or the profile's max_examples would be overridden).
pytestmark = pytest.mark.fuzz


@given(strategies.notes)
def test_note_round_trips_through_markdown(note: Note) -> None:
    assert Note.from_markdown(note.to_markdown()) == note


@given(strategies.markdown_text)
def test_markdown_normalisation_is_a_fixed_point(text: str) -> None:
    once = normalize_markdown(text)
    assert normalize_markdown(once) == once


@given(strategies.notes)
def test_rendered_note_is_already_formatted(note: Note) -> None:
    markdown = note.to_markdown()
    assert format_document(markdown) == markdown


@given(strategies.plain_notes)
def test_plain_notes_take_the_fast_checks_and_still_round_trip(note: Note) -> None:
    markdown = note.to_markdown()
    verify_rendered(note, markdown)  # the shortcuts: no YAML re-read, no body re-parse
    assert Note.from_markdown(markdown) == note  # the full check agrees
    assert format_document(markdown) == markdown
