"""The pipeline: inbox → parse → enrich → link → write → file away (glue).

:func:`process_inbox` runs it over a vault's inbox and returns a :class:`Report`. Each
capture ends in exactly one outcome; a capture is filed away only after its note is
durably on disk, and the run never stops at the first bad capture.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fnmatch
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import attrs

from ._config import Settings, load_settings
from ._errors import (
    InboxParseError,
    NoteConflictError,
    ObsidianInboxError,
    RenderError,
    VaultError,
)
from ._inbox import read_capture
from ._index import VaultIndex
from ._links import VaultLinker
from ._note import Note, evolve
from ._preview import note_diff
from ._report import Outcome, Report, Status
from ._vault import Vault, _PendingWrite, now

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
    if "/" in pattern or "\\" in pattern:  # a pattern that reaches into sub-folders
        return sorted(
            path
            for path in inbox.glob(pattern)
            if not path.name.startswith(".") and path.is_file() and not path.is_symlink()
        )
    with os.scandir(inbox) as entries:  # what glob finds, with the file types it read
        names = sorted(
            entry.name
            for entry in entries
            if not entry.name.startswith(".")
            and fnmatch.fnmatch(entry.name, pattern)
            and entry.is_file(follow_symlinks=False)
        )
    return [inbox / name for name in names]


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class _Flag(Protocol):
    def is_set(self) -> bool: ...


class _Halt:
    """Tells the run to stop: when ``stop`` is set, or once the time budget is spent."""

    def __init__(self, stop: threading.Event, max_seconds: float) -> None:
        self.stop = stop
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds if max_seconds > 0 else None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def is_set(self) -> bool:
        return self.stop.is_set() or self.out_of_time()


def _settled(paths: list[Path], settle: float, stop: _Flag) -> tuple[list[Path], list[Path]]:
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
    inbox_label: str = ""
    archive_label: str = ""
    skip: tuple[str, ...] = ()  # vault folders the index leaves out (inbox, archive)

    def label(self, path: Path) -> str:
        """Name ``path`` for the report: relative to the vault (or to the inbox's parent)."""
        parent = path.parent
        if parent == self.inbox:
            return f"{self.inbox_label}/{path.name}"
        if parent == self.archive and self.archive_label:
            return f"{self.archive_label}/{path.name}"
        for base in (self.vault.path, self.inbox.parent):
            with contextlib.suppress(ValueError):
                return path.resolve().relative_to(base).as_posix()
        return str(path)

    def __attrs_post_init__(self) -> None:
        self.inbox_label = str(self.inbox)
        for base in (self.inbox.parent, self.vault.path):
            with contextlib.suppress(ValueError):
                self.inbox_label = self.inbox.relative_to(base).as_posix()
        with contextlib.suppress(ValueError):
            relative = self.archive.relative_to(self.inbox).as_posix()
            self.archive_label = f"{self.inbox_label}/{relative}"

    def record(self, capture: Path, status: Status, **fields: object) -> Outcome:
        outcome = Outcome(capture=self.label(capture), status=status, **fields)  # type: ignore[arg-type]
        self.outcomes.append(outcome)
        if self.on_progress is not None:
            self.on_progress(len(self.outcomes), self.total)
        log = logger.warning if outcome.needs_attention else logger.info
        log("%s: %s%s", outcome.capture, status, f" ({outcome.reason})" if outcome.reason else "")
        return outcome

    def failed(
        self, capture: Path, exc: Exception, reason: str | None = None, **fields: object
    ) -> Outcome:
        """Record that ``capture`` failed with ``exc`` (the reason: ``str(exc)`` by default)."""
        return self.record(
            capture,
            "failed",
            reason=str(exc) if reason is None else reason,
            error=type(exc).__name__,
            **fields,
        )

    def file_away(self, capture: Path) -> str | None:
        if self.dry_run:
            return None
        return self.label(self.vault.archive_capture(capture, self.archive, inbox=self.inbox))


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
    concurrency: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> Report:
    """Turn every capture in the vault's inbox into a note, and file the captures away.

    Args:
        vault: The vault's folder (or an open :class:`Vault`).
        inbox: The inbox folder; default: ``settings.inbox`` inside the vault.
        offline: Fetch nothing: the default enricher serves pages and feeds from the
            HTTP cache alone (what is not cached is left as the capture has it); an
            enricher given explicitly is not called, unless it is a
            :class:`~obsidian_inbox.WebEnricher` made with ``offline=True``.
        dry_run: Change nothing on disk; report what would happen (the default enricher
            fetches without reading or writing the HTTP cache).
        settings: Folders and limits; default: the vault's ``.obsidian-inbox.toml``
            (see :func:`load_settings`), or the defaults of :class:`Settings`.
        enricher: What enriches notes (fetching, classifying, summarising); default: a
            :class:`~obsidian_inbox.WebEnricher` configured by ``settings``, closed at the
            end of the run.
        linker: What links notes to the vault's notes; default: a :class:`VaultLinker`
            (mentions of existing notes become ``[[wikilinks]]``; connections filled in).
        concurrency: How many captures are enriched at once; default:
            ``settings.concurrency`` (1 when ``offline``: there is nothing to wait for).
        on_progress: Called with (done, total) as captures are handled.
        stop: Set it (e.g. from a signal handler) to stop after the current capture; the
            captures not handled are reported as ``skipped`` and stay in the inbox.

    Returns:
        The report: one outcome per capture. When ``settings.max_seconds`` runs out,
        the run stops after the current capture and ``Report.out_of_time`` is set.

    Raises:
        VaultError: The vault or inbox folder does not exist or cannot be written.
        VaultLockedError: Another run is processing this vault.
        ConfigError: The vault's configuration file is wrong.
    """
    stop = stop or threading.Event()
    opened = vault if isinstance(vault, Vault) else Vault(vault, read_only=dry_run)
    if settings is None:
        settings = load_settings(opened.path)
    halt = _Halt(stop, settings.max_seconds)
    if concurrency is None:
        concurrency = settings.concurrency
    from ._enrich import WebEnricher  # which imports this module

    owned = None
    if enricher is None:
        owned = enricher = WebEnricher.from_settings(settings, offline=offline, cache=not dry_run)
    enrich = not offline or (isinstance(enricher, WebEnricher) and enricher.offline)
    if offline:
        concurrency = 1  # no request to wait for: more threads would only contend for the GIL
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
        enricher=enricher,
        linker=linker or VaultLinker(),
        on_progress=on_progress,
    )
    interrupted = False
    captures: list[Path] = []
    try:
        opened.lock(timeout=settings.lock_timeout)
        run.skip = tuple(
            p for p in (_inside(opened.path, inbox_dir), _inside(opened.path, archive_dir)) if p
        )
        opened.scan(skip=run.skip)
        captures = list_captures(inbox_dir, settings.capture_glob)
        run.total = len(captures)
        ready, changing = _settled(captures, settings.settle_seconds, halt)
        if not halt.is_set():
            for path in changing:
                run.record(
                    path, "skipped", reason="still being written; it will be processed next run"
                )
        _process(run, ready, enrich=enrich, offline=offline, concurrency=concurrency, stop=halt)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if not isinstance(vault, Vault):
            opened.close()
        else:
            opened.unlock()
        if owned is not None:
            owned.close()
    handled = {outcome.capture for outcome in run.outcomes}
    left = [path for path in captures if run.label(path) not in handled]
    interrupted = interrupted or (stop.is_set() and bool(left))
    out_of_time = not interrupted and bool(left) and halt.out_of_time()
    for path in left:
        if out_of_time:
            reason = (
                f"the run's time budget ({settings.max_seconds:g} s) ran out first; "
                "it stays in the inbox for the next run"
            )
        else:
            reason = "the run was stopped first; it stays in the inbox for the next run"
        run.record(path, "skipped", reason=reason)
    return Report(
        vault=opened.path,
        inbox=inbox_dir,
        outcomes=tuple(run.outcomes),
        dry_run=dry_run,
        interrupted=interrupted,
        out_of_time=out_of_time,
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
        try:
            note, stat = read_capture(
                capture, max_bytes=run.settings.max_capture_bytes, source=run.settings.source_label
            )
        except InboxParseError as exc:
            run.failed(capture, exc, exc.reason)
            continue
        yield _Parsed(capture, note, (stat.st_size, stat.st_mtime_ns))


#: Notes written between two filings of their captures: their folders are fsynced once
#: per batch, then the captures are moved (and their folders fsynced) together.
_BATCH = 64


@attrs.frozen
class _Written:
    """A capture whose note is on disk (or already in the vault), waiting to be filed away."""

    parsed: _Parsed
    status: Status
    note: str
    reason: str = ""
    created: bool = False
    preview: str | None = None
    diff: str | None = None
    #: The note's write, when it finishes in the background (by the batch's end).
    pending: _PendingWrite | None = None


def _process(
    run: _Run,
    captures: list[Path],
    *,
    enrich: bool,
    offline: bool,
    concurrency: int,
    stop: _Flag,
) -> None:
    vocabulary = list(run.vault.index.tag_vocabulary())
    to_enrich: list[_Parsed] = []
    known_already: list[_Written] = []
    for parsed in _parse_all(run, captures):
        if stop.is_set():
            break
        known = _known_note(run.vault.index, parsed.note)
        if known is not None and not _may_improve(run, known[0]):
            try:
                known_already.append(_known(run, parsed, *known))
            except VaultError as exc:  # its note could not be recorded as ours (a full disk)
                run.failed(parsed.capture, exc)
        else:
            to_enrich.append(parsed)
    _file_away(run, known_already)

    def enrich_one(parsed: _Parsed) -> Enrichment:
        if stop.is_set():
            raise _Stopped
        if not enrich:
            return _no_enrichment(parsed.note)
        return run.enricher(parsed.note, vocabulary=vocabulary)

    # Offline, enriching waits for nothing (the default enricher reads the HTTP cache; any
    # other is not called): it is done in this thread, capture by capture, since a thread of
    # its own would only take turns with this one for the interpreter.
    inline = not enrich or offline
    written: list[_Written] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures: list[concurrent.futures.Future[Enrichment] | _Inline] = [
            _Inline(enrich_one, parsed) if inline else pool.submit(enrich_one, parsed)
            for parsed in to_enrich
        ]
        try:
            with contextlib.ExitStack() as batch:
                batch.enter_context(run.vault.batch())
                draining = False  # out of time: write what is enriched already, wait for nothing
                for parsed, future in zip(to_enrich, futures, strict=True):
                    if not inline and not future.done():
                        # The run waits for this capture anyway: put the notes synced in
                        # the background in place now, so that they show up in Obsidian.
                        with contextlib.suppress(VaultError):  # raised again at the batch's end
                            run.vault._finish_writes()
                    if draining:
                        if inline or not future.done() or future.cancelled():
                            continue
                    elif not inline and not _finished(future, stop):  # type: ignore[arg-type]
                        if not _out_of_time_only(stop):
                            break  # stopped: what is still being fetched is left for next time
                        draining = True
                        continue
                    try:
                        enrichment = future.result()
                    except _Stopped:
                        if draining:
                            continue
                        break
                    except Exception as exc:  # an enricher bug must not cost the capture
                        logger.exception("enriching %s failed", parsed.capture)
                        enrichment = Enrichment(
                            evolve(
                                parsed.note,
                                status="partial",
                                status_reason=f"enrichment failed: {exc}",
                            )
                        )
                    try:
                        done = _write(run, parsed, enrichment)
                    except VaultError as exc:  # the state refused a change (a full disk)
                        run.failed(parsed.capture, exc)
                        done = None
                    if done is not None:
                        written.append(done)
                    if stop.is_set() and not draining:
                        if not _out_of_time_only(stop):
                            break  # the current capture is finished; the rest wait for next time
                        draining = True
                    if len(written) >= _BATCH:
                        _file_away(run, _durable(run, batch, written))
                        written = []
                        batch.enter_context(run.vault.batch())
                written = _durable(run, batch, written)
        finally:
            for future in futures:
                future.cancel()
    _file_away(run, written)


def _out_of_time_only(stop: _Flag) -> bool:
    """Tell whether the run halts because its time budget is spent (not because it was
    asked to stop): then the captures already enriched are still written, so that one slow
    capture ahead of them cannot hold back run after run."""
    return isinstance(stop, _Halt) and not stop.stop.is_set()


def _durable(run: _Run, batch: contextlib.ExitStack, written: list[_Written]) -> list[_Written]:
    """End the batch, making its notes durable; return those whose captures may be filed away.

    If their folder cannot be synced (an I/O error), the notes may not last: their captures
    stay in the inbox, and the next run recognises the notes by their ``capture_id``.
    """
    unsynced: VaultError | None = None
    try:
        batch.close()
    except VaultError as exc:
        unsynced = exc
    durable = []
    for item in written:
        if item.pending is not None and item.pending.error is not None:
            _failed_write(run, item.parsed.capture, item.pending.error)
        elif unsynced is not None:
            reason = f"{unsynced}; the capture stays in the inbox"
            run.failed(item.parsed.capture, unsynced, reason, note=item.note)
        else:
            durable.append(item)
    return durable


def _failed_write(run: _Run, capture: Path, exc: ObsidianInboxError) -> None:
    """Record that the note of ``capture`` could not be written (the capture stays); a
    conflict names the note it left untouched."""
    if isinstance(exc, NoteConflictError):
        run.failed(capture, exc, exc.reason, note=run.label(exc.path))
    else:
        run.failed(capture, exc)


class _Stopped(Exception):
    """Raised inside workers once the run is asked to stop."""


class _Inline:
    """Work done in the calling thread when its result is asked for (a future's stand-in)."""

    def __init__(self, work: Callable[[_Parsed], Enrichment], parsed: _Parsed) -> None:
        self._work = work
        self._parsed = parsed

    def result(self) -> Enrichment:
        return self._work(self._parsed)

    def done(self) -> bool:
        return False

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False


def _finished(future: concurrent.futures.Future[Enrichment], stop: _Flag) -> bool:
    """Wait for ``future``; return False if the run is stopped before it is done."""
    while True:
        try:
            future.exception(timeout=0.05)
        except concurrent.futures.TimeoutError:
            if stop.is_set():
                return False
            continue
        except concurrent.futures.CancelledError:
            return False
        return True


def _may_improve(run: _Run, path: str) -> bool:
    """Tell whether an existing note is ours, unedited and partial, so a new capture may improve it."""
    if not run.vault.owns(path):
        return False
    try:
        return run.vault.read_note(path).status == "partial"
    except ObsidianInboxError:
        return False


def _known(run: _Run, parsed: _Parsed, path: str, kind: str) -> _Written:
    """The outcome of a capture the vault already has a note for."""
    if kind == "same-capture":
        # An interrupted run wrote the note but did not file the capture away: finish it,
        # once the note is durable (that run may have been stopped before it synced).
        if not run.dry_run:
            if run.vault._store.write_record(path) is None:
                run.vault.adopt(path, parsed.note.capture_id)
            run.vault.make_durable(path)
        return _Written(
            parsed,
            "created",
            path,
            reason="the note was written by an interrupted run; filed the capture away",
        )
    reason = f"already in the vault as {path}"
    if not run.vault.owns(path) and run.vault._store.write_record(path):
        reason += " (edited there since; left untouched)"
    return _Written(parsed, "duplicate", path, reason=reason)


def _file_away(run: _Run, written: list[_Written]) -> None:
    """Move the captures of notes now on disk to the archive, durably, and record outcomes."""
    try:
        _file_away_batch(run, written)
    except VaultError as exc:  # the captures are filed; only forgetting their attempts failed
        logger.warning("%s", exc)


def _file_away_batch(run: _Run, written: list[_Written]) -> None:
    with run.vault.batch():
        for item in written:
            capture = item.parsed.capture
            if _signature(capture) != item.parsed.signature:
                # Changed while we worked (still being synced): undo our note, retry later.
                if not run.dry_run and item.created and run.vault.owns(item.note):
                    try:
                        (run.vault.path / item.note).unlink()
                    except OSError as exc:
                        run.failed(
                            capture,
                            exc,
                            "changed while being processed, and its note could not "
                            f"be removed: {exc.strerror or exc}",
                            note=item.note,
                        )
                        continue
                    run.vault.index.remove(item.note)
                run.record(
                    capture,
                    "skipped",
                    reason="changed while being processed; it will be processed next run",
                )
                continue
            try:
                archived = run.file_away(capture)
            except OSError as exc:
                run.failed(
                    capture,
                    exc,
                    "the note is written, but the capture could not be filed away: "
                    f"{exc.strerror or exc}",
                    note=item.note,
                )
                continue
            if not run.dry_run:
                with contextlib.suppress(VaultError):  # said once, at the batch's end
                    run.vault._store.clear_attempts(item.parsed.note.capture_id)
            run.record(
                capture,
                item.status,
                note=item.note,
                archived=archived,
                reason=item.reason,
                preview=item.preview,
                diff=item.diff,
            )


def _write(run: _Run, parsed: _Parsed, enrichment: Enrichment) -> _Written | None:
    """Write the note of a capture; return it for filing away, or None if it has an outcome already."""
    note = run.linker(enrichment.note, run.vault.index)
    capture = parsed.capture
    state = run.vault._store
    if enrichment.transient:
        reason = "; ".join(enrichment.transient)
        attempts = state.attempts(note.capture_id) + 1
        if not run.dry_run:
            state.record_attempt(note.capture_id, reason)
        if attempts < run.settings.max_attempts:
            run.record(
                capture,
                "deferred",
                error="FetchError",
                reason=f"{reason} (attempt {attempts} of {run.settings.max_attempts}; kept in the inbox)",
            )
            return None
        note = evolve(
            note,
            status="partial",
            status_reason=note.status_reason or f"{reason} (after {attempts} attempts)",
        )

    known = _known_note(run.vault.index, note)
    if known is not None and run.vault._writing(known[0]):
        # A note this run is still writing (a second capture of its URL): see it written.
        run.vault._finish_writes()
        known = _known_note(run.vault.index, note)
    if known is not None and not os.path.lexists(run.vault.path / known[0]):
        # Renamed or deleted in Obsidian while this run was working: look again.
        run.vault.scan(skip=run.skip)
        known = _known_note(run.vault.index, note)
    final = evolve(note, modified=now())
    before: str | None = None
    pending: _PendingWrite | None = None
    try:
        if known is not None:
            path, kind = known
            if kind == "same-url" and not _may_improve(run, path):
                return _known(run, parsed, path, kind)
            before = _read_text(run.vault.path / path) if run.dry_run else None
            result = run.vault.write_note(final, path, replace=True)
            status: Status = "updated" if kind == "same-url" else "created"
        else:
            folder = run.settings.folder_for(note.category)
            path = run.vault.new_note_path(note, folder, template=run.settings.file_name)
            result, pending = run.vault._start_write(final, path)
            status = "created"
    except (RenderError, VaultError) as exc:  # NoteConflictError among them
        _failed_write(run, capture, exc)
        return None
    if note.status == "partial":
        status = "partial"
    preview = diff = None
    if run.dry_run:  # show what would be written, or how an existing note would change
        preview = run.vault.render(final).decode("utf-8")
        diff = note_diff(before, preview, result.path) if before is not None else None
    return _Written(
        parsed,
        status,
        result.path,
        reason=note.status_reason,
        created=result.action == "created",
        preview=preview,
        diff=diff,
        pending=pending,
    )


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
