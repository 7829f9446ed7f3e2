"""Obsidian tag rules (pure).

A valid Obsidian tag is made of letters, digits, ``_``, ``-`` and ``/`` (for nesting),
holds at least one character that is not a digit, and has no empty nesting level.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["HASHTAG", "clean_tag", "clean_tags", "is_valid_tag"]

_SPELLINGS = {"++": "pp", "#": "sharp"}
_SPELLED = re.compile(r"(?<=\w)(\+\+|#)(?!\w)")
_NOT_ALLOWED_RUN = re.compile(r"[^\w\-/]+", re.UNICODE)
# At least one character that is not a digit (Obsidian: "#1984" is not a tag, "#y1984" is).
_VALID = re.compile(r"^(?!.*//)(?!/)(?!.*/$)(?=.*[^\d/])[\w\-/]+$", re.UNICODE)
# "#tag" in running text: not inside a word, a URL fragment or an HTML entity ("&#8217;").
HASHTAG = re.compile(r"(?<![\w&#/\\])#([\w\-/]*[^\W\d][\w\-/]*)", re.UNICODE)


def is_valid_tag(tag: str) -> bool:
    """Tell whether ``tag`` (without ``#``) is a valid Obsidian tag."""
    return bool(_VALID.match(tag))


def clean_tag(raw: str) -> str | None:
    """Return ``raw`` made into a valid Obsidian tag, or None when nothing valid is left.

    Leading ``#`` are dropped, runs of spaces and punctuation become ``-``, nesting
    slashes are tidied; letter case is kept (Obsidian compares tags case-insensitively).

    >>> clean_tag("#machine learning")
    'machine-learning'
    >>> clean_tag("C++ / Templates")
    'Cpp/Templates'
    >>> clean_tag("2025") is None
    True
    """
    tag = unicodedata.normalize("NFC", raw).strip().lstrip("#").strip()
    tag = _SPELLED.sub(lambda m: _SPELLINGS[m.group(0)], tag)  # C++ -> Cpp, C# -> Csharp
    tag = _NOT_ALLOWED_RUN.sub("-", tag)
    parts = [part.strip("-_") for part in tag.split("/")]
    tag = "/".join(part for part in parts if part)
    tag = re.sub(r"-{2,}", "-", tag)
    return tag if is_valid_tag(tag) else None


def clean_tags(raw: Iterable[str] | str | None) -> tuple[str, ...]:
    """Return the valid, de-duplicated (case-insensitively, first spelling wins) tags of ``raw``.

    A string is split on commas and whitespace, as Obsidian reads ``tags: a, b``.
    """
    if raw is None:
        return ()
    items: Iterable[object] = re.split(r"[,\s]+", raw) if isinstance(raw, str) else raw
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        if item is None:
            continue
        tag = clean_tag(str(item))
        if tag is not None and tag.casefold() not in seen:
            seen.add(tag.casefold())
            result.append(tag)
    return tuple(result)
