"""File names for notes, from their titles (pure).

The rules are the strictest of Windows, macOS, Linux, Android and Obsidian, applied
whatever the host: a vault synced between devices must be valid on all of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "MAX_NAME_BYTES",
    "clean_file_stem",
    "is_valid_file_name",
    "note_file_name",
    "with_suffix_number",
]

#: The longest file name (extension included) we create, in UTF-8 bytes.
MAX_NAME_BYTES = 200
_EXTENSION = ".md"
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{name}{digit}" for name in ("COM", "LPT") for digit in "123456789¹²³"}
)
# Characters no file system or Obsidian link accepts: \ / : * ? " < > | (Windows),
# # ^ [ ] | (Obsidian link syntax), and control characters.
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\x00-\x1f\x7f-\x9f]"), " "),
    (re.compile(r"\s*:\s+"), " - "),
    (re.compile(r"[\\/|:]"), "-"),
    (re.compile(r"\["), "("),
    (re.compile(r"\]"), ")"),
    (re.compile(r'"'), "'"),
    (re.compile(r"%%+"), "%"),
    (re.compile(r"[*?<>#^]"), ""),
    (re.compile(r"\s+"), " "),
)
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f\\/:*?"<>|#^\[\]]|%%')


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    text = encoded[:max_bytes].decode("utf-8", errors="ignore")
    # Do not leave a combining mark without the letter it belonged to.
    while text and unicodedata.combining(text[-1]):
        text = text[:-1]
    return text


def _tidy_ends(stem: str) -> str:
    # No leading dot (a hidden file Obsidian would not show) and no trailing dot or space
    # (Windows drops them, so two names would collide).
    return stem.strip(" .-").rstrip(" .")


def clean_file_stem(title: str, *, max_bytes: int = MAX_NAME_BYTES - len(_EXTENSION)) -> str:
    """Return ``title`` made into a file name stem valid everywhere (without extension).

    >>> clean_file_stem("Note-Taking Apps vs. Dataframes: What’s the Difference?")
    'Note-Taking Apps vs. Dataframes - What’s the Difference'
    >>> clean_file_stem("../../etc/passwd")
    'etc-passwd'
    >>> clean_file_stem("CON")
    'CON_'
    """
    stem = unicodedata.normalize("NFC", title)
    for pattern, replacement in _REPLACEMENTS:
        stem = pattern.sub(replacement, stem)
    stem = _tidy_ends(re.sub(r"(?:^|-)\.{1,2}(?=-|$)", "", stem))
    stem = _tidy_ends(_truncate_utf8(stem, max_bytes))
    if not stem:
        stem = "Untitled"
    head, dot, rest = stem.partition(".")
    if head.upper().rstrip(" ") in _WINDOWS_RESERVED:  # "CON", "con.txt", "LPT1 "
        stem = _truncate_utf8(f"{head.rstrip(' ')}_{dot}{rest}", max_bytes)
    return stem


def is_valid_file_name(name: str) -> bool:
    """Tell whether ``name`` obeys the rules :func:`clean_file_stem` enforces."""
    stem, dot, _ = name.rpartition(".")
    if not dot:
        stem = name
    return (
        bool(stem)
        and len(name.encode("utf-8")) <= MAX_NAME_BYTES
        and unicodedata.is_normalized("NFC", name)
        and not _FORBIDDEN.search(name)
        and not name.startswith((".", " "))
        and not name.endswith((".", " "))
        and stem.split(".", 1)[0].upper().rstrip(" ") not in _WINDOWS_RESERVED
    )


def with_suffix_number(
    stem: str, number: int, *, max_bytes: int = MAX_NAME_BYTES - len(_EXTENSION)
) -> str:
    """Return ``stem`` with `` (number)`` appended, still within ``max_bytes``."""
    suffix = f" ({number})"
    return _tidy_ends(_truncate_utf8(stem, max_bytes - len(suffix))) + suffix


def note_file_name(
    title: str, *, exists: Callable[[str], bool] = lambda name: False, first: int = 1
) -> str:
    """Return a free file name (with ``.md``) for a note titled ``title``.

    Args:
        title: The note's title.
        exists: Tells whether a name is already taken (compared case-insensitively by the
            caller); `` (2)``, `` (3)``… are appended until it is not.
        first: The number to start from (1: the bare title), when lower ones are known taken.
    """
    stem = clean_file_stem(title)
    number = max(1, first)
    name = stem + _EXTENSION if number == 1 else with_suffix_number(stem, number) + _EXTENSION
    while exists(name):
        number += 1
        name = with_suffix_number(stem, number) + _EXTENSION
    return name
