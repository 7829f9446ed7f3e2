"""The Note and Source model: converters give canonical values, validators refuse bad ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obsidian_inbox import Note, Source
from obsidian_inbox._note import evolve

from . import strategies


def test_fields_are_cleaned_into_canonical_form() -> None:
    note = Note(
        title="  Two\nlines\t title ",
        tags=["#machine learning", "Machine-Learning", "2025", "ok"],
        created="2025-09-18 11:56",
        connections=["[[Towards Data Science]]", "Towards Data Science", "Other"],
        summary="it&#8217;s *fine*",
    )
    assert note.title == "Two lines title"
    assert note.tags == ("machine-learning", "ok")
    assert note.created == dt.datetime(2025, 9, 18, 11, 56)
    assert note.connections == ("Towards Data Science", "Other")
    assert note.summary == "it’s *fine*"


def test_evolve_keeps_the_note_canonical_and_frozen() -> None:
    note = Note(title="x", content="# Heading\n\ntext")
    assert note.content == "### Heading\n\ntext"
    changed = attrs.evolve(note, summary="more")
    assert changed.content == note.content
    assert changed.summary == "more"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        note.title = "y"  # type: ignore[misc]


def test_timestamps_drop_sub_seconds_and_accept_dates() -> None:
    note = Note(
        title="x", created=dt.datetime(2025, 1, 2, 3, 4, 5, 678), modified=dt.date(2025, 1, 2)
    )
    assert note.created == dt.datetime(2025, 1, 2, 3, 4, 5)
    assert note.modified == dt.datetime(2025, 1, 2)
    assert Source(url="https://a.example/", published="2025-09-15").published == dt.date(
        2025, 9, 15
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": ""}, "title must not be empty"),
        ({"title": "x", "url": "https://a.example/with space"}, "must not contain whitespace"),
        ({"title": "x", "connections": ["a|b"]}, "cannot contain"),
        ({"title": "x", "properties": {"tags": ["a"]}}, "these keys are Note fields"),
    ],
)
def test_invalid_notes_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Note(**kwargs)  # type: ignore[arg-type]


def test_invalid_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="url must not be empty"):
        Source(url="")
    with pytest.raises(ValueError, match="kind"):
        Source(url="https://a.example/", kind="video")  # type: ignore[arg-type]


def test_properties_become_plain_yaml_values() -> None:
    note = Note(title="x", properties={"aliases": ("a", "b"), "nested": {"t": (1, 2)}})
    assert note.properties == {"aliases": ["a", "b"], "nested": {"t": [1, 2]}}


def test_markdown_repr_shows_the_note_for_notebooks() -> None:
    shown = Note(title="Hello", tags=["a"], summary="Hi")._repr_markdown_()
    assert "| tags | #a |" in shown
    assert "# Hello" in shown
    assert "---" not in shown.split("# Hello")[0].splitlines()[0]


# --- evolve: attrs.evolve, converting only what changes ------------------------------------

_note_changes = st.fixed_dictionaries(
    {},
    optional={
        "title": st.text(max_size=20),
        "tags": st.lists(st.text(max_size=8), max_size=3),
        "modified": st.one_of(st.none(), strategies.datetimes, st.just("2025-09-18 11:56")),
        "url": st.one_of(st.just(""), strategies.urls, st.just("has space")),
        "summary": strategies.markdown_text,
        "connections": st.lists(st.text(max_size=8), max_size=3),
        "properties": st.dictionaries(strategies.property_keys, strategies.yaml_values, max_size=2),
        "sources": st.lists(strategies.sources, max_size=2),
    },
)


def _outcome(make: Callable[[], object]) -> object:
    try:
        return make()
    except (TypeError, ValueError) as exc:
        return type(exc)


@settings(deadline=None)
@given(note=strategies.notes, changes=_note_changes)
def test_evolve_gives_what_attrs_evolve_gives(note: Note, changes: dict[str, Any]) -> None:
    assert _outcome(lambda: evolve(note, **changes)) == _outcome(
        lambda: attrs.evolve(note, **changes)
    )


@settings(deadline=None)
@given(source=strategies.sources, text=strategies.markdown_text, url=st.text(max_size=12))
def test_evolve_gives_what_attrs_evolve_gives_for_sources(
    source: Source, text: str, url: str
) -> None:
    options: list[dict[str, Any]] = [{"text": text}, {"url": url}, {"kind": "feed", "title": url}]
    for changes in [*options, {"kind": url}]:
        assert _outcome(lambda: evolve(source, **changes)) == _outcome(  # noqa: B023
            lambda: attrs.evolve(source, **changes)  # noqa: B023
        )


def test_evolve_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="Note has no field colour"):
        evolve(Note(title="x"), colour="red")
