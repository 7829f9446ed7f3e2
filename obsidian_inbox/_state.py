"""The vault's state file: ``<vault>/.obsidian-inbox/state.sqlite3`` (I/O).

It remembers what obsidian-inbox wrote (the SHA-256 of each note, so a note the user
edited is never overwritten), how often a capture's fetch failed transiently, and a cache
of the vault index (so a later run re-reads only the notes that changed).

A write is recorded in two steps: the hash of the new bytes is stored as *pending*
before the file is replaced, and confirmed after. A crash between the two leaves a
pending hash that still matches the file, so the note is still recognised as ours.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from ._errors import VaultError

__all__ = ["IndexRow", "State", "WriteRecord"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS writes (
    path TEXT PRIMARY KEY,          -- vault-relative, POSIX separators
    sha256 TEXT,                   -- of the bytes last written and confirmed
    pending TEXT,                  -- of bytes being written (set before the rename)
    capture_id TEXT,
    written_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    capture_id TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    reason TEXT NOT NULL,
    last_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    data TEXT NOT NULL             -- JSON: url, capture_id, aliases, tags, error
);
CREATE TABLE IF NOT EXISTS folders (
    folder TEXT PRIMARY KEY,       -- vault-relative: "" or ending in "/"
    listing TEXT NOT NULL          -- its notes as last scanned: name NUL size NUL mtime_ns, per line
);
"""


@attrs.frozen
class WriteRecord:
    """What obsidian-inbox knows about a file it wrote."""

    path: str
    sha256: str | None
    pending: str | None
    capture_id: str | None

    def matches(self, digest: str) -> bool:
        """Tell whether ``digest`` is the hash of bytes this library wrote there."""
        return digest in {self.sha256, self.pending}


@attrs.frozen
class IndexRow:
    """A cached entry of the vault index.

    Attributes:
        path: The note's vault-relative path.
        size: Its size in bytes when it was read.
        mtime_ns: Its modification time when it was read (-1: re-read it next time).
        data: What was learned from it, as JSON text (decoded only when needed).
    """

    path: str
    size: int
    mtime_ns: int
    data: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class State:
    """The SQLite state of one vault.

    Args:
        path: The database file, or None for a throw-away in-memory state (dry runs).
        read_only: Open an existing database without changing it (dry runs).

    A change the database refuses (a full disk) raises :class:`VaultError`, and again at
    the end of the batch it was part of (see :meth:`batch`).
    """

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
        elif read_only:
            # A read-only connection to a WAL database creates (and leaves) the -wal and -shm
            # files. When no -wal file exists (the last writer closed cleanly), open it as
            # immutable: SQLite then reads the one file and creates nothing, so a dry run
            # leaves the state folder byte-for-byte as it was.
            wal = path.with_name(path.name + "-wal")
            immutable = "" if wal.exists() else "&immutable=1"
            uri = path.resolve().as_uri() + "?mode=ro" + immutable
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # Durable enough: a write record lost to a power cut (not to kill -9) only
            # makes a note look user-owned, so it is left alone: safe.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.row_factory = sqlite3.Row
        self._batch_depth = 0
        self._broken: VaultError | None = None
        self._attempted: set[str] | None = None  # capture_ids with failed attempts, once read
        self.read_only = read_only and path is not None
        if not self.read_only:
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),)
            )
            self._db.commit()

    @classmethod
    def in_memory(cls) -> State:
        """Return an empty state that lives only in memory."""
        return cls(None)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> State:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the changes made inside in one transaction, committed at the end."""
        if not self._batch_depth:
            self._attempted = None  # another process may have changed them since
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            self._done()

    def _done(self) -> None:
        if not self._batch_depth and not self.read_only:
            broken, self._broken = self._broken, None
            with self._changing():
                self._db.commit()
            if broken is not None:  # some of the batch's changes were lost: say so at its end
                raise broken

    def commit(self) -> None:
        """Commit now, even inside a batch (a record that must be durable before a rename)."""
        if not self.read_only:
            with self._changing():
                self._db.commit()

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Turn a failed change (a full disk, say) into a VaultError, now and at the batch's end.

        The transaction is rolled back, so the batch's earlier changes are lost too: its
        end raises the error again, so that nothing that relied on them (filing captures
        away) goes ahead.
        """
        try:
            yield
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            error = VaultError(self.path or ":memory:", f"cannot update the state file: {exc}")
            if self._batch_depth and self._broken is None:
                self._broken = error
            raise error from exc

    # --- writes ---------------------------------------------------------------------

    def write_record(self, path: str) -> WriteRecord | None:
        """Return what was recorded about the file at vault-relative ``path``."""
        try:
            row = self._db.execute(
                "SELECT path, sha256, pending, capture_id FROM writes WHERE path = ?", (path,)
            ).fetchone()
        except sqlite3.OperationalError:  # a read-only state without the table
            return None
        return WriteRecord(row[0], row[1], row[2], row[3]) if row else None

    def begin_write(self, path: str, digest: str, capture_id: str) -> None:
        """Record that bytes hashing to ``digest`` are about to replace ``path``."""
        if self.read_only:
            return
        with self._changing():
            self._db.execute(
                """INSERT INTO writes (path, sha256, pending, capture_id, written_at)
                   VALUES (?, NULL, ?, ?, ?)
                   ON CONFLICT(path) DO UPDATE SET pending = excluded.pending,
                       capture_id = excluded.capture_id, written_at = excluded.written_at""",
                (path, digest, capture_id, _now()),
            )
        self._done()

    def end_write(self, path: str, digest: str) -> None:
        """Confirm that ``path`` now holds the bytes hashing to ``digest``."""
        if self.read_only:
            return
        with self._changing():
            self._db.execute(
                "UPDATE writes SET sha256 = ?, pending = NULL WHERE path = ?", (digest, path)
            )
        self._done()

    def record_writes(self, written: Iterable[tuple[str, str, str]]) -> None:
        """Record new files just written, each as (path, digest, capture_id), in one go.

        For files that did not exist before: nothing of the user's can be mistaken for
        ours if the record is lost, so no pending step is needed (the next run recognises
        such a note by its ``capture_id``).
        """
        if self.read_only:
            return
        with self._changing():
            now = _now()
            self._db.executemany(
                """INSERT INTO writes (path, sha256, pending, capture_id, written_at)
                   VALUES (?, ?, NULL, ?, ?)
                   ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, pending = NULL,
                       capture_id = excluded.capture_id, written_at = excluded.written_at""",
                [(path, digest, capture_id, now) for path, digest, capture_id in written],
            )
        self._done()

    def adopt(self, path: str, digest: str, capture_id: str) -> None:
        """Record an existing file as written by us (recovering an interrupted run)."""
        self.begin_write(path, digest, capture_id)
        self.end_write(path, digest)

    def forget_write(self, path: str) -> None:
        """Forget a file (it was deleted or renamed by the user)."""
        if not self.read_only:
            with self._changing():
                self._db.execute("DELETE FROM writes WHERE path = ?", (path,))
            self._done()

    # --- transient failures -----------------------------------------------------------

    def attempts(self, capture_id: str) -> int:
        """Return how many runs already failed to fetch this capture transiently."""
        try:
            row = self._db.execute(
                "SELECT count FROM attempts WHERE capture_id = ?", (capture_id,)
            ).fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0]) if row else 0

    def record_attempt(self, capture_id: str, reason: str) -> int:
        """Count one more transient failure; return the new count."""
        count = self.attempts(capture_id) + 1
        if not self.read_only:
            with self._changing():
                self._db.execute(
                    "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?)",
                    (capture_id, count, reason, _now()),
                )
            self._captures_attempted().add(capture_id)
            self._done()
        return count

    def clear_attempts(self, capture_id: str) -> None:
        """Forget the failures of a capture that is now done."""
        if self.read_only or capture_id not in self._captures_attempted():
            return
        with self._changing():
            self._db.execute("DELETE FROM attempts WHERE capture_id = ?", (capture_id,))
        self._captures_attempted().discard(capture_id)
        self._done()

    def _captures_attempted(self) -> set[str]:
        """The captures with failed attempts on record (read once: most runs have none)."""
        if self._attempted is None:
            try:
                rows = self._db.execute("SELECT capture_id FROM attempts").fetchall()
            except sqlite3.OperationalError:
                rows = []
            self._attempted = {row[0] for row in rows}
        return self._attempted

    # --- index cache ------------------------------------------------------------------

    def index_rows(self, folder: str | None = None) -> dict[str, tuple[int, int, str]]:
        """Return cached index entries: vault-relative path -> (size, mtime_ns, JSON data).

        Args:
            folder: Only the notes directly in this vault folder (``""`` or ending in
                ``/``); default: every note.
        """
        query = "SELECT path, size, mtime_ns, data FROM notes"
        parameters: tuple[str, ...] = ()
        if folder == "":
            query += " WHERE path NOT GLOB '*/*'"
        elif folder is not None:
            literal = "".join(f"[{c}]" if c in "*?[" else c for c in folder)
            query += " WHERE path GLOB ? AND path NOT GLOB ?"
            parameters = (literal + "*", literal + "*/*")
        try:
            cursor = self._db.execute(query, parameters)
        except sqlite3.OperationalError:
            return {}
        return {path: (size, mtime_ns, data) for path, size, mtime_ns, data in cursor}

    def index_data(self) -> dict[str, str]:
        """Return the cached JSON data of every note, by vault-relative path."""
        try:
            return dict(self._db.execute("SELECT path, data FROM notes"))
        except sqlite3.OperationalError:
            return {}

    def index_folders(self) -> dict[str, str]:
        """Return each folder's listing of notes as last scanned (see :func:`scan_vault`)."""
        try:
            return dict(self._db.execute("SELECT folder, listing FROM folders"))
        except sqlite3.OperationalError:
            return {}

    def update_index(
        self,
        changed: Iterable[IndexRow],
        removed: Iterable[str],
        *,
        folders: Mapping[str, str] | None = None,
        removed_folders: Iterable[str] = (),
    ) -> None:
        """Store changed index entries and folder listings, drop removed ones; one transaction."""
        if self.read_only:
            return
        with self._changing():
            self._db.executemany(
                "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?)",
                [(row.path, row.size, row.mtime_ns, row.data) for row in changed],
            )
            self._db.executemany("DELETE FROM notes WHERE path = ?", [(path,) for path in removed])
            self._db.executemany(
                "INSERT OR REPLACE INTO folders VALUES (?, ?)", list((folders or {}).items())
            )
            self._db.executemany(
                "DELETE FROM folders WHERE folder = ?", [(folder,) for folder in removed_folders]
            )
        self._done()
