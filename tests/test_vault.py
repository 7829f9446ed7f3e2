"""The vault on disk: safe writes, never overwriting the user, filing captures away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from obsidian_inbox import Note, NoteConflictError, Vault, VaultError, VaultLockedError, _vault
from obsidian_inbox._index import TEMP_SUFFIX
from obsidian_inbox._vault import find_vault

from .conftest import tree_digest


def test_vault_must_be_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="vault folder does not exist") as info:
        Vault(tmp_path / "missing")
    assert info.value.path == tmp_path / "missing"
    (tmp_path / "file").write_text("x")
    with pytest.raises(VaultError, match="is not a folder"):
        Vault(tmp_path / "file")


def test_find_vault_walks_up_to_the_obsidian_folder(vault: Path) -> None:
    (vault / "a" / "b").mkdir(parents=True)
    assert find_vault(vault / "a" / "b") == vault.resolve()
    assert find_vault(vault.parent) is None


def test_write_creates_the_note_atomically_and_records_its_hash(vault: Path) -> None:
    with Vault(vault) as v:
        result = v.write_note(Note(title="Hello"), "Notes/Hello.md")
        assert (result.path, result.action) == ("Notes/Hello.md", "created")
        data = (vault / "Notes" / "Hello.md").read_bytes()
        assert data.decode() == Note(title="Hello").to_markdown()
        assert v.owns("Notes/Hello.md")
        assert v.index.get("Notes/Hello.md") is not None
    assert not list((vault / "Notes").glob(f".*{TEMP_SUFFIX}"))


def test_an_existing_file_that_is_not_ours_is_never_overwritten(vault: Path) -> None:
    (vault / "Notes").mkdir()
    mine = vault / "Notes" / "Hello.md"
    mine.write_text("my own note\n", encoding="utf-8")
    with Vault(vault) as v:
        for replace in (False, True):
            with pytest.raises(NoteConflictError, match="left untouched"):
                v.write_note(Note(title="Hello"), "Notes/Hello.md", replace=replace)
    assert mine.read_text(encoding="utf-8") == "my own note\n"


def test_our_unedited_note_may_be_replaced_but_an_edited_one_is_left_alone(vault: Path) -> None:
    with Vault(vault) as v:
        v.write_note(Note(title="Hello", status="partial"), "Notes/Hello.md")
        assert v.write_note(Note(title="Hello"), "Notes/Hello.md", replace=True).action == "updated"
        assert (
            v.write_note(Note(title="Hello"), "Notes/Hello.md", replace=True).action == "unchanged"
        )
        path = vault / "Notes" / "Hello.md"
        edited = path.read_text(encoding="utf-8") + "\nMy own thoughts.\n"
        path.write_text(edited, encoding="utf-8")
        assert not v.owns("Notes/Hello.md")
        with pytest.raises(NoteConflictError, match="was edited since obsidian-inbox wrote it"):
            v.write_note(Note(title="Hello", summary="new"), "Notes/Hello.md", replace=True)
    assert path.read_text(encoding="utf-8") == edited


def test_never_writes_through_a_symlink_or_outside_the_vault(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.md").write_text("outside\n", encoding="utf-8")
    (vault / "Notes").mkdir()
    (vault / "Notes" / "Link.md").symlink_to(outside / "target.md")
    (vault / "Escape").symlink_to(outside, target_is_directory=True)
    before = tree_digest(outside)
    with Vault(vault) as v:
        with pytest.raises(NoteConflictError, match="symbolic link"):
            v.write_note(Note(title="Link"), "Notes/Link.md", replace=True)
        with pytest.raises(VaultError, match="outside the vault"):
            v.write_note(Note(title="x"), "Escape/x.md")
        with pytest.raises(VaultError, match="outside the vault"):
            v.folder("../elsewhere")
    assert tree_digest(outside) == before


def test_new_note_paths_avoid_collisions_case_insensitively(vault: Path) -> None:
    (vault / "Notes").mkdir()
    (vault / "Notes" / "hello.md").write_text("x", encoding="utf-8")
    with Vault(vault) as v:
        assert v.new_note_path(Note(title="Hello"), "Notes") == "Notes/Hello (2).md"
        assert v.new_note_path(Note(title="a:b/c"), "Notes") == "Notes/a-b-c.md"
        assert v.new_note_path(Note(title="Root"), "") == "Root.md"


def test_titles_that_look_like_numbers_are_numbered_from_their_suffix(vault: Path) -> None:
    # The " (N)" suffix alone says which number a name took: not a title of digits
    # ("2025" is not the 2025th "2025"), nor one int() cannot read ("²").
    (vault / "Notes").mkdir()
    with Vault(vault) as v:
        assert v.new_note_path(Note(title="²"), "Notes") == "Notes/².md"
        first = v.new_note_path(Note(title="2025"), "Notes")
        assert first == "Notes/2025.md"
        (vault / first).write_text("x", encoding="utf-8")
        second = v.new_note_path(Note(title="2025"), "Notes")
        assert second == "Notes/2025 (2).md"
        (vault / second).write_text("x", encoding="utf-8")
        assert v.new_note_path(Note(title="2025"), "Notes") == "Notes/2025 (3).md"


def test_read_only_vault_changes_nothing(vault: Path) -> None:
    before = tree_digest(vault)
    with Vault(vault, read_only=True) as v:
        assert v.write_note(Note(title="Hello"), "Notes/Hello.md").action == "created"
        v.lock()
        v.scan()
    assert tree_digest(vault) == before
    assert not (vault / "Notes").exists()
    assert not (vault / ".obsidian-inbox").exists()


def test_archive_never_overwrites_or_deletes(vault: Path) -> None:
    archive = vault / "Inbox" / "processed"
    with Vault(vault) as v:
        for round_ in range(3):
            capture = vault / "Inbox" / "x.txt"
            capture.write_text(f"round {round_}", encoding="utf-8")
            v.archive_capture(capture, archive)
            assert not capture.exists()
    assert sorted(p.name for p in archive.iterdir()) == ["x-2.txt", "x-3.txt", "x.txt"]
    assert (archive / "x.txt").read_text(encoding="utf-8") == "round 0"


def test_archive_folder_removed_during_a_run_is_made_again(vault: Path) -> None:
    archive = vault / "Inbox" / "processed"
    with Vault(vault) as v:
        first = vault / "Inbox" / "a.txt"
        first.write_text("a", encoding="utf-8")
        v.archive_capture(first, archive)
        (archive / "a.txt").rename(vault / "a.txt")
        archive.rmdir()  # the user tidied up while the run went on
        second = vault / "Inbox" / "b.txt"
        second.write_text("b", encoding="utf-8")
        assert v.archive_capture(second, archive) == archive / "b.txt"
        assert (archive / "b.txt").read_text(encoding="utf-8") == "b"
        missing = vault / "Inbox" / "gone.txt"
        with pytest.raises(FileNotFoundError):  # a capture that vanished is not hidden
            v.archive_capture(missing, archive)


def test_stray_temporary_files_are_removed_by_the_next_locked_scan(vault: Path) -> None:
    (vault / "Notes").mkdir()
    stray = vault / "Notes" / f".Hello.md.abcd1234{TEMP_SUFFIX}"
    stray.write_text("half a note", encoding="utf-8")
    with Vault(vault) as v:
        v.scan()
        assert stray.exists()  # not without the lock: another run may be writing it
        v.lock()
        v.scan()
    assert not stray.exists()


def test_lock_refuses_a_second_run(vault: Path) -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from obsidian_inbox import Vault\n"
                f"v = Vault({str(vault)!r}); v.lock(); print('locked', flush=True); time.sleep(30)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            with (
                Vault(vault) as v,
                pytest.raises(VaultLockedError, match="another obsidian-inbox run"),
            ):
                v.lock()
        finally:
            holder.kill()
    with Vault(vault) as v:  # a killed holder releases the lock
        v.lock()


def test_notes_lists_the_index_and_repr_html_shows_it(vault: Path) -> None:
    (vault / "A.md").write_text(
        "---\ntags: [x]\nurl: https://a.example/\n---\n# A\n", encoding="utf-8"
    )
    (vault / ".trash").mkdir()
    (vault / ".trash" / "Gone.md").write_text("# Gone\n", encoding="utf-8")
    with Vault(vault) as v:
        notes = v.notes()
        assert [n.path for n in notes] == ["A.md"]
        assert notes[0].tags == ("x",)
        assert notes[0].url == "https://a.example/"
        assert "A.md" in v._repr_html_()
        assert "1 notes" in v._repr_html_()
        assert v.read_note("A.md").title == "A"


@pytest.mark.parametrize("temporary_files", [False, True], ids=["unnamed", "temporary"])
def test_a_refused_write_is_a_vault_error_and_leaves_nothing(
    vault: Path, monkeypatch: pytest.MonkeyPatch, temporary_files: bool
) -> None:
    import errno

    if temporary_files:  # as where files cannot be made without a name
        monkeypatch.setattr(_vault, "_O_TMPFILE", 0)
    real_open = os.open
    unnamed = getattr(os, "O_TMPFILE", -1)

    def refusing_open(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if str(path).endswith(TEMP_SUFFIX) or flags & unnamed == unnamed:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    (vault / "Notes").mkdir()
    monkeypatch.setattr(os, "open", refusing_open)
    with Vault(vault) as v, pytest.raises(VaultError, match="cannot write: Read-only file system"):
        v.write_note(Note(title="x"), "Notes/x.md")
    assert list((vault / "Notes").iterdir()) == []
