"""Watch mode: captures are processed as they land, and a signal stops it cleanly."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import filelock
import pytest

from obsidian_inbox import Report, Settings, process_inbox
from obsidian_inbox._cli import EXIT_OK
from obsidian_inbox._watch import watch_inbox

from .helpers import CAPTURES, add_capture, cli_env, make_vault, wait_for


def drop(vault: Path, name: str, text: str) -> Path:
    """Land a capture as sync tools do: written aside, then renamed into the inbox."""
    temporary = vault / "Inbox" / f".{name}.part"
    temporary.write_text(text, encoding="utf-8")
    return temporary.replace(vault / "Inbox" / name)


class Watcher:
    """``watch_inbox`` in a thread, with its reports in a queue."""

    def __init__(self, vault: Path, settings: Settings) -> None:
        self.stop = threading.Event()
        self.watching = threading.Event()
        self.reports: queue.Queue[Report] = queue.Queue()
        self.locked = threading.Event()
        self.thread = threading.Thread(
            target=watch_inbox,
            args=(vault,),
            kwargs={
                "settings": settings,
                "offline": True,
                "stop": self.stop,
                "on_report": self.reports.put,
                "on_watching": lambda inbox: self.watching.set(),
                "on_locked": lambda exc: self.locked.set(),
                "retry_seconds": 0.2,
            },
            daemon=True,
        )

    def __enter__(self) -> Watcher:  # noqa: PYI034 - Python 3.10 has no typing.Self
        self.thread.start()
        assert self.watching.wait(20), "the watcher did not start"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive(), "the watcher did not stop"

    def next_report(self) -> Report:
        return self.reports.get(timeout=20)


def test_watch_processes_what_is_there_then_what_lands(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    with Watcher(vault, Settings(settle_seconds=0)) as watcher:
        assert len(watcher.next_report().created) == len(CAPTURES)
        drop(vault, "20250920_100000_note_fresh.txt", "A fresh capture.\n\nMore later. #watch\n")
        report = watcher.next_report()
        assert [o.note for o in report.created] == ["Notes/A fresh capture.md"]
        # Between batches the lock is free: a manual run can go ahead.
        assert process_inbox(vault, offline=True).summary() == "inbox: nothing to do"
    assert not list((vault / "Inbox").glob("*.txt"))


def test_watch_waits_until_a_capture_stops_changing(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={})
    with Watcher(vault, Settings(settle_seconds=0.6)) as watcher:
        assert watcher.next_report().summary() == "inbox: nothing to do"
        capture = vault / "Inbox" / "20250920_100001_note_slow.txt"
        with capture.open("w", encoding="utf-8") as handle:
            handle.write("A slow writer ")
            handle.flush()
            threading.Event().wait(0.3)  # still within settle_seconds
            handle.write("finished the sentence. #slow\n")
        report = watcher.next_report()
        while not report.created:  # a batch may have found it still changing
            report = watcher.next_report()
    [outcome] = report.created
    text = (vault / (outcome.note or "")).read_text(encoding="utf-8")
    assert "A slow writer finished the sentence." in text


def test_watch_waits_for_a_locked_vault(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={})
    with Watcher(vault, Settings(settle_seconds=0)) as watcher:
        watcher.next_report()
        lock = filelock.FileLock(vault / ".obsidian-inbox" / "lock")
        with lock:
            add_capture(vault, "20250920_110000_note_later.txt", "Landed while locked.\n", age=0)
            assert watcher.locked.wait(20)
        report = watcher.next_report()  # retried once the lock was free
        assert [o.note for o in report.created] == ["Notes/Landed while locked.md"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_watch_command_processes_a_capture_and_stops_on_sigterm(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={})
    process = subprocess.Popen(
        [sys.executable, "-m", "obsidian_inbox", "watch", "--offline"],
        cwd=vault,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode("utf-8")
        assert first.startswith("inbox: nothing to do"), first
        watching = process.stdout.readline().decode("utf-8")
        assert watching == f"watching {(vault / 'Inbox').resolve()} for captures (Ctrl-C to stop)\n"
        drop(vault, "20250920_100000_note_fresh.txt", "A fresh capture.\n\nMore later. #watch\n")
        note = vault / "Notes" / "A fresh capture.md"
        wait_for(note.exists, what="the note of the dropped capture")
        wait_for(
            lambda: (vault / "Inbox" / "processed" / "20250920_100000_note_fresh.txt").exists(),
            what="the capture to be filed away",
        )
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == EXIT_OK, stderr
    assert stderr == b""
    out = stdout.decode("utf-8").splitlines()
    assert out == ["created   Notes/A fresh capture.md", "inbox: 1 new", "watch: stopped"]
    lock = filelock.FileLock(vault / ".obsidian-inbox" / "lock")
    lock.acquire(timeout=0)
    lock.release()
