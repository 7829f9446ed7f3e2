"""Kill real runs with SIGKILL at random moments: nothing is lost, nothing is torn, nothing doubles."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import filelock
import pytest

from obsidian_inbox import parse_note
from obsidian_inbox._fetch import CACHE_ENV
from obsidian_inbox._inbox import parse_inbox_file
from obsidian_inbox._index import TEMP_SUFFIX

from .conftest import tree_digest
from .vault_checks import Site, check_vault, json_run, serve_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX"),
]

CAPTURES = 2000
KILLS = 10


def _make_captures(inbox: Path, rng: random.Random) -> dict[str, bytes]:
    captures: dict[str, bytes] = {}
    for number in range(CAPTURES):
        kind = rng.choice(["note", "link", "rss"])
        stamp = f"20250101_{number // 3600:02d}{number // 60 % 60:02d}{number % 60:02d}"
        if kind == "note":
            text = f"Thought {number}: {' '.join(rng.choices(['tea', 'code', 'walk', 'book', 'idea'], k=12))} #t{number % 7}\n"
        elif kind == "link":
            url = f"https://site{number % 13}.example/post-{rng.randrange(CAPTURES // 2)}/"
            text = f"Link: {url}\n\nPost about {url.rsplit('-', 1)[-1].strip('/')}\n"
        else:
            url = f"https://feed{number % 5}.example/2025/{rng.randrange(CAPTURES // 2)}/"
            text = (
                f"RSS Feed: Feed {number % 5}\nSource: https://feed{number % 5}.example/feed\nLink: {url}\n\n"
                f"Item &#8220;{number}&#8221;\n\nDescription {number}. The post x appeared first on Feed.\n"
            )
        name = f"{stamp}_{kind}_item_{number}.txt"
        data = text.encode()
        (inbox / name).write_bytes(data)
        captures[name] = data
    past = time.time() - 3600  # long settled: no waiting
    for name in captures:
        os.utime(inbox / name, (past, past))
    return captures


def _run(vault: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "obsidian_inbox", "process", str(vault), "--offline"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _check_consistent(vault: Path, captures: dict[str, bytes]) -> None:
    inbox, archive = vault / "Inbox", vault / "Inbox" / "processed"
    waiting = {p.name for p in inbox.glob("*.txt")}
    filed = {p.name for p in archive.glob("*.txt")} if archive.exists() else set()
    assert waiting | filed == set(captures), "a capture was lost"
    assert not waiting & filed, "a capture is both waiting and filed"
    for name in filed:
        assert (archive / name).read_bytes() == captures[name], "a filed capture changed"
    for name in waiting:
        assert (inbox / name).read_bytes() == captures[name], "a waiting capture changed"
    for note in (vault / "Notes").glob("*.md") if (vault / "Notes").exists() else ():
        parse_note(note.read_text(encoding="utf-8"), path=note)  # never torn


def test_sigkill_at_random_moments_loses_nothing(vault: Path) -> None:
    rng = random.Random(20251126)
    captures = _make_captures(vault / "Inbox", rng)
    kills = 0
    for _ in range(3 * KILLS):
        if kills == KILLS or not list((vault / "Inbox").glob("*.txt")):
            break
        process = _run(vault)
        time.sleep(rng.uniform(0.2, 1.2))  # from start-up to well into the writes
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        _check_consistent(vault, captures)
    assert kills == KILLS, f"only {kills} runs could be killed mid-way"

    final = _run(vault)
    assert final.wait(timeout=120) == 0
    _check_consistent(vault, captures)
    assert not list((vault / "Inbox").glob("*.txt")), "every capture is filed away in the end"
    assert not list(vault.rglob(f"*{TEMP_SUFFIX}")), "temporary files were left behind"

    # Exactly one note per identity: a capture's URL, or the capture itself.
    notes = [parse_note(p.read_text(encoding="utf-8")) for p in (vault / "Notes").glob("*.md")]
    identities: dict[str, str] = {}
    for name in captures:
        note = parse_inbox_file(vault / "Inbox" / "processed" / name)
        identities.setdefault(note.url or note.capture_id, name)
    assert len(notes) == len(identities)
    assert {n.url or n.capture_id for n in notes} == set(identities)

    before = tree_digest(vault, exclude=(".obsidian-inbox",))
    assert _run(vault).wait(timeout=60) == 0
    assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before, (
        "a further run changed something"
    )


# --- real runs against a slow local web site, killed at random moments -------------------

SITE_ITEMS = 200
SITE_KILLS = 20


@pytest.fixture
def slow_site(tmp_path: Path, vault: Path) -> Iterator[Site]:
    """A generated site answering in 10-200 ms, and an inbox of links and RSS items into it."""
    yield from serve_site(tmp_path, vault, items=SITE_ITEMS, seed=6, delay_ms=10, jitter_ms=190)


def _online_run(vault: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "obsidian_inbox",
                "process",
                str(vault),
                "--settle-seconds",
                "0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )


def _lock_is_free(vault: Path) -> bool:
    lock = filelock.FileLock(vault / ".obsidian-inbox" / "lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return False
    lock.release()
    return True


def _file_count(vault: Path) -> int:
    """Notes and filed captures (not the hidden temporary files of notes being written)."""
    return sum(
        sum(1 for path in folder.iterdir() if not path.name.startswith("."))
        for folder in (vault / "Notes", vault / "Inbox" / "processed")
        if folder.is_dir()
    )


def _wait_for_files(
    vault: Path, process: subprocess.Popen[bytes], count: int, *, timeout: float
) -> None:
    """Wait until ``count`` more notes or filed captures appear (or the run ends)."""
    target = _file_count(vault) + count
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if _file_count(vault) >= target:
            return
        time.sleep(0.005)


def test_sigkill_during_online_runs_loses_nothing(
    vault: Path, slow_site: Site, tmp_path: Path
) -> None:
    captures = slow_site.captures
    assert len(captures) == SITE_ITEMS
    env = {**os.environ, CACHE_ENV: str(tmp_path / "http-cache")}
    log = tmp_path / "runs.log"
    rng = random.Random(6)
    kills = progressed = before = 0
    for number in range(3 * SITE_KILLS):
        if kills == SITE_KILLS:
            break
        process = _online_run(vault, env, log)
        if number % 3 == 0:  # during start-up, the scan, the first fetches
            time.sleep(rng.uniform(0.2, 2.0))
        else:  # while writing notes and filing captures: after a random number of them
            _wait_for_files(vault, process, rng.randrange(1, 12), timeout=20)
            time.sleep(rng.uniform(0, 0.05))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        code = process.wait()
        assert code != 3, f"a run found the vault locked after a killed run:\n{log.read_text()}"
        assert _lock_is_free(vault), "a killed run left the lock held"
        check = check_vault(vault, captures)
        done = len(check.filed) + len(check.notes)
        progressed += done > before
        before = done
    assert kills == SITE_KILLS, f"only {kills} runs could be killed mid-way"
    assert progressed >= SITE_KILLS // 2, "the killed runs made no progress"

    # Run to completion: until a run changes nothing and defers nothing (a capture whose
    # server fails transiently is retried over a few runs, then written as partial).
    print(f"{kills} kills, {progressed} made progress; {len(check.waiting)} still waiting")
    digest = tree_digest(vault, exclude=(".obsidian-inbox",))
    for _ in range(6):
        report = json_run(vault, env)
        after = tree_digest(vault, exclude=(".obsidian-inbox",))
        if after == digest and "deferred" not in report:
            break
        digest = after
    else:
        pytest.fail("the vault kept changing run after run")
    check = check_vault(vault, captures, final=True)
    # What stays in the inbox is what cannot succeed (an empty capture, say), reported so.
    assert check.waiting == set(report.get("failed", ())), "a capture was left in the inbox"
    assert len(check.filed) >= SITE_ITEMS * 9 // 10
    assert json_run(vault, env) == report
    assert tree_digest(vault, exclude=(".obsidian-inbox",)) == digest, (
        "a further run changed something"
    )


SIGNALS = 9


def test_sigterm_sigint_sighup_stop_cleanly(vault: Path, slow_site: Site, tmp_path: Path) -> None:
    """A polite stop (Obsidian closing, Ctrl-C) finishes the current note and exits 130:
    unlike after SIGKILL, not even a hidden temporary file is left."""
    captures = slow_site.captures
    env = {**os.environ, CACHE_ENV: str(tmp_path / "http-cache")}
    log = tmp_path / "runs.log"
    rng = random.Random(7)
    stopped = 0
    codes = []
    for number in range(SIGNALS):
        process = _online_run(vault, env, log)
        _wait_for_files(vault, process, rng.randrange(1, 12), timeout=20)
        if process.poll() is None:
            process.send_signal((signal.SIGTERM, signal.SIGINT, signal.SIGHUP)[number % 3])
            stopped += 1
        code = process.wait(timeout=60)
        codes.append(code)
        assert code in (0, 1, 130), log.read_text()
        assert _lock_is_free(vault)
        check = check_vault(vault, captures)
        assert not check.temp_files, f"a stopped run left {check.temp_files}"
    print(f"{stopped} runs stopped by a signal; exit codes {codes}")
    assert stopped >= SIGNALS - 2, f"only {stopped} runs could be stopped mid-way"
    assert "interrupted" in log.read_text(), "no run said it was interrupted"
