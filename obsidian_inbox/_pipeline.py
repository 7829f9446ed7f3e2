"""The pipeline: inbox → parse → enrich → link → write → file away (glue).

:func:`process_inbox` runs it over a vault's inbox and returns a :class:`Report`. Each
capture ends in exactly one outcome; a capture is filed away only after its note is
durably on disk, and the run never stops at the first bad capture.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import attrs

from ._config import Settings
from ._errors import (
    InboxParseError,
    NoteConflictError,
    ObsidianInboxError,
    RenderError,
    VaultError,
)
from ._inbox import parse_inbox_file
from ._index import VaultIndex
from ._links import VaultLinker
from ._note import Note
from ._report import Outcome, Report, Status
from ._vault import Vault, now

__all__ = ["Enricher", "Enrichment", "Linker", "list_captures", "process_inbox"]

logger = logging.getLogger(__name__)


@attrs.frozen
class Enrichment:
    """The result of enriching a note.

    Attributes:
        note: The enriched note (``status: partial`` with a reason when it fell short).
        transient: Reasons a later run may do better (timeouts, 429, 5xx); when not empty
            the capture is kept in the inbox to retry, up to ``Settings.max_attempts`` runs.
    """

    note: Note
    transient: tuple[str, ...] = ()


class Enricher(Protocol):
    """Anything that enriches notes: fetches their sources, classifies and summarises them."""

    def __call__(self, note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        """Return ``note`` enriched; never raise for a network or extraction failure."""
        ...


#: Links a note to the vault's existing notes (``[[wikilinks]]``), given the vault index.
Linker = Callable[[Note, VaultIndex], Note]


def _no_enrichment(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    return Enrichment(note)


def list_captures(inbox: Path, pattern: str = "*.txt") -> list[Path]:
    """Return the capture files directly in ``inbox`` (not in sub-folders), oldest name first."""
    return sorted(
        path
        for path in inbox.glob(pattern)
        if not path.name.startswith(".") and path.is_file() and not path.is_symlink()
    )


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _settled(
    paths: list[Path], settle: float, stop: threading.Event
) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` into settled files and files still being written.

    A file changed within the last ``settle`` seconds is watched until it has not changed
    for that long (at most five times as long), as a file synced from a phone arrives in
    pieces.
    """
    if settle <= 0:
        return paths, []
    deadline = time.monotonic() + settle * 5
    young = {p: _signature(p) for p in paths if time.time() - p.stat().st_mtime < settle}
    while young and time.monotonic() < deadline and not stop.is_set():
        time.sleep(min(settle, 0.2))
        for path in list(young):
            signature = _signature(path)
            if signature is None:
                del young[path]
            elif signature != young[path]:
                young[path] = signature
            elif time.time() - path.stat().st_mtime >= settle:
                del young[path]
    return [p for p in paths if p not in young and p.exists()], list(young)


@attrs.define
class _Run:
    vault: Vault
    inbox: Path
    archive: Path
    settings: Settings
    dry_run: bool
    enricher: Enricher
    linker: Linker
    on_progress: Callable[[int, int], None] | None = None
    total: int = 0
    outcomes: list[Outcome] = attrs.field(factory=list)

    def label(self, path: Path) -> str:
        for base in (self.vault.path, self.inbox.parent):
            with contextlib.suppress(ValueError):
                return path.resolve().relative_to(base).as_posix()
        return str(path)

    def record(self, capture: Path, status: Status, **fields: object) -> Outcome:
        outcome = Outcome(capture=self.label(capture), status=status, **fields)  # type: ignore[arg-type]
        self.outcomes.append(outcome)
        if self.on_progress is not None:
            self.on_progress(len(self.outcomes), self.total)
        log = logger.warning if outcome.needs_attention else logger.info
        log("%s: %s%s", outcome.capture, status, f" ({outcome.reason})" if outcome.reason else "")
        return outcome

    def file_away(self, capture: Path) -> str | None:
        if self.dry_run:
            return None
        return self.label(self.vault.archive_capture(capture, self.archive))


def _known_note(index: VaultIndex, note: Note) -> tuple[str, str] | None:
    """Return (path, kind) of a note the vault already has for this capture."""
    for info in index.by_capture_id(note.capture_id) if note.capture_id else ():
        return info.path, "same-capture"
    for info in index.by_url(note.url) if note.url else ():
        return info.path, "same-url"
    return None


def process_inbox(
    vault: str | os.PathLike[str] | Vault,
    *,
    inbox: str | os.PathLike[str] | None = None,
    offline: bool = False,
    dry_run: bool = False,
    settings: Settings | None = None,
    enricher: Enricher | None = None,
    linker: Linker | None = None,
    concurrency: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> Report:
    """Turn every capture in the vault's inbox into a note, and file the captures away.

    Args:
        vault: The vault's folder (or an open :class:`Vault`).
        inbox: The inbox folder; default: ``settings.inbox`` inside the vault.
        offline: Fetch nothing; notes are made from the captures alone.
        dry_run: Change nothing on disk; report what would happen.
        settings: Folders and limits (defaults: :class:`Settings`).
        enricher: What enriches notes (fetching, classifying, summarising); the default
            does nothing when ``offline``.
        linker: What links notes to the vault's notes; default: a :class:`VaultLinker`
            (mentions of existing notes become ``[[wikilinks]]``; connections filled in).
        concurrency: How many captures are enriched at once.
        on_progress: Called with (done, total) as captures are handled.
        stop: Set it (e.g. from a signal handler) to stop after the current capture.

    Returns:
        The report: one outcome per capture.

    Raises:
        VaultError: The vault or inbox folder does not exist or cannot be written.
        VaultLockedError: Another run is processing this vault.
    """
    settings = settings or Settings()
    stop = stop or threading.Event()
    opened = vault if isinstance(vault, Vault) else Vault(vault, read_only=dry_run)
    inbox_dir = opened.path / Path(inbox if inbox is not None else settings.inbox).expanduser()
    if not inbox_dir.is_dir():
        raise VaultError(
            inbox_dir, "inbox folder does not exist (create it, or name another with --inbox)"
        )
    inbox_dir = inbox_dir.resolve()
    archive_dir = inbox_dir / Path(settings.archive).expanduser()
    run = _Run(
        vault=opened,
        inbox=inbox_dir,
        archive=archive_dir,
        settings=settings,
        dry_run=dry_run,
        enricher=enricher or _no_enrichment,
        linker=linker or VaultLinker(),
        on_progress=on_progress,
    )
    interrupted = False
    try:
        opened.lock(timeout=settings.lock_timeout)
        skip = tuple(
            p for p in (_inside(opened.path, inbox_dir), _inside(opened.path, archive_dir)) if p
        )
        opened.scan(skip=skip)
        captures = list_captures(inbox_dir, settings.capture_glob)
        run.total = len(captures)
        ready, changing = _settled(captures, settings.settle_seconds, stop)
        for path in changing:
            run.record(path, "skipped", reason="still being written; it will be processed next run")
        _process(run, ready, offline=offline, concurrency=concurrency, stop=stop)
        interrupted = stop.is_set() and len(run.outcomes) < len(captures)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if not isinstance(vault, Vault):
            opened.close()
        else:
            opened.unlock()
    return Report(
        vault=opened.path,
        inbox=inbox_dir,
        outcomes=tuple(run.outcomes),
        dry_run=dry_run,
        interrupted=interrupted,
    )


def _inside(root: Path, folder: Path) -> str | None:
    try:
        return folder.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


@attrs.frozen
class _Parsed:
    capture: Path
    note: Note
    signature: tuple[int, int] | None


def _parse_all(run: _Run, captures: list[Path]) -> Iterator[_Parsed]:
    for capture in captures:
        signature = _signature(capture)
        try:
            note = parse_inbox_file(capture, max_bytes=run.settings.max_capture_bytes)
        except InboxParseError as exc:
            run.record(capture, "failed", reason=exc.reason, error=type(exc).__name__)
            continue
        yield _Parsed(capture, attrs.evolve(note, source=run.settings.source_label), signature)


def _process(
    run: _Run,
    captures: list[Path],
    *,
    offline: bool,
    concurrency: int,
    stop: threading.Event,
) -> None:
    vocabulary = list(run.vault.index.tag_vocabulary())
    to_enrich: list[_Parsed] = []
    for parsed in _parse_all(run, captures):
        known = _known_note(run.vault.index, parsed.note)
        if known is not None and not _may_improve(run, known[0]):
            _file_known(run, parsed, *known)
            continue
        to_enrich.append(parsed)

    def enrich(parsed: _Parsed) -> Enrichment:
        if stop.is_set():
            raise _Stopped
        if offline:
            return _no_enrichment(parsed.note)
        return run.enricher(parsed.note, vocabulary=vocabulary)

    workers = 1 if offline or concurrency <= 1 else concurrency
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(enrich, parsed) for parsed in to_enrich]
        try:
            for parsed, future in zip(to_enrich, futures, strict=True):
                if stop.is_set():
                    break
                try:
                    enrichment = future.result()
                except _Stopped:
                    break
                except Exception as exc:  # an enricher bug must not cost the capture
                    logger.exception("enriching %s failed", parsed.capture)
                    enrichment = Enrichment(
                        attrs.evolve(
                            parsed.note, status="partial", status_reason=f"enrichment failed: {exc}"
                        )
                    )
                _write(run, parsed, enrichment)
        finally:
            for future in futures:
                future.cancel()


class _Stopped(Exception):
    """Raised inside workers once the run is asked to stop."""


def _may_improve(run: _Run, path: str) -> bool:
    """Tell whether an existing note is ours, unedited and partial, so a new capture may improve it."""
    if not run.vault.owns(path):
        return False
    try:
        return run.vault.read_note(path).status == "partial"
    except ObsidianInboxError:
        return False


def _file_known(run: _Run, parsed: _Parsed, path: str, kind: str) -> None:
    """File away a capture the vault already has a note for."""
    if kind == "same-capture":
        # An interrupted run wrote the note but did not file the capture away: finish it.
        if not run.dry_run and run.vault._store.write_record(path) is None:
            run.vault.adopt(path, parsed.note.capture_id)
        archived = run.file_away(parsed.capture)
        run.record(
            parsed.capture,
            "created",
            note=path,
            archived=archived,
            reason="the note was written by an interrupted run; filed the capture away",
        )
        return
    reason = f"already in the vault as {path}"
    if not run.vault.owns(path):
        reason += (
            " (edited there since; left untouched)" if run.vault._store.write_record(path) else ""
        )
    archived = run.file_away(parsed.capture)
    run.record(parsed.capture, "duplicate", note=path, archived=archived, reason=reason)


def _write(run: _Run, parsed: _Parsed, enrichment: Enrichment) -> None:
    note = run.linker(enrichment.note, run.vault.index)
    capture = parsed.capture
    state = run.vault._store
    if enrichment.transient:
        reason = "; ".join(enrichment.transient)
        attempts = state.attempts(note.capture_id) + (0 if run.dry_run else 1)
        if not run.dry_run:
            state.record_attempt(note.capture_id, reason)
        if attempts < run.settings.max_attempts:
            run.record(
                capture,
                "deferred",
                error="FetchError",
                reason=f"{reason} (attempt {attempts} of {run.settings.max_attempts}; kept in the inbox)",
            )
            return
        note = attrs.evolve(
            note,
            status="partial",
            status_reason=note.status_reason or f"{reason} (after {attempts} attempts)",
        )

    known = _known_note(run.vault.index, note)
    try:
        if known is not None:
            path, kind = known
            if kind == "same-url" and not _may_improve(run, path):
                _file_known(run, parsed, path, kind)
                return
            result = run.vault.write_note(attrs.evolve(note, modified=now()), path, replace=True)
            status: Status = "updated" if kind == "same-url" else "created"
        else:
            path = run.vault.new_note_path(note, run.settings.notes_folder)
            result = run.vault.write_note(attrs.evolve(note, modified=now()), path)
            status = "created"
    except NoteConflictError as exc:
        run.record(
            capture, "failed", note=run.label(exc.path), reason=exc.reason, error=type(exc).__name__
        )
        return
    except (RenderError, VaultError) as exc:
        run.record(capture, "failed", reason=str(exc), error=type(exc).__name__)
        return
    except OSError as exc:
        run.record(
            capture,
            "failed",
            reason=f"cannot write the note: {exc.strerror or exc}",
            error=type(exc).__name__,
        )
        return

    if _signature(capture) != parsed.signature:
        # The capture changed while we worked (still being synced): undo our note, retry later.
        if not run.dry_run and result.action == "created" and run.vault.owns(result.path):
            (run.vault.path / result.path).unlink()
            run.vault.index.remove(result.path)
        run.record(
            capture,
            "skipped",
            reason="changed while being processed; it will be processed next run",
        )
        return
    try:
        archived = run.file_away(capture)
    except OSError as exc:
        run.record(
            capture,
            "failed",
            note=result.path,
            reason=f"note written, but the capture could not be filed away: {exc.strerror or exc}",
            error=type(exc).__name__,
        )
        return
    if not run.dry_run:
        state.clear_attempts(note.capture_id)
    if note.status == "partial":
        status = "partial"
    run.record(capture, status, note=result.path, archived=archived, reason=note.status_reason)
