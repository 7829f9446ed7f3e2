"""New notes are synced in the background during a batch: the same guarantees, off the main thread.

Inside :meth:`Vault.batch`, a new note is rendered and written to a temporary file at once,
its ``fsync`` runs in a thread of its own while the next captures are prepared, and it is
moved into place once synced. These tests check that this changes none of the guarantees:
a failed sync or a file that appears meanwhile fails that capture alone and leaves nothing
behind; a note counts as in the vault (names, links, duplicates) as soon as it is started;
and its capture is filed away only once it is durably in place.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from obsidian_inbox import (
    Enrichment,
    Note,
    NoteConflictError,
    Vault,
    VaultError,
    process_inbox,
)
from obsidian_inbox._index import TEMP_SUFFIX, NoteInfo

from .conftest import TEST_SETTINGS

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file semantics")


def _as_is(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    return Enrichment(note)


def _captures(vault: Path, count: int) -> list[str]:
    names = []
    for number in range(count):
        name = f"20250101_0000{number:02d}_note_n{number}.txt"
        (vault / "Inbox" / name).write_text(f"Thought number {number} about tea.\n")
        names.append(name)
    return names


def _temp_files(vault: Path) -> list[Path]:
    return list(vault.rglob(f"*{TEMP_SUFFIX}"))


def _syncing(monkeypatch: pytest.MonkeyPatch, action: Any) -> list[str]:
    """Run ``action(text)`` in place of ``os.fsync`` for the new notes (``text``: what is
    being synced); return the names of the threads that synced them."""
    real = os.fsync
    threads: list[str] = []

    def fsync(descriptor: int) -> None:
        path = str(Path(f"/proc/self/fd/{descriptor}").readlink())
        if path.endswith((TEMP_SUFFIX, " (deleted)")):  # a temporary file, or one without a name
            threads.append(threading.current_thread().name)
            action(Path(f"/proc/self/fd/{descriptor}").read_text())
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    return threads


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_notes_are_synced_off_the_main_thread(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = _captures(vault, 5)
    threads = _syncing(monkeypatch, lambda text: None)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in report.outcomes] == ["created"] * 5
    assert len(threads) == 5
    assert threading.main_thread().name not in threads
    assert sorted(p.name for p in (vault / "Inbox" / "processed").iterdir()) == names
    assert len(list((vault / "Notes").glob("*.md"))) == 5
    assert not _temp_files(vault)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_failed_sync_fails_that_capture_alone(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _captures(vault, 5)

    def fail_the_third(text: str) -> None:
        if "# Thought number 2" in text:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    _syncing(monkeypatch, fail_the_third)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    outcomes = {Path(o.capture).name: o for o in report.outcomes}
    failed = outcomes[names[2]]
    assert failed.status == "failed"
    assert failed.error == "VaultError"
    assert "Thought number 2 about tea.md: cannot write: Input/output error" in failed.reason
    assert [outcomes[name].status for name in names if name != names[2]] == ["created"] * 4
    assert (vault / "Inbox" / names[2]).exists(), "the capture stays in the inbox"
    assert not (vault / "Notes" / "Thought number 2 about tea.md").exists()
    assert not _temp_files(vault)

    monkeypatch.undo()  # the disk is well again: the next run finishes the job
    again = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in again.outcomes] == ["created"]
    assert (vault / "Notes" / "Thought number 2 about tea.md").exists()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_file_that_appears_during_the_sync_is_left_untouched(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _captures(vault, 3)
    target = vault / "Notes" / "Thought number 1 about tea.md"

    def user_creates_it(text: str) -> None:
        if "# Thought number 1" in text:
            target.write_text("Typed in Obsidian meanwhile.\n")

    _syncing(monkeypatch, user_creates_it)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    outcomes = {Path(o.capture).name: o for o in report.outcomes}
    assert outcomes[names[1]].status == "failed"
    assert outcomes[names[1]].error == "NoteConflictError"
    assert "appeared while obsidian-inbox was writing; left untouched" in outcomes[names[1]].reason
    assert outcomes[names[1]].note == "Notes/Thought number 1 about tea.md"
    assert target.read_text() == "Typed in Obsidian meanwhile.\n"
    assert (vault / "Inbox" / names[1]).exists()
    assert outcomes[names[0]].status == outcomes[names[2]].status == "created"
    assert not _temp_files(vault)


def test_a_note_being_synced_counts_as_in_the_vault(vault: Path) -> None:
    """Its name is taken and its capture known before it is in place; then it is ours."""
    with Vault(vault) as v, v.batch():
        result, pending = v._start_write(Note(title="Tea", capture_id="c1"), "Notes/Tea.md")
        assert pending is not None
        assert (result.path, result.action) == ("Notes/Tea.md", "created")
        assert v.index.path_taken("Notes/tea.md")
        assert [info.path for info in v.index.by_capture_id("c1")] == ["Notes/Tea.md"]
        assert v.new_note_path(Note(title="Tea"), "Notes") == "Notes/Tea (2).md"
        assert v._writing("Notes/Tea.md")
    assert pending.finished
    assert pending.error is None
    assert not v._writing("Notes/Tea.md")
    assert (vault / "Notes" / "Tea.md").read_text() == Note(
        title="Tea", capture_id="c1"
    ).to_markdown()
    with Vault(vault) as again:
        assert again.owns("Notes/Tea.md")
    assert not _temp_files(vault)


def test_outside_a_batch_a_write_is_done_before_it_returns(vault: Path) -> None:
    with Vault(vault) as v:
        result, pending = v._start_write(Note(title="Tea"), "Notes/Tea.md")
        assert pending is None
        assert result.action == "created"
        assert (vault / "Notes" / "Tea.md").exists()
        assert v.owns("Notes/Tea.md")


def test_a_scan_during_a_batch_puts_the_notes_being_synced_in_place_first(vault: Path) -> None:
    """A scan removes temporary files and reads only what is on disk."""
    with Vault(vault) as v:
        v.lock()
        with v.batch():
            _, pending = v._start_write(Note(title="Tea", capture_id="c1"), "Notes/Tea.md")
            v.scan()
            assert pending is not None
            assert pending.finished
            assert pending.error is None
            assert (vault / "Notes" / "Tea.md").exists()
            assert [info.path for info in v.index.by_capture_id("c1")] == ["Notes/Tea.md"]
    assert not _temp_files(vault)


def test_a_failed_state_record_fails_the_batch(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notes are in place, but their records are not: their captures must stay."""
    with Vault(vault) as v:
        state = v._store

        def refuse(written: object) -> None:
            raise VaultError(vault, "cannot update the state file: database or disk is full")

        batch = v.batch()
        batch.__enter__()
        v._start_write(Note(title="Tea"), "Notes/Tea.md")
        monkeypatch.setattr(state, "record_writes", refuse)
        with pytest.raises(VaultError, match="disk is full"):
            batch.__exit__(None, None, None)
    assert not _temp_files(vault)


def test_a_file_already_there_is_left_untouched(vault: Path) -> None:
    """The caller gives a free path; should a file be there all the same, it is not replaced."""
    (vault / "Notes").mkdir()
    (vault / "Notes" / "Tea.md").write_text("mine\n")
    with Vault(vault) as v:
        with v.batch():
            _, pending = v._start_write(Note(title="Tea"), "Notes/Tea.md")
        assert pending is not None
        assert isinstance(pending.error, NoteConflictError)
        assert "left untouched" in str(pending.error)
        assert v.index.get("Notes/Tea.md") == NoteInfo("Notes/Tea.md", "Tea")  # the user's
        assert not v.owns("Notes/Tea.md")
    assert (vault / "Notes" / "Tea.md").read_text() == "mine\n"
    assert not _temp_files(vault)


# --- notes without a name until they are synced (Linux), or temporary files ----------------

_UNNAMED = getattr(os, "O_TMPFILE", 0)


def _opens(monkeypatch: pytest.MonkeyPatch, refuse_unnamed: int = 0) -> list[tuple[str, int]]:
    """Record every os.open (path, flags); refuse files without a name with ``refuse_unnamed``."""
    real = os.open
    calls: list[tuple[str, int]] = []

    def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        calls.append((str(path), flags))
        if refuse_unnamed and _UNNAMED and flags & _UNNAMED == _UNNAMED:
            raise OSError(refuse_unnamed, os.strerror(refuse_unnamed), str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return calls


@pytest.mark.skipif(not _UNNAMED, reason="files without a name are a Linux feature")
def test_notes_are_written_without_a_temporary_name(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _captures(vault, 4)
    calls = _opens(monkeypatch)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in report.outcomes] == ["created"] * 4
    unnamed = [path for path, flags in calls if flags & _UNNAMED == _UNNAMED]
    assert unnamed.count(str(vault / "Notes")) == 4
    assert not [path for path, _ in calls if path.endswith(TEMP_SUFFIX)]
    assert len(list((vault / "Notes").glob("*.md"))) == 4


@pytest.mark.parametrize(
    "refused", [errno.EOPNOTSUPP, errno.EISDIR], ids=["no support", "an old kernel"]
)
def test_where_files_cannot_go_without_a_name_temporary_files_are_used(
    vault: Path, monkeypatch: pytest.MonkeyPatch, refused: int
) -> None:
    _captures(vault, 4)
    calls = _opens(monkeypatch, refuse_unnamed=refused)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in report.outcomes] == ["created"] * 4
    assert len([path for path, _ in calls if path.endswith(TEMP_SUFFIX)]) == 4
    unnamed = [path for path, flags in calls if _UNNAMED and flags & _UNNAMED == _UNNAMED]
    assert unnamed.count(str(vault / "Notes")) <= 1  # tried once, then temporary files
    assert len(list((vault / "Notes").glob("*.md"))) == 4
    assert not _temp_files(vault)


def test_a_refused_file_without_a_name_is_a_failure_not_a_fallback(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk is a full disk, whichever way the note is written."""
    names = _captures(vault, 2)
    if _UNNAMED:
        _opens(monkeypatch, refuse_unnamed=errno.ENOSPC)
    else:
        real = os.open

        def full(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if str(path).endswith(TEMP_SUFFIX):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", full)
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in report.outcomes] == ["failed"] * 2
    assert all("cannot write: No space left on device" in o.reason for o in report.outcomes)
    assert all((vault / "Inbox" / name).exists() for name in names)
    assert not _temp_files(vault)
