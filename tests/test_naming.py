"""File names: the strictest cross-OS rules, whatever the host, and never outside the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obsidian_inbox._naming import (
    MAX_NAME_BYTES,
    clean_file_stem,
    is_valid_file_name,
    note_file_name,
    with_suffix_number,
)


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        (
            "How to Become a Machine Learning Engineer (Step-by-Step)",
            "How to Become a Machine Learning Engineer (Step-by-Step)",
        ),
        ("Dataframes: What’s the Difference?", "Dataframes - What’s the Difference"),
        ("a:b", "a-b"),
        ("a/b\\c|d", "a-b-c-d"),
        ('He said "hi" <b>*now*</b>', "He said 'hi' bnow-b"),
        ("[[x]]", "((x))"),
        ("#tag ^block", "tag block"),
        ("%%comment%%", "%comment%"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "Untitled"),
        (".hidden", "hidden"),
        ("trailing dot. ", "trailing dot"),
        ("CON", "CON_"),
        ("con.txt", "con_.txt"),
        ("LPT9", "LPT9_"),
        ("tab\tand\nnewline", "tab and newline"),
        ("   ", "Untitled"),
        ("e\u0301te\u0301", "été"),  # NFD becomes NFC
    ],
)
def test_clean_file_stem(title: str, stem: str) -> None:
    assert clean_file_stem(title) == stem
    assert is_valid_file_name(stem + ".md")


def test_long_titles_are_cut_to_200_utf8_bytes_on_a_character_boundary() -> None:
    name = note_file_name("🙂" * 300)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.endswith("🙂.md")
    assert with_suffix_number("x" * 300, 12).endswith(" (12)")
    assert len((with_suffix_number("x" * 300, 12) + ".md").encode()) <= MAX_NAME_BYTES


def test_collisions_get_a_number() -> None:
    taken = {"Note.md", "Note (2).md"}
    assert note_file_name("Note", exists=taken.__contains__) == "Note (3).md"


@given(st.text(max_size=300))
def test_every_title_gives_a_valid_name_inside_the_folder(title: str) -> None:
    name = note_file_name(title)
    assert is_valid_file_name(name)
    folder = Path("/vault/Notes")
    assert (folder / name).parent == folder
    assert name not in {".md", "..md"}
