"""Kill real runs with SIGKILL at random moments: nothing is lost, nothing is torn, nothing doubles."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from obsidian_inbox import parse_note
from obsidian_inbox._inbox import parse_inbox_file
from obsidian_inbox._index import TEMP_SUFFIX

from .conftest import tree_digest

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
