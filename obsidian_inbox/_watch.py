"""Watch mode: process captures as they land in the inbox (I/O, ``watchfiles``).

Each batch is an ordinary :func:`~obsidian_inbox.process_inbox` run, with the same
guarantees: the same lock (held per batch, not while waiting, so a manual ``process``
can run in between), the same wait for files still being written
(``Settings.settle_seconds``), the same report. Between batches the watcher sleeps on
file-system events; captures a batch left because they were still being written are
tried again a moment later.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ._config import Settings, load_settings
from ._errors import VaultError, VaultLockedError
from ._pipeline import Enricher, Linker, process_inbox
from ._report import Report
from ._vault import Vault

__all__ = ["watch_inbox"]

logger = logging.getLogger(__name__)

#: How often the watcher wakes up without events, to retry captures left behind (ms).
_TICK_MS = 250


def watch_inbox(
    vault: str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    offline: bool = False,
    enricher: Enricher | None = None,
    linker: Linker | None = None,
    stop: threading.Event | None = None,
    on_report: Callable[[Report], None] | None = None,
    on_watching: Callable[[Path], None] | None = None,
    on_locked: Callable[[VaultLockedError], None] | None = None,
    retry_seconds: float = 5.0,
    force_polling: bool | None = None,
) -> None:
    """Process the vault's inbox now, then again whenever captures land in it, until ``stop`` is set.

    Args:
        vault: The vault's folder.
        settings: As for :func:`~obsidian_inbox.process_inbox`; default: the vault's file.
        offline: Fetch nothing.
        enricher: As for :func:`~obsidian_inbox.process_inbox`.
        linker: As for :func:`~obsidian_inbox.process_inbox`.
        stop: Set it (e.g. from a signal handler) to stop after the current capture.
        on_report: Called with each batch's report (not for batches with nothing to do,
            but for the first).
        on_watching: Called once with the inbox folder, when the watcher is in place.
        on_locked: Called when another run holds the vault's lock; the batch is retried
            ``retry_seconds`` later.
        retry_seconds: When to retry after finding the vault locked.
        force_polling: Poll the folder instead of using the system's notifications (for
            network and some synced drives); default: ``watchfiles`` decides, which
            honours the ``WATCHFILES_FORCE_POLLING`` environment variable.

    Raises:
        VaultError: The vault or its inbox folder does not exist.
        ConfigError: The vault's configuration file is wrong.
    """
    import watchfiles

    stop = stop or threading.Event()
    opened = Vault(vault)
    try:
        settings = settings if settings is not None else load_settings(opened.path)
        inbox = (opened.path / Path(settings.inbox).expanduser()).resolve()
        if not inbox.is_dir():
            raise VaultError(inbox, "inbox folder does not exist (create it, or name another)")
        pattern = settings.capture_glob

        def is_capture(change: watchfiles.Change, path: str) -> bool:
            name = os.path.basename(path)  # noqa: PTH119 - a str from the watcher, called often
            return (
                change != watchfiles.Change.deleted
                and not name.startswith(".")
                and fnmatch.fnmatch(name, pattern)
            )

        def batch() -> Report | None:
            try:
                return process_inbox(
                    opened,
                    settings=settings,
                    offline=offline,
                    enricher=enricher,
                    linker=linker,
                    stop=stop,
                )
            except VaultLockedError as exc:
                if on_locked is not None:
                    on_locked(exc)
                return None

        first = True
        retry_at: float | None = None
        for changes in watchfiles.watch(
            inbox,
            watch_filter=is_capture,
            stop_event=stop,
            rust_timeout=_TICK_MS,
            yield_on_timeout=True,
            recursive=False,
            raise_interrupt=False,
            force_polling=force_polling,
        ):
            if stop.is_set():
                break
            if changes:
                logger.info("%d change(s) in %s", len(changes), inbox)
            if retry_at is not None and time.monotonic() >= retry_at:
                retry_at = None
                changes = changes or {(watchfiles.Change.modified, str(inbox))}
            if not (changes or (first and retry_at is None)):
                continue
            report = batch()
            if report is not None and on_report is not None and (first or len(report)):
                on_report(report)
            if on_watching is not None:
                on_watching(inbox)
                on_watching = None
            if report is None:  # locked by another run: try again later
                retry_at = time.monotonic() + retry_seconds
                continue
            first = False
            if report.interrupted or stop.is_set():
                break
            # Captures still being written (or left when out of time) are tried again
            # once they have had time to settle.
            if report.with_status("skipped"):
                retry_at = time.monotonic() + max(settings.settle_seconds, 0.5)
    finally:
        opened.close()
