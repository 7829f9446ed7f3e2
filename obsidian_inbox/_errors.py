"""The exceptions obsidian-inbox raises, all rooted in :class:`ObsidianInboxError`.

::

    ObsidianInboxError
    ├── InboxParseError (also ValueError)    .path .line   a capture file is malformed
    ├── NoteFormatError (also ValueError)    .path         a note's Markdown or YAML cannot be read
    ├── ConfigError (also ValueError)        .path .key    a configuration value is wrong
    ├── FetchError                           .url          network or HTTP failure
    │   ├── FeedError                                      feed unusable or item not found
    │   └── ExtractionError                                page gave no main text
    ├── RenderError                                        a note cannot be written without loss
    ├── CapturesFailedError                  .outcomes     raised on request when captures need attention
    └── VaultError                           .path         vault missing, unreadable or not writable
        ├── VaultLockedError                               another run holds the vault's lock
        └── NoteConflictError                              the target was edited by the user
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import Outcome

__all__ = [
    "CapturesFailedError",
    "ConfigError",
    "ExtractionError",
    "FeedError",
    "FetchError",
    "InboxParseError",
    "NoteConflictError",
    "NoteFormatError",
    "ObsidianInboxError",
    "RenderError",
    "VaultError",
    "VaultLockedError",
]


class ObsidianInboxError(Exception):
    """Base class of every error obsidian-inbox raises on purpose."""


def _where(path: Path | str | None, line: int | None = None) -> str:
    if path is None:
        return ""
    return f"{path}:{line}: " if line else f"{path}: "


class InboxParseError(ObsidianInboxError, ValueError):
    """A capture file cannot be read as a capture (empty, binary, undecodable, too big).

    Attributes:
        path: The capture file.
        reason: Why it was refused, without the path.
        line: The 1-based line the problem is on, when there is one.
    """

    def __init__(self, path: Path | str | None, reason: str, *, line: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        self.line = line
        super().__init__(f"{_where(path, line)}{reason}")


class NoteFormatError(ObsidianInboxError, ValueError):
    """A note's Markdown or YAML frontmatter cannot be read.

    Attributes:
        path: The note file, when the text came from one.
        reason: Why it could not be read, without the path.
    """

    def __init__(self, reason: str, *, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{_where(path)}{reason}")


class ConfigError(ObsidianInboxError, ValueError):
    """A configuration file or value is wrong.

    Attributes:
        path: The configuration file, when the value came from one.
        key: The offending key, when there is one.
        reason: Why it is wrong.
    """

    def __init__(
        self, reason: str, *, path: Path | str | None = None, key: str | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.key = key
        self.reason = reason
        where = _where(path)
        super().__init__(f"{where}{key}: {reason}" if key else f"{where}{reason}")


class FetchError(ObsidianInboxError):
    """A URL could not be fetched.

    Attributes:
        url: The URL that failed.
        reason: Why, without the URL (e.g. ``"404 Not Found"``).
        transient: True when trying again later may succeed (timeouts, 429, 5xx).
    """

    def __init__(self, url: str, reason: str, *, transient: bool = False) -> None:
        self.url = url
        self.reason = reason
        self.transient = transient
        super().__init__(f"{reason} for {url}")


class AddressRefusedError(FetchError):
    """A host is (or resolves to) a private, loopback, link-local or other non-public address.

    Raised only for fetches that refuse such addresses: links found inside fetched content,
    while ``block_private_addresses`` is on.
    """


class FeedError(FetchError):
    """A feed could not be used: it does not parse, or it lacks the captured item."""


class ExtractionError(FetchError):
    """A page was fetched but yielded no usable main text."""


class RenderError(ObsidianInboxError):
    """A note cannot be rendered to Markdown and read back without losing something."""


class VaultError(ObsidianInboxError):
    """The vault (or a file in it) is missing, unreadable or not writable.

    Attributes:
        path: The vault or the file concerned.
        reason: Why, without the path.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class VaultLockedError(VaultError):
    """Another obsidian-inbox run holds the vault's lock."""


class NoteConflictError(VaultError):
    """The note on disk was edited by the user since obsidian-inbox wrote it; it is left untouched."""


class CapturesFailedError(ObsidianInboxError):
    """Some captures of a run need attention (raised by ``Report.raise_for_failures()``).

    Attributes:
        outcomes: The outcomes concerned.
    """

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        self.outcomes = tuple(outcomes)
        lines = [f"{o.capture}: {o.status}: {o.reason}" for o in self.outcomes]
        super().__init__(f"{len(lines)} capture(s) need attention:\n" + "\n".join(lines))
