"""Write-path failure injection: every fsync, rename, link and write of a run fails in turn.

The operating system's failures (a full disk, an I/O error, a permission refused) cannot
be produced on demand, so here, and only here, ``os`` functions are replaced for the length
of one :func:`process_inbox` run: the Nth call raises ``OSError``, for N = 1, 2, ... until
a run makes fewer than N calls. After each failure the vault must be consistent (see
:func:`~tests.vault_checks.check_vault`), the failure reported with the capture named and
the OS error in the reason, and a clean rerun must finish the job.

A real full disk (a small tmpfs, mounted in a user namespace: no root needed) is tested
too, where the system allows it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from obsidian_inbox import Enrichment, Note, Report, Vault, VaultError, _vault, process_inbox
from obsidian_inbox._index import TEMP_SUFFIX

from .conftest import TEST_SETTINGS, tree_digest
from .vault_checks import check_vault

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file semantics")

#: The captures of the first run: their link notes are left partial, so that the second
#: run's capture of the same URL improves one (an ``os.replace`` of an existing note).
FIRST = {
    "20250101_080000_note_tea.txt": "Green tea at four, a good habit. #habit\n",
    "20250101_080100_link_x.txt": "Link: https://example.org/x\n\nThe X Article\n",
    "20250101_080200_link_y.txt": "Link: https://example.org/y\n\nThe Y Article\n",
    "20250101_080300_rss_feed.txt": (
        "RSS Feed: Feed\nSource: https://example.org/feed\nLink: https://example.org/f1\n\n"
        "Feed item one\n\nItem text. The post Feed item one appeared first on Feed.\n"
    ),
}
#: The captures the injected runs handle: new notes, a note improved, a duplicate.
SECOND = {
    "20250102_090000_note_walk.txt": "A walk by the river clears the head. #habit\n",
    "20250102_090100_link_x_again.txt": "Link: https://example.org/x\n\nThe X Article, again\n",
    "20250102_090200_link_z.txt": "Link: https://example.org/z\n\nThe Z Article\n",
    "20250102_090300_rss_feed.txt": (
        "RSS Feed: Feed\nSource: https://example.org/feed\nLink: https://example.org/f2\n\n"
        "Feed item two\n\nMore text. The post Feed item two appeared first on Feed.\n"
    ),
    "20250102_090400_note_idea.txt": "Idea: a tiny tool for filing receipts.\n",
}


def _partial_links(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    """An enricher that fetches nothing and leaves link notes partial (a page not reached)."""
    if note.url and "_link_" in note.original_file:
        return Enrichment(attrs.evolve(note, status="partial", status_reason="page not fetched"))
    return Enrichment(note)


def _as_is(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    """An enricher that fetches nothing and keeps the capture's text: a complete note."""
    return Enrichment(note)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A vault after a first run (all filed, link notes partial), with SECOND waiting."""
    root = tmp_path_factory.mktemp("template") / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / "Inbox").mkdir()
    for name, text in FIRST.items():
        (root / "Inbox" / name).write_text(text, encoding="utf-8")
    report = process_inbox(root, settings=TEST_SETTINGS, enricher=_partial_links)
    assert sorted(o.status for o in report.outcomes) == ["created", "created", "partial", "partial"]
    with Vault(root) as scanned:  # the index cache knows every folder, as after any run
        scanned.scan(skip=("Inbox",))
    for name, text in SECOND.items():
        (root / "Inbox" / name).write_text(text, encoding="utf-8")
    captures = {name: text.encode() for name, text in {**FIRST, **SECOND}.items()}
    return root, captures


@attrs.define
class Injector:
    """Make the ``nth`` call of ``syscall`` raise ``OSError(code)``; count every call."""

    syscall: str
    code: int
    nth: int
    calls: int = 0
    fired: str = ""  # the path of the call that failed

    def hit(self, target: object, dir_fd: int | None = None) -> None:
        self.calls += 1
        if self.calls == self.nth:
            self.fired = _path_of(target, dir_fd)
            raise OSError(self.code, os.strerror(self.code), self.fired)

    @contextlib.contextmanager
    def installed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        with monkeypatch.context() as patch:
            real = getattr(os, self.syscall)

            def failing(*args: Any, **kwargs: Any) -> Any:
                self.hit(args[0], kwargs.get("dir_fd"))
                return real(*args, **kwargs)

            patch.setattr(os, self.syscall, failing)
            yield


def _path_of(target: object, dir_fd: int | None) -> str:
    """The path a call is about: a file descriptor's file, a name inside ``dir_fd``'s folder."""
    with contextlib.suppress(OSError):
        if isinstance(target, int):
            return str(Path(f"/proc/self/fd/{target}").readlink())
        if dir_fd is not None:
            return str(Path(f"/proc/self/fd/{dir_fd}").readlink() / str(target))
    return str(target)


def _run(vault: Path) -> Report:
    return process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)


def _outcomes(report: Report) -> dict[str, str]:
    return {Path(o.capture).name: o.status for o in report.outcomes}


#: The calls of the write path: creating, writing, syncing, renaming, linking, removing.
SYSCALLS = ["open", "write", "fsync", "link", "replace", "rename", "unlink", "mkdir"]
ERRORS = [errno.ENOSPC, errno.EIO, errno.EACCES]
#: How new notes are written: as files without a name, named once synced (Linux), or
#: through hidden temporary files (elsewhere, and where the file system cannot).
MODES = ["unnamed", "temporary"] if _vault._O_TMPFILE else ["temporary"]
#: A note written without a name has no temporary file to remove.
CALLS = [
    (mode, syscall)
    for mode in MODES
    for syscall in SYSCALLS
    if not (mode == "unnamed" and syscall == "unlink")
]


def _write_mode(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "temporary":
        monkeypatch.setattr(_vault, "_O_TMPFILE", 0)


@pytest.mark.parametrize("code", ERRORS, ids=errno.errorcode.get)
@pytest.mark.parametrize(("mode", "syscall"), CALLS)
def test_every_write_path_call_may_fail(
    mode: str,
    syscall: str,
    code: int,
    template: tuple[Path, dict[str, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _write_mode(mode, monkeypatch)
    source, captures = template
    message = os.strerror(code)
    for nth in range(1, 200):
        vault = shutil.copytree(source, tmp_path / f"vault-{nth}", symlinks=True)
        injector = Injector(syscall, code, nth)
        before = tree_digest(vault, exclude=(".obsidian-inbox",))
        error: VaultError | None = None
        report: Report | None = None
        with injector.installed(monkeypatch):
            try:
                report = _run(vault)
            except VaultError as exc:  # the run could not start (lock, state, index)
                error = exc
        if error is not None:  # then nothing was done
            assert message in str(error), error
            assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before
        if not injector.fired:
            break  # the run made fewer calls: every one of them has failed once
        failed = [o for o in report.outcomes if o.status == "failed"] if report else []
        for outcome in failed:  # reported clearly: the capture named, the OS error as reason
            assert Path(outcome.capture).name in SECOND, outcome
            assert message in outcome.reason, outcome
        if report and not failed:
            # Harmless: a folder already there, a temporary file kept for the next run to
            # remove, a folder the index keeps from its cache, the inbox's best-effort sync.
            fired = Path(injector.fired)
            assert (
                syscall in {"mkdir", "unlink"}
                or (syscall == "open" and fired.is_dir())
                or (syscall == "fsync" and fired in {vault / "Inbox", vault / "Inbox/processed"})
            ), (injector.fired, report.outcomes)
            assert set(_outcomes(report).values()) <= {"created", "updated", "duplicate"}
        check_vault(vault, captures)

        # A clean rerun finishes the job; a further run changes nothing.
        again = _run(vault)
        assert again.ok, again.outcomes
        check = check_vault(vault, captures, final=True)
        assert not check.waiting
        assert len(check.notes) == len(captures) - 1  # "x again" improved x's note
        before = tree_digest(vault, exclude=(".obsidian-inbox",))
        assert _run(vault).ok
        assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before
        shutil.rmtree(vault)
    else:
        pytest.fail("the run never ran out of calls")
    assert nth > 1, "no call was ever made"
    print(f"{syscall} {errno.errorcode[code]}: {nth - 1} failures injected")


# --- regressions: one failure each, where it once did harm ---------------------------------


def _fail_when(
    monkeypatch: pytest.MonkeyPatch, name: str, code: int, failing: Callable[[str], bool]
) -> list[str]:
    """Make ``os.<name>`` raise ``OSError(code)`` for every path ``failing`` picks."""
    real = getattr(os, name)
    hits: list[str] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        path = _path_of(args[0], kwargs.get("dir_fd"))
        if failing(path):
            hits.append(path)
            raise OSError(code, os.strerror(code), path)
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, call)
    return hits


@pytest.fixture
def second(template: tuple[Path, dict[str, bytes]], tmp_path: Path) -> Path:
    """A copy of the template vault, SECOND waiting in its inbox."""
    return shutil.copytree(template[0], tmp_path / "vault", symlinks=True)


def _finish(vault: Path, captures: dict[str, bytes]) -> None:
    """A clean run files everything away, one note per capture; another changes nothing."""
    assert _run(vault).ok
    check = check_vault(vault, captures, final=True)
    assert not check.waiting
    assert len(check.notes) == len(captures) - 1
    before = tree_digest(vault, exclude=(".obsidian-inbox",))
    assert _run(vault).ok
    assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before


def test_notes_not_made_durable_keep_their_captures(
    second: Path, template: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync of the notes' folder fails: the notes may not last, so no capture is filed."""
    with monkeypatch.context() as patch:
        hits = _fail_when(patch, "fsync", errno.EIO, lambda path: path == str(second / "Notes"))
        report = _run(second)
    assert hits
    assert _outcomes(report) == dict.fromkeys(SECOND, "failed")
    for outcome in report.outcomes:
        assert "Notes: cannot make the notes written here durable: Input/output error" in (
            outcome.reason
        )
    assert check_vault(second, template[1]).waiting == set(SECOND)
    _finish(second, template[1])


def test_a_temporary_file_that_cannot_be_removed_is_no_failure(
    second: Path, template: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note is in place (linked); its temporary name stays, hidden, for the next run."""
    _write_mode("temporary", monkeypatch)
    with monkeypatch.context() as patch:
        hits = _fail_when(patch, "unlink", errno.EIO, lambda path: path.endswith(TEMP_SUFFIX))
        report = _run(second)
    assert hits
    assert set(_outcomes(report).values()) <= {"created", "updated"}
    assert check_vault(second, template[1]).temp_files
    _finish(second, template[1])  # which removes them


def test_a_lock_that_cannot_be_taken_is_a_vault_error(
    second: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_digest(second, exclude=(".obsidian-inbox",))
    lock = second / ".obsidian-inbox" / "lock"
    with monkeypatch.context() as patch:
        _fail_when(patch, "open", errno.EACCES, lambda path: path == str(lock))
        with pytest.raises(VaultError, match="lock: cannot take the lock: Permission denied"):
            _run(second)
    assert tree_digest(second, exclude=(".obsidian-inbox",)) == before


def test_an_unreadable_vault_is_a_vault_error(
    second: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_digest(second, exclude=(".obsidian-inbox",))
    with monkeypatch.context() as patch:
        _fail_when(patch, "scandir", errno.EIO, lambda path: Path(path) == second)
        with pytest.raises(VaultError, match="cannot read the vault: Input/output error"):
            _run(second)
    assert tree_digest(second, exclude=(".obsidian-inbox",)) == before


def test_an_unreadable_folder_keeps_its_notes_known(
    second: Path, template: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notes folder cannot be listed for a moment: its notes, known from the cache,
    are still found, so a capture of a known URL is no second note."""
    with monkeypatch.context() as patch:
        hits = _fail_when(patch, "scandir", errno.EIO, lambda path: path == str(second / "Notes"))
        report = _run(second)
    assert hits
    assert _outcomes(report)["20250102_090100_link_x_again.txt"] == "updated"
    _finish(second, template[1])


# --- a real full disk: a small tmpfs in a user namespace (no root needed) -----------------

FULL_DISK_SCRIPT = r"""
set -e
mount -t tmpfs -o size=512k tmpfs "$DISK"
for free in $LEVELS; do
    rm -rf "$DISK/vault" "$DISK/fill"
    cp -a "$TEMPLATE" "$DISK/vault"
    dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null || true  # the disk is full now
    truncate -s "-$((free * 4))k" "$DISK/fill"                   # ... but for $free pages
    run() {
        "$PYTHON" -m obsidian_inbox process "$DISK/vault" --offline --settle-seconds 0 \
            --json >"$OUT/$free-$1.json" 2>"$OUT/$free-$1.err" || echo $? >"$OUT/$free-$1.code"
    }
    run full
    cp -a "$DISK/vault" "$OUT/$free-full"
    rm "$DISK/fill"
    run freed
    cp -a "$DISK/vault" "$OUT/$free-freed"
    run again
    cp -a "$DISK/vault" "$OUT/$free-again"
done
"""
#: Free space left on the full disk, in 4 KiB pages: none; too little for the state file's
#: log; enough for it but for few or none of the notes; enough.
FREE_PAGES = (0, 8, *range(10, 21), 24, 32)


@pytest.mark.slow
def test_a_real_full_disk(template: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        pytest.skip("a real full disk needs Linux's unshare (a tmpfs in a user namespace)")
    probe = subprocess.run([unshare, "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not allowed here: {probe.stderr.decode().strip()}")
    source, captures = template
    (tmp_path / "disk").mkdir()
    (tmp_path / "out").mkdir()
    env = {
        **os.environ,
        "DISK": str(tmp_path / "disk"),
        "OUT": str(tmp_path / "out"),
        "TEMPLATE": str(source),
        "PYTHON": sys.executable,
        "LEVELS": " ".join(map(str, FREE_PAGES)),
    }
    done = subprocess.run(
        [unshare, "-rm", "sh", "-c", FULL_DISK_SCRIPT],
        env=env,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    out = tmp_path / "out"
    failures = refusals = 0
    for free in FREE_PAGES:
        errors = (out / f"{free}-full.err").read_text(encoding="utf-8")
        assert "Traceback" not in errors, errors
        code = out / f"{free}-full.code"
        if code.exists() and code.read_text(encoding="utf-8").strip() == "2":
            # The run could not start: its state file cannot grow. It says so, and stops.
            assert re.search(r"state\.sqlite3: cannot (open|update) the state file", errors)
            refusals += 1
            continue
        report = json.loads((out / f"{free}-full.json").read_text(encoding="utf-8"))
        for item in report["captures"]:
            if item["outcome"] == "failed":
                failures += 1
                assert (
                    "No space left on device" in item["reason"]
                    or "disk is full" in (item["reason"])
                ), item
        check_vault(out / f"{free}-full", captures)

        assert not (out / f"{free}-freed.code").exists(), (out / f"{free}-freed.err").read_text()
        check = check_vault(out / f"{free}-freed", captures, final=True)
        assert not check.waiting
        assert len(check.notes) == len(captures) - 1
        assert tree_digest(out / f"{free}-again", exclude=(".obsidian-inbox",)) == tree_digest(
            out / f"{free}-freed", exclude=(".obsidian-inbox",)
        )
    assert failures, "no capture ever failed for want of space"
    print(f"real full disk: {len(FREE_PAGES)} levels, {refusals} runs refused, {failures} captures")


def test_a_recovered_note_is_made_durable_before_its_capture_is_filed(
    second: Path, template: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed run left a note whose folder it never synced: it is synced before filing."""
    assert _run(second).ok
    interrupted = second / "Inbox" / "20250102_090000_note_walk.txt"
    (second / "Inbox" / "processed" / interrupted.name).rename(interrupted)  # killed before
    with monkeypatch.context() as patch:
        hits = _fail_when(patch, "fsync", errno.EIO, lambda path: path == str(second / "Notes"))
        report = _run(second)
    assert hits
    [outcome] = report.outcomes
    assert outcome.status == "failed"
    assert "cannot make the notes written here durable: Input/output error" in outcome.reason
    assert interrupted.exists(), "kept in the inbox"
    assert [o.status for o in _run(second).outcomes] == ["created"]  # recovered, synced
    check_vault(second, template[1], final=True)


def test_a_note_that_cannot_be_undone_is_reported(
    second: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture changed mid-run and its new note cannot be removed: no crash; reported."""
    capture = second / "Inbox" / "20250102_090400_note_idea.txt"

    def appends(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        if note.original_file == capture.name:
            with capture.open("ab") as handle:
                handle.write(b"More, synced late.\n")
        return Enrichment(note)

    with monkeypatch.context() as patch:
        _fail_when(patch, "unlink", errno.EACCES, lambda path: path.endswith(".md"))
        report = process_inbox(second, settings=TEST_SETTINGS, enricher=appends)
    outcome = {Path(o.capture).name: o for o in report.outcomes}[capture.name]
    assert outcome.status == "failed"
    assert "its note could not be removed: Permission denied" in outcome.reason
    assert capture.read_bytes().endswith(b"More, synced late.\n"), "kept in the inbox"
