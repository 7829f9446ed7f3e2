"""The vault on disk: finding notes, writing them safely, filing captures away (I/O).

Safety rules, all enforced here:

- a file is only ever rewritten when it is byte-identical to what this library last
  wrote there (the SHA-256 of every write is kept in the state file);
- writes are atomic and durable: a new note is written to a file without a name
  (``O_TMPFILE``, on Linux) or to a hidden temporary file in its folder, synced
  (``fsync``), then linked to its name only if no file has it (a note replacing one of
  ours: a temporary file renamed over it), then its folder is synced; stray temporary
  files are removed next time. Inside a batch, new notes are synced by a thread of
  their own while the next ones are prepared;
- nothing is written outside the vault, nor through a symbolic link;
- a capture is moved to the archive only after its note is on disk, and never deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import html
import itertools
import logging
import os
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import attrs
import filelock

from ._errors import (
    NoteConflictError,
    NoteFormatError,
    ObsidianInboxError,
    VaultError,
    VaultLockedError,
)
from ._index import TEMP_SUFFIX, NoteInfo, ScanResult, VaultIndex, scan_vault
from ._naming import DEFAULT_NAME_TEMPLATE, format_name, name_fields, note_file_name
from ._note import Note
from ._render import parse_note, render_note, verify_rendered
from ._state import State

__all__ = ["STATE_FOLDER", "Vault", "WriteResult", "find_vault", "fsync_folder"]

logger = logging.getLogger(__name__)

#: The folder, inside the vault, where obsidian-inbox keeps its state and lock.
STATE_FOLDER = ".obsidian-inbox"
_STATE_FILE = "state.sqlite3"
#: The " (2)" that tells apart notes of the same name.
_NUMBER_SUFFIX = re.compile(r" \(([0-9]+)\)\.md$")
_LOCK_FILE = "lock"

WriteAction = Literal["created", "updated", "unchanged"]


@attrs.frozen
class WriteResult:
    """The outcome of writing a note.

    Attributes:
        path: The note's vault-relative path (``/`` separators).
        action: ``"created"``, ``"updated"``, or ``"unchanged"`` (same bytes already there).
    """

    path: str
    action: WriteAction


def find_vault(start: Path | str | None = None) -> Path | None:
    """Return the nearest folder at or above ``start`` (default: the working directory) holding ``.obsidian/``."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".obsidian").is_dir():
            return candidate
    return None


#: What ``fsync`` of a folder fails with where folders cannot be synced (no error then).
_FSYNC_UNSUPPORTED = frozenset(
    {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EROFS}
)


def fsync_folder(folder: Path, *, strict: bool = False) -> None:
    """Make a rename or creation inside ``folder`` durable (a no-op where unsupported).

    Args:
        folder: The folder.
        strict: Raise ``OSError`` when the sync fails for another reason than being
            unsupported (an I/O error, say): what was renamed there may not last.
    """
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        if strict and os.name != "nt":  # Windows cannot open folders; renames are durable
            raise
        return
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if strict and exc.errno not in _FSYNC_UNSUPPORTED:
            raise
        logger.debug("cannot sync folder %s: %s", folder, exc.strerror or exc)
    finally:
        os.close(descriptor)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Linux makes a file without a name (``O_TMPFILE``) that can be named later, atomically
#: and only if the name is free: a new note needs no temporary name to remove, its sync
#: does not touch its folder, and a crash leaves nothing behind. Elsewhere, and on file
#: systems without it, a note is written to a hidden temporary file first.
_O_TMPFILE: int = getattr(os, "O_TMPFILE", 0)
#: What opening a file without a name fails with where the kernel or file system lacks it.
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})
#: Where an open file is named, to give it a name (linkat through /proc, as open(2) says).
_PROC_FD = "/proc/self/fd"

#: Tells apart the temporary files of one process (with its id, from other processes').
_temp_numbers = itertools.count()
_pid = os.getpid()


def _forked() -> None:
    global _pid  # a forked child has another id
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _open_temp(folder: Path, name: str) -> tuple[str, int]:
    """Create a new hidden temporary file in ``folder`` for the file ``name``; return its
    path and its descriptor, open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    base = os.path.join(folder, f".{name[:80]}.")
    while True:
        temp = f"{base}{_pid:x}-{next(_temp_numbers):x}{TEMP_SUFFIX}"
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:  # left by a process that had the same id: take the next
            continue


def _write_all(descriptor: int, data: bytes) -> None:
    """Write ``data`` to the open file ``descriptor`` (not yet durably)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _write_temp(folder: Path, name: str, data: bytes) -> str:
    """Write ``data`` durably to a new hidden temporary file in ``folder``; return its path."""
    temp, descriptor = _open_temp(folder, name)
    try:
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _link_new(source: str, target: str, *, folder: int | None = None) -> None:
    """Give the file ``source`` the name ``target``, unless a file has it already.

    Args:
        source: A temporary file; or, with ``folder``, ``/proc/self/fd/N`` for a file
            without a name.
        target: The new name (with ``folder``: inside that folder).
        folder: The descriptor of ``target``'s folder (linkat follows ``source``).

    Raises:
        FileExistsError: ``target`` exists; nothing was changed.
        OSError: The link could not be made.
    """
    try:
        os.link(source, target, dst_dir_fd=folder, follow_symlinks=True)
    except OSError as exc:
        no_hard_links = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}
        if folder is not None or exc.errno not in no_hard_links:
            raise
        if os.path.lexists(target):  # a file system without hard links: rename, carefully
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from exc
        os.replace(source, target)
        return
    if folder is None:
        with contextlib.suppress(OSError):  # the note is in place; the next scan removes it
            os.unlink(source)


class _Syncer:
    """A thread that fsyncs the notes a batch writes, one after another, while the main
    thread prepares the next ones: a sync waits for the disk, not for the interpreter.

    The thread takes the interpreter only to pick up a note and to hand it back, so it
    seldom makes the main thread wait for it.
    """

    def __init__(self) -> None:
        self._todo: queue.SimpleQueue[_PendingWrite | str | None] = queue.SimpleQueue()
        #: The notes synced (or that failed to), in the order they were given.
        self.done: queue.SimpleQueue[_PendingWrite] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="obsidian-inbox-sync", daemon=True)
        self._thread.start()

    def sync(self, pending: _PendingWrite) -> None:
        """Sync ``pending``'s temporary file; it then comes out of :attr:`done`."""
        self._todo.put(pending)

    def sync_folder(self, folder: str) -> None:
        """Sync ``folder`` (best effort: failures are not reported)."""
        self._todo.put(folder)

    def _run(self) -> None:
        while (pending := self._todo.get()) is not None:
            if isinstance(pending, str):
                with contextlib.suppress(Exception):  # best effort, and this thread must go on
                    fsync_folder(Path(pending))
                continue
            try:
                os.fsync(pending.descriptor)
            except OSError as exc:
                pending.sync_error = exc
            except Exception as exc:  # noqa: BLE001 - a bug must not pass for a note synced
                pending.sync_error = OSError(errno.EIO, f"cannot sync: {exc!r}")
            self.done.put(pending)

    def close(self) -> None:
        """Stop the thread once the notes given are synced."""
        self._todo.put(None)
        self._thread.join()


@attrs.define(eq=False)
class _PendingWrite:
    """A new note written to a file without a name (or a temporary one), being synced in
    the background (see :meth:`Vault._start_write`); it is named once the sync is done.

    Attributes:
        path: The note's vault-relative path.
        error: Why it could not be written; set once the write is finished (at the
            latest when its batch ends), None if it was written.
        finished: True once the outcome is known and recorded.
    """

    path: str
    folder: Path
    full: str
    temp: str | None  # None: a file without a name (O_TMPFILE), named in ``folder`` by:
    folder_descriptor: int | None
    descriptor: int
    digest: str
    capture_id: str
    replaced: NoteInfo | None  # what the index had at this path before
    synced: bool = False  # back from the syncer
    sync_error: OSError | None = None
    error: ObsidianInboxError | None = None
    finished: bool = False


class Vault:
    """An Obsidian vault: a folder of Markdown notes.

    Args:
        path: The vault's folder. It must exist.
        read_only: Change nothing on disk, not even obsidian-inbox's own state (dry runs).

    Raises:
        VaultError: ``path`` does not exist or is not a folder.

    The state (write hashes, index cache, lock) lives in ``<vault>/.obsidian-inbox/``,
    which Obsidian does not show.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        root = Path(path).expanduser()
        if not root.exists():
            raise VaultError(root, "vault folder does not exist")
        if not root.is_dir():
            raise VaultError(root, "is not a folder")
        self.path = root.resolve()
        self.read_only = read_only
        self._state: State | None = None
        self._index: VaultIndex | None = None
        self._lock: filelock.BaseFileLock | None = None
        #: How many notes the last scan had to read (the rest came from the cache).
        self.last_scan_reads = 0
        self._batch_depth = 0
        self._unsynced: dict[str, bool] = {}  # folder -> strict (str keys: a Path hashes slowly)
        self._folders: dict[str, Path] = {}
        self._prefixes: dict[str, str] = {}  # folder -> its vault-relative path and "/"
        self._next_number: dict[str, int] = {}  # where to start probing "Title (n).md"
        self._archives: set[str] = set()  # archive folders known to exist
        self._syncer: _Syncer | None = None
        self._namers: dict[str, int | None] = {}  # folder -> its descriptor, to name files in
        self._namer_descriptors: list[int] = []  # closed with the lock
        self._syncing = 0  # notes given to the syncer and not yet back
        self._in_flight: dict[str, _PendingWrite] = {}  # path -> its write, started in a batch
        self._unrecorded: list[tuple[str, str, str]] = []  # notes in place, recorded at the end

    def __repr__(self) -> str:
        return f"Vault({str(self.path)!r})"

    # --- state, lock and index --------------------------------------------------------

    @property
    def state_folder(self) -> Path:
        """The folder of obsidian-inbox's state inside the vault."""
        return self.path / STATE_FOLDER

    @property
    def _store(self) -> State:
        """The vault's state file (opened on first use); internal."""
        if self._state is None:
            file = self.state_folder / _STATE_FILE
            try:
                if not self.read_only:
                    self._state = State(file)
                elif file.exists():
                    self._state = State(file, read_only=True)
                else:
                    self._state = State.in_memory()
            except (OSError, sqlite3.Error) as exc:
                raise VaultError(file, f"cannot open the state file: {exc}") from exc
        return self._state

    def close(self) -> None:
        """Release the lock and close the state file."""
        self.unlock()
        if self._state is not None:
            self._state.close()
            self._state = None

    def __enter__(self) -> Vault:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def lock(self, *, timeout: float = 0) -> None:
        """Take the vault's lock, so no other run processes the same captures.

        Raises:
            VaultLockedError: Another run holds it (after waiting ``timeout`` seconds).
            VaultError: The lock file cannot be created or opened.
        """
        if self.read_only or self._lock is not None:
            return
        lock = filelock.FileLock(self.state_folder / _LOCK_FILE)
        try:
            self.state_folder.mkdir(exist_ok=True)
            lock.acquire(timeout=timeout)
        except filelock.Timeout as exc:
            raise VaultLockedError(
                self.path,
                "another obsidian-inbox run is processing this vault; try again when it ends",
            ) from exc
        except OSError as exc:
            raise VaultError(
                self.state_folder / _LOCK_FILE, f"cannot take the lock: {exc.strerror or exc}"
            ) from exc
        self._lock = lock

    def unlock(self) -> None:
        """Release the lock, if held (and the threads writing in the background)."""
        with contextlib.suppress(VaultError):  # only after an error: batches finish their writes
            self._finish_writes()
        if self._syncer is not None:
            self._syncer.close()
            self._syncer = None
        for descriptor in self._namer_descriptors:
            with contextlib.suppress(OSError):
                os.close(descriptor)
        self._namers.clear()
        self._namer_descriptors.clear()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def scan(self, *, skip: tuple[str, ...] = ()) -> VaultIndex:
        """(Re-)index the vault; remove temporary files an interrupted run left behind.

        Args:
            skip: Vault-relative folders not to index (the inbox, say).

        Raises:
            VaultError: The vault folder cannot be read.
        """
        result = self._scan(skip)
        return result.index

    def _scan(self, skip: tuple[str, ...]) -> ScanResult:
        # Notes being written must be on disk first: the scan would not see them, and it
        # removes temporary files.
        self._finish_writes()
        try:
            result = scan_vault(self.path, self._store, skip=skip)
        except OSError as exc:
            raise VaultError(self.path, f"cannot read the vault: {exc.strerror or exc}") from exc
        if not self.read_only and self._lock is not None:
            for temp in result.temp_files:
                with contextlib.suppress(OSError):
                    temp.unlink()
                    logger.info("removed %s, left by an interrupted run", temp)
        self._index = result.index
        self.last_scan_reads = result.read
        return result

    @property
    def index(self) -> VaultIndex:
        """The vault's index (built on first use)."""
        if self._index is None:
            self.scan()
        assert self._index is not None
        return self._index

    def notes(self) -> list[NoteInfo]:
        """Return the index entries of every note, sorted by path."""
        return sorted(self.index, key=lambda info: info.path)

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the vault, with ``/`` separators."""
        return (
            path.resolve().relative_to(self.path).as_posix()
            if path.is_absolute()
            else path.as_posix()
        )

    def read_note(self, path: str | os.PathLike[str]) -> Note:
        """Read the note at ``path`` (vault-relative or absolute).

        Raises:
            NoteFormatError: It cannot be read as a note.
        """
        full = self._resolve(path)
        try:
            text = full.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NoteFormatError(f"cannot read: {exc}", path=full) from exc
        return parse_note(text, path=full, title=full.stem)

    def _resolve(self, path: str | os.PathLike[str]) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.path / candidate

    # --- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes: their folders are fsynced and the state committed once, at the end.

        Everything written inside is durable when the block exits normally (and after a
        crash inside it, the next run recognises the notes by their ``capture_id``).
        """
        self._batch_depth += 1
        try:
            with self._store.batch():
                try:
                    yield
                finally:
                    if self._batch_depth == 1:
                        try:
                            self._finish_writes()
                        finally:
                            self._record_writes()
                if self._batch_depth == 1:
                    self._sync()
        finally:
            self._batch_depth -= 1

    def _sync(self) -> None:
        unsynced, self._unsynced = self._unsynced, {}
        for folder, strict in sorted(unsynced.items()):
            if strict or self._syncer is None:
                self._fsync(Path(folder), strict=strict)
            else:  # best effort (a capture filed away): in the background
                self._syncer.sync_folder(folder)

    def _touched(self, folder: Path, *, strict: bool = True) -> None:
        """Sync ``folder`` now, or at the end of the batch; ``strict``: it holds notes, whose
        durability must be known before their captures are filed away."""
        if self._batch_depth:
            key = str(folder)
            self._unsynced[key] = self._unsynced.get(key, False) or strict
        else:
            self._fsync(folder, strict=strict)

    @staticmethod
    def _fsync(folder: Path, *, strict: bool) -> None:
        try:
            fsync_folder(folder, strict=strict)
        except OSError as exc:
            raise VaultError(
                folder, f"cannot make the notes written here durable: {exc.strerror or exc}"
            ) from exc

    def folder(self, relative: str) -> Path:
        """Return the vault folder ``relative`` (created unless read-only), checked to be inside the vault.

        Raises:
            VaultError: It lies outside the vault (``..`` or a symbolic link leading out).
        """
        cached = self._folders.get(relative)
        if cached is not None:
            return cached
        folder = (self.path / relative).resolve() if relative else self.path
        if folder != self.path and self.path not in folder.parents:
            raise VaultError(
                self.path / relative, "lies outside the vault; refusing to write there"
            )
        if not self.read_only:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise VaultError(folder, f"cannot create folder: {exc.strerror or exc}") from exc
        self._folders[relative] = folder
        return folder

    def new_note_path(
        self, note: Note, folder: str, *, template: str = DEFAULT_NAME_TEMPLATE
    ) -> str:
        """Return a free vault-relative path for a new note titled like ``note``.

        Args:
            note: The note.
            folder: The vault-relative folder.
            template: The file name's template (see :attr:`Settings.file_name`).
        """
        base = self.folder(folder)
        prefix = self._prefixes.get(folder)
        if prefix is None:
            prefix = f"{base.relative_to(self.path).as_posix()}/" if base != self.path else ""
            self._prefixes[folder] = prefix
        base_name = str(base)

        def taken(name: str) -> bool:
            return self.index.path_taken(prefix + name) or os.path.lexists(
                os.path.join(base_name, name)
            )

        stem = (
            note.title
            if template == DEFAULT_NAME_TEMPLATE
            else format_name(template, name_fields(note))
        )
        key = prefix + stem.casefold()
        name = note_file_name(stem, exists=taken, first=self._next_number.get(key, 1))
        suffix = _NUMBER_SUFFIX.search(name)
        self._next_number[key] = int(suffix[1]) if suffix else 1
        return prefix + name

    def owns(self, relative: str, data: bytes | None = None) -> bool:
        """Tell whether the file at ``relative`` holds exactly what this library last wrote there."""
        full = self.path / relative
        if data is None:
            try:
                data = full.read_bytes()
            except OSError:
                return False
        record = self._store.write_record(relative)
        return record is not None and record.matches(_sha256(data))

    def adopt(self, relative: str, capture_id: str) -> None:
        """Record the note at ``relative`` as ours: it was written by a run that was interrupted."""
        data = (self.path / relative).read_bytes()
        self._store.adopt(relative, _sha256(data), capture_id)

    def make_durable(self, relative: str) -> None:
        """Sync the folder of the note at ``relative``, so that the note survives a power cut.

        Raises:
            VaultError: The folder cannot be synced (an I/O error, say).
        """
        self._fsync((self.path / relative).parent, strict=True)

    def render(self, note: Note) -> bytes:
        """Render ``note`` and check it reads back whole.

        Raises:
            RenderError: The Markdown would not read back as the same note.
        """
        text = render_note(note)
        verify_rendered(note, text)
        return text.encode("utf-8")

    def write_note(self, note: Note, relative: str, *, replace: bool = False) -> WriteResult:
        """Write ``note`` to the vault-relative path ``relative``, atomically and durably.

        Args:
            note: The note.
            relative: Where, e.g. ``"Notes/My note.md"``.
            replace: Allow replacing an existing file, which must then be exactly what
                this library last wrote there.

        Raises:
            RenderError: The note cannot be rendered without loss.
            NoteConflictError: The file exists and was edited by the user (or is not
                ours); it is left untouched.
            VaultError: The folder is outside the vault, or the disk refused the write.
        """
        data = self.render(note)
        full = self.path / relative
        folder = self.folder(Path(relative).parent.as_posix() if "/" in relative else "")
        full = folder / full.name
        exists = os.path.lexists(full)
        if exists:
            if full.is_symlink():
                raise NoteConflictError(
                    full, "is a symbolic link; obsidian-inbox never writes through one"
                )
            current = full.read_bytes()
            if current == data:
                return WriteResult(relative, "unchanged")
            if not replace or not self.owns(relative, current):
                raise NoteConflictError(
                    full, "was edited since obsidian-inbox wrote it; left untouched"
                )
        if self.read_only:
            return WriteResult(relative, "updated" if exists else "created")
        digest = _sha256(data)
        self._store.begin_write(relative, digest, note.capture_id)
        if exists:  # the new hash must be on record before the old bytes are replaced
            self._store.commit()
        if not exists:
            pending = self._write_unsynced(note, relative, folder, data, None)
            try:
                os.fsync(pending.descriptor)
            except OSError as exc:
                pending.sync_error = exc
            self._finish(pending)
            if pending.error is not None:
                raise pending.error
        else:
            try:
                temp = _write_temp(folder, full.name, data)
            except OSError as exc:
                raise VaultError(full, f"cannot write: {exc.strerror or exc}") from exc
            try:
                # Last check, as close to the rename as possible: the user may be typing.
                if not self.owns(relative, full.read_bytes()):
                    raise NoteConflictError(
                        full, "was edited while obsidian-inbox was working; left untouched"
                    )
                os.replace(temp, full)
            except BaseException as exc:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                if isinstance(exc, OSError):
                    raise VaultError(full, f"cannot write: {exc.strerror or exc}") from exc
                raise
        self._store.end_write(relative, digest)
        self.index.add(NoteInfo.from_note(relative, note))
        self._touched(folder)
        return WriteResult(relative, "updated" if exists else "created")

    def _start_write(self, note: Note, relative: str) -> tuple[WriteResult, _PendingWrite | None]:
        """Write a new note at a free path ``relative`` (from :meth:`new_note_path`) as
        :meth:`write_note` does, but, inside a batch, make it durable in the background
        while the caller goes on.

        The note is rendered and checked now, and is in the index at once (so that the
        next note's name and links take it into account). Its outcome is known once
        :meth:`_finish_writes` has run, at the latest when the batch ends: the returned
        write's ``error`` then says why it failed (a file that appeared at ``relative``
        meanwhile is left untouched: :class:`NoteConflictError`), the note left the index,
        and its capture must stay in the inbox. Outside a batch or in a read-only vault,
        it is :meth:`write_note` (no pending write).

        Raises:
            RenderError: The note cannot be rendered without loss.
            NoteConflictError: Outside a batch: a file is at ``relative`` already.
            VaultError: The folder is outside the vault, or the disk refused the file.
        """
        if not self._batch_depth or self.read_only or relative in self._in_flight:
            return self.write_note(note, relative), None
        index = self.index  # scanned first, if need be: a scan finishes the writes in flight
        self._finish_writes(wait=False)  # the notes synced meanwhile show up in Obsidian now
        data = self.render(note)
        folder = self.folder(relative.rpartition("/")[0])
        pending = self._write_unsynced(note, relative, folder, data, index.get(relative))
        self._in_flight[relative] = pending
        if self._syncer is None:
            self._syncer = _Syncer()
        self._syncer.sync(pending)
        self._syncing += 1
        index.add(NoteInfo.from_note(relative, note))
        return WriteResult(relative, "created"), pending

    def _write_unsynced(
        self, note: Note, relative: str, folder: Path, data: bytes, replaced: NoteInfo | None
    ) -> _PendingWrite:
        """Write the new note ``relative`` (rendered: ``data``) to a file not synced yet,
        without a name or with a temporary one (see :meth:`_open_new`).

        Raises:
            VaultError: The disk refused the file (nothing is left behind).
        """
        name = relative.rpartition("/")[2]
        full = os.path.join(folder, name)
        try:
            temp, namer, descriptor = self._open_new(folder, name)
        except OSError as exc:
            raise VaultError(Path(full), f"cannot write: {exc.strerror or exc}") from exc
        try:
            _write_all(descriptor, data)
        except BaseException as exc:
            os.close(descriptor)
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            if isinstance(exc, OSError):
                raise VaultError(Path(full), f"cannot write: {exc.strerror or exc}") from exc
            raise
        return _PendingWrite(
            relative,
            folder,
            full,
            temp,
            namer,
            descriptor,
            _sha256(data),
            note.capture_id,
            replaced,
        )

    def _open_new(self, folder: Path, name: str) -> tuple[str | None, int | None, int]:
        """Open a new file for the note ``name`` in ``folder``: without a name where the
        system allows it, else a hidden temporary file.

        Returns:
            The temporary file's path (None: the file has no name), the descriptor of the
            folder to name a file without a name in, and the new file's descriptor.
        """
        key = str(folder)
        namer = self._namers.get(key, -1)
        if namer == -1:
            namer = None
            if _O_TMPFILE and Path(_PROC_FD).is_dir():
                with contextlib.suppress(OSError):  # then the usual way
                    namer = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                    self._namer_descriptors.append(namer)
            self._namers[key] = namer
        if namer is not None:
            try:
                return None, namer, os.open(folder, _O_TMPFILE | os.O_WRONLY, 0o666)
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE:
                    raise
                logger.debug("%s: no files without a name here (%s)", folder, exc.strerror)
                self._namers[key] = None
        temp, descriptor = _open_temp(folder, name)
        return temp, None, descriptor

    def _writing(self, relative: str) -> bool:
        """Tell whether the note at ``relative`` is still being written in the background."""
        return relative in self._in_flight

    def _finish_writes(self, *, wait: bool = True) -> None:
        """Put the notes synced in the background in place, and record each outcome.

        A note written is recorded as ours (at the end of the batch); one that failed
        leaves the index, with the reason in its pending write.

        Raises:
            VaultError: The state refused the records (a full disk); its batch fails.

        Args:
            wait: Wait for every sync; otherwise finish only the notes already synced.
        """
        self._collect_synced(wait=wait)
        for path in [path for path, pending in self._in_flight.items() if pending.synced]:
            pending = self._in_flight.pop(path)  # finished once, whatever happens next
            self._finish(pending)
            if pending.error is not None:
                self.index.remove(path)
                if pending.replaced is not None:
                    self.index.add(pending.replaced)
                continue
            self._unrecorded.append((path, pending.digest, pending.capture_id))
            self._touched(pending.folder)
        if not self._batch_depth:
            self._record_writes()

    def _record_writes(self) -> None:
        """Record the notes put in place as ours, all at once (at the end of their batch).

        Raises:
            VaultError: The state refused the records (a full disk); the batch fails.
        """
        written, self._unrecorded = self._unrecorded, []
        if written:
            self._store.record_writes(written)

    def _collect_synced(self, *, wait: bool) -> None:
        """Mark the notes back from the syncer as synced: every one given, with ``wait``."""
        while self._syncing:
            assert self._syncer is not None
            try:
                pending = self._syncer.done.get(block=wait)  # interruptible
            except queue.Empty:
                return
            pending.synced = True
            self._syncing -= 1

    @staticmethod
    def _finish(pending: _PendingWrite) -> None:
        """Give a synced note's file its name, unless a file took it meanwhile; or, if the
        sync failed (or the name was taken), let the file go: one without a name is freed
        by closing it, a temporary one is removed."""
        try:
            try:
                if pending.sync_error is not None:
                    raise pending.sync_error
                if pending.temp is None:
                    _link_new(
                        f"{_PROC_FD}/{pending.descriptor}",
                        os.path.basename(pending.full),
                        folder=pending.folder_descriptor,
                    )
                else:
                    _link_new(pending.temp, pending.full)
            finally:
                os.close(pending.descriptor)
        except FileExistsError as exc:
            pending.error = NoteConflictError(
                Path(pending.full), "appeared while obsidian-inbox was writing; left untouched"
            )
            pending.error.__cause__ = exc
        except OSError as exc:
            pending.error = VaultError(Path(pending.full), f"cannot write: {exc.strerror or exc}")
            pending.error.__cause__ = exc
        if pending.error is not None and pending.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(pending.temp)
        pending.finished = True

    # --- filing captures away ------------------------------------------------------------

    def archive_capture(self, capture: Path, archive: Path, *, inbox: Path | None = None) -> Path:
        """Move ``capture`` into the ``archive`` folder durably; never overwrite, never delete.

        Args:
            capture: The capture file.
            archive: The folder to move it to (made if need be).
            inbox: The folder ``capture`` is in, when the caller knows it.

        Returns:
            Where the capture now is.
        """
        key = str(archive)
        if key not in self._archives:  # made once per run (and again if it disappears)
            archive.mkdir(parents=True, exist_ok=True)
            self._archives.add(key)
        target = archive / capture.name
        number = 1
        while os.path.lexists(target):
            number += 1
            target = archive / f"{capture.stem}-{number}{capture.suffix}"
        try:
            os.rename(capture, target)
        except FileNotFoundError:
            if not capture.exists() or archive.is_dir():
                raise
            archive.mkdir(parents=True, exist_ok=True)  # removed during the run
            os.rename(capture, target)
        # Best effort: should the move be lost, the capture is back in the inbox, and its
        # note is recognised by its capture_id.
        self._touched(archive, strict=False)
        self._touched(inbox or capture.parent, strict=False)
        return target

    # --- display ----------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """Show the vault in Jupyter: its path and a table of its notes."""
        notes = self.notes()
        rows = "".join(
            f"<tr><td>{html.escape(info.path)}</td><td>{html.escape(', '.join(info.tags[:5]))}</td>"
            f"<td>{html.escape(info.url)}</td></tr>"
            for info in notes[:50]
        )
        more = f"<p>… and {len(notes) - 50} more</p>" if len(notes) > 50 else ""
        return (
            f"<p><b>Vault</b> <code>{html.escape(str(self.path))}</code>: {len(notes)} notes</p>"
            f"<table><thead><tr><th>note</th><th>tags</th><th>url</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{more}"
        )


def now() -> dt.datetime:
    """The current local time, to the second (notes' ``modified``)."""
    return dt.datetime.now().replace(microsecond=0)
