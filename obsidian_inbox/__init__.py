"""Turn a capture inbox into clean, linked Obsidian notes."""

from __future__ import annotations

import logging as _logging

from ._classify import DEFAULT_CATEGORY_RULES, CategoryRule, TagRule
from ._config import Settings, load_settings
from ._enrich import WebEnricher
from ._errors import (
    AddressRefusedError,
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
from ._fetch import Fetcher, FetchResult
from ._inbox import parse_inbox_file
from ._index import NoteInfo, VaultIndex
from ._links import LinkOptions, Mention, VaultLinker, link_note
from ._mentions import unlinked_mentions
from ._note import Note, Source
from ._pipeline import Enricher, Enrichment, Linker, process_inbox
from ._render import parse_note, render_note
from ._report import Outcome, Report
from ._summary import DefaultSummarizer, LLMSummarizer, Summarizer, Summary
from ._vault import Vault, WriteResult

__all__ = [
    "DEFAULT_CATEGORY_RULES",
    "AddressRefusedError",
    "CapturesFailedError",
    "CategoryRule",
    "ConfigError",
    "DefaultSummarizer",
    "Enricher",
    "Enrichment",
    "ExtractionError",
    "FeedError",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "InboxParseError",
    "LLMSummarizer",
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
    "Summarizer",
    "Summary",
    "TagRule",
    "Vault",
    "VaultError",
    "VaultIndex",
    "VaultLinker",
    "VaultLockedError",
    "WebEnricher",
    "WriteResult",
    "link_note",
    "load_settings",
    "parse_inbox_file",
    "parse_note",
    "process_inbox",
    "render_note",
    "unlinked_mentions",
]

# The library never prints: its log records go nowhere until the application configures
# logging (the command line does, with -v).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("obsidian-inbox")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


import logging as _logging

# The library never prints: it logs, and stays silent unless the application configures logging.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
