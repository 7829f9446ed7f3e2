"""File-name templates: checked up front, and whatever they make is a valid file name."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obsidian_inbox import Note
from obsidian_inbox._naming import (
    check_name_template,
    format_name,
    is_valid_file_name,
    name_fields,
    note_file_name,
)

from .strategies import titles

TEMPLATES = [
    "{title}",
    "{created:%Y-%m-%d} {title}",
    "{created:%Y%m%d%H%M%S}",
    "{category}/{title}",
    "{type} - {title:.20}",
    "{captured:%H:%M} {title} [{capture_id}]",
    "..{title}..",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_templates_are_accepted(template: str) -> None:
    check_name_template(template)


@given(
    title=titles, template=st.sampled_from(TEMPLATES), category=st.sampled_from(["", "dev", "a/b"])
)
def test_a_template_always_makes_a_valid_file_name(
    title: str, template: str, category: str
) -> None:
    note = Note(title=title, category=category, created=dt.datetime(2025, 9, 18, 11, 49, 49))
    name = note_file_name(format_name(template, name_fields(note)))
    assert is_valid_file_name(name)
    assert name.endswith(".md")


def test_dates_fall_back_to_each_other_then_to_now() -> None:
    when = dt.datetime(2025, 9, 18, 11, 49, 49)
    assert name_fields(Note(title="t", captured=when))["created"] == when
    assert name_fields(Note(title="t", created=when))["captured"] == when
    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert name_fields(Note(title="t"), now=now)["created"] == now


def test_a_template_name_is_cleaned() -> None:
    fields = name_fields(Note(title="What: a title?", created=dt.datetime(2025, 9, 18, 11, 49)))
    assert (
        format_name("{created:%Y-%m-%d %H:%M} {title}", fields) == "2025-09-18 11-49 What - a title"
    )
    assert format_name("{category} {title}", fields) == "What - a title"  # no category: no dash


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{author}", "unknown field {author}"),
        ("{}", "empty field {}"),
        ("{0}", "unknown field {0}"),
        ("{title[0]}", "unknown field {title[0]}"),
        ("{title!s}", "conversions are not allowed"),
        ("{title:{created}}", "nested fields"),
        ("plain", "uses no field"),
        ("{title", "not a valid template"),
        ("{created:%Y} {title:d}", "cannot be formatted"),
    ],
)
def test_wrong_templates_are_refused(template: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("{", r"\{").replace("[", r"\[")):
        check_name_template(template)
