"""Turn a capture inbox into clean, linked Obsidian notes."""

from __future__ import annotations

from ._config import Settings
from ._errors import (
    CapturesFailedError,
    ConfigError,
    ExtractionError,
    FeedError,
    FetchError,
    InboxParseError,
    NoteConflictError,
    NoteFormatError,
    ObsidianInboxError,
    RenderError,
    VaultError,
    VaultLockedError,
)
from ._inbox import parse_inbox_file
from ._index import NoteInfo, VaultIndex
from ._links import LinkOptions, Mention, VaultLinker, link_note
from ._mentions import unlinked_mentions
from ._note import Note, Source
from ._pipeline import Enricher, Enrichment, Linker, process_inbox
from ._render import parse_note, render_note
from ._report import Outcome, Report
from ._vault import Vault, WriteResult

__all__ = [
    "CapturesFailedError",
    "ConfigError",
    "Enricher",
    "Enrichment",
    "ExtractionError",
    "FeedError",
    "FetchError",
    "InboxParseError",
    "LinkOptions",
    "Linker",
    "Mention",
    "Note",
    "NoteConflictError",
    "NoteFormatError",
    "NoteInfo",
    "ObsidianInboxError",
    "Outcome",
    "RenderError",
    "Report",
    "Settings",
    "Source",
    "Vault",
    "VaultError",
    "VaultIndex",
    "VaultLinker",
    "VaultLockedError",
    "WriteResult",
    "link_note",
    "parse_inbox_file",
    "parse_note",
    "process_inbox",
    "render_note",
    "unlinked_mentions",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("obsidian-inbox")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
