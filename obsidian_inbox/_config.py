"""Settings of a run: where captures are, where notes go, limits (pure)."""

from __future__ import annotations

import attrs

from ._inbox import DEFAULT_MAX_CAPTURE_BYTES

__all__ = ["Settings"]


@attrs.frozen(kw_only=True)
class Settings:
    """How obsidian-inbox processes a vault's inbox.

    Attributes:
        inbox: The inbox folder, relative to the vault (or absolute).
        archive: Where processed captures are filed, relative to the inbox (or absolute).
        notes_folder: The vault folder new notes go to.
        capture_glob: Which files in the inbox are captures.
        max_capture_bytes: Larger captures are refused.
        settle_seconds: A capture changed more recently than this is waited for, so a
            file still being written (or synced) is not read half-way.
        source_label: The ``source`` property of new notes.
        lock_timeout: Seconds to wait for another run to finish before giving up.
        max_attempts: Runs in which a capture's fetch may fail transiently (timeout,
            429, 5xx) before its note is written as ``partial`` anyway.
    """

    inbox: str = "Inbox"
    archive: str = "processed"
    notes_folder: str = "Notes"
    capture_glob: str = "*.txt"
    max_capture_bytes: int = DEFAULT_MAX_CAPTURE_BYTES
    settle_seconds: float = 1.0
    source_label: str = "inbox_processing"
    lock_timeout: float = 0.0
    max_attempts: int = 3
