"""Concurrency: runs started together, Obsidian editing notes mid-run, captures still arriving.

The Shell Commands plugin starts a run on a timer and on a file-created event, so two or
four runs can start at once: one works, the others exit 3 (or wait, with a lock timeout,
and find nothing left). Meanwhile the user keeps using Obsidian, and the phone keeps
syncing captures into the inbox.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from obsidian_inbox import Enrichment, Note, Settings, process_inbox
from obsidian_inbox._fetch import CACHE_ENV

from .conftest import TEST_SETTINGS, tree_digest
from .vault_checks import Site, check_vault, cli_json, json_run, serve_site

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX processes")

LOCKED = "another obsidian-inbox run is processing this vault"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, CACHE_ENV: str(tmp_path / "http-cache")}


@pytest.fixture
def site(tmp_path: Path, vault: Path) -> Iterator[Site]:
    """40 captures of a generated site answering in 50-200 ms; none fails transiently
    (a capture retried over several runs would make every run write something)."""
    for served in serve_site(tmp_path, vault, items=40, seed=9, delay_ms=50, jitter_ms=150):
        manifest = json.loads((served.folder / ".manifest.json").read_text(encoding="utf-8"))
        flaky = {
            name for name, item in manifest["items"].items() if item["special"] == "server_error"
        }
        for name in flaky:
            (vault / "Inbox" / name).unlink()
        captures = {name: data for name, data in served.captures.items() if name not in flaky}
        yield Site(served.url, served.folder, captures)


def _start(vault: Path, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "obsidian_inbox", "process", str(vault), "--settle-seconds", "0",
         "--concurrency", "1", *options],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _finish(
    vault: Path, env: dict[str, str], captures: dict[str, bytes], users: Iterable[str] = ()
) -> None:
    """Consistent; a further run changes nothing (but the captures that cannot succeed)."""
    check = check_vault(vault, captures, final=True, users=users)
    before = tree_digest(vault, exclude=(".obsidian-inbox",))
    report = json_run(vault, env)
    assert set(report) <= {"failed"}, report
    assert check.waiting == set(report.get("failed", ()))
    assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before


@pytest.mark.slow
@pytest.mark.parametrize("runs", [2, 4])
def test_runs_started_together_one_works_the_others_exit_3(
    runs: int, vault: Path, site: Site, env: dict[str, str]
) -> None:
    processes = [_start(vault, env) for _ in range(runs)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    winners = [r for r in results if r[0] != 3]
    assert len(winners) == 1, [(code, err.decode()) for code, _, err in results]
    assert winners[0][0] in (0, 1), winners[0][2].decode()
    assert winners[0][1].count(b"\ncreated ") > 20
    for code, out, err in results:
        if code == 3:  # the losers: a clear message, and nothing done
            assert out == b""
            assert LOCKED in err.decode(), err.decode()
    _finish(vault, env, dict(site.captures))


@pytest.mark.slow
@pytest.mark.parametrize("runs", [2, 4])
def test_runs_that_wait_for_the_lock_find_nothing_left(
    runs: int, vault: Path, site: Site, env: dict[str, str]
) -> None:
    processes = [_start(vault, env, "--lock-timeout", "300", "--json") for _ in range(runs)]
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=400)
        assert process.returncode in (0, 1), err.decode()
        reports.append({item["capture"]: item["outcome"] for item in json.loads(out)["captures"]})
    working = [r for r in reports if set(r.values()) - {"failed"}]
    assert len(working) == 1, reports  # the first does the work ...
    failed = {capture for capture, outcome in working[0].items() if outcome == "failed"}
    for report in reports:
        if report is not working[0]:  # ... the others only meet what cannot succeed
            assert report == dict.fromkeys(failed, "failed")
    _finish(vault, env, dict(site.captures))


# --- Obsidian edits a note while a run is going --------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><article><h1>{title}</h1>
<p>{title} is the subject of this page, which has enough text to be an article.</p>
<p>A second paragraph explains {title} with more words, so the extractor keeps it all.</p>
<p>A third paragraph closes the article on {title}; nothing else is on the page.</p>
</article></body></html>"""


class SlowSite:
    """Pages at /<name>, answered after ``delay`` seconds; ``/p`` answers 404 until ``found``;
    ``hooks[path]`` runs (once) while that page is being requested."""

    def __init__(self, server: HTTPServer, delay: float) -> None:
        self.server, self.delay, self.found = server, delay, False
        self.hooks: dict[str, Callable[[], None]] = {}
        server.expect_request(re.compile("/.*")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        hook = self.hooks.pop(request.path, None)
        if hook is not None:
            hook()
        time.sleep(self.delay)
        if request.path == "/p" and not self.found:
            return Response("gone", status=404)
        title = request.path.strip("/").replace("-", " ").title()
        return Response(PAGE.format(title=title), content_type="text/html; charset=utf-8")

    def url(self, path: str) -> str:
        return self.server.url_for(path)


def _capture(vault: Path, name: str, url: str, title: str) -> bytes:
    data = f"Link: {url}\n\n{title}\n".encode()
    (vault / "Inbox" / name).write_bytes(data)
    return data


@pytest.mark.parametrize("action", ["edit", "rename", "delete"])
def test_a_note_changed_in_obsidian_during_a_run(
    action: str, vault: Path, httpserver: HTTPServer, env: dict[str, str]
) -> None:
    site = SlowSite(httpserver, delay=0.2)
    captures = {"20250101_000000_link_p.txt": _capture(vault, "20250101_000000_link_p.txt", site.url("/p"), "The P Page")}  # fmt: skip
    first = json_run(vault, env)  # /p is not found: the note is partial, so improvable
    assert first == {"partial": ["20250101_000000_link_p.txt"]}
    note = vault / "Notes" / "The P Page.md"
    assert "status: partial" in note.read_text(encoding="utf-8")

    # A later capture of the same URL would improve it; slow pages keep the run busy.
    site.found = True
    for number in range(6):
        name = f"20250102_00000{number}_link_slow.txt"
        captures[name] = _capture(vault, name, site.url(f"/slow-page-{number}"), f"Slow {number}")
    again = "20250103_000000_link_p_again.txt"
    captures[again] = _capture(vault, again, site.url("/p"), "The P Page, again")
    edited = note.read_bytes() + b"\nMy own thought, added in Obsidian.\n"
    renamed = vault / "Notes" / "Renamed in Obsidian.md"

    def obsidian() -> None:  # the user, while the run fetches the third slow page
        if action == "edit":
            note.write_bytes(edited)
        elif action == "rename":
            note.rename(renamed)
        else:
            note.unlink()

    site.hooks["/slow-page-2"] = obsidian
    report = {Path(item["capture"]).name: item for item in cli_json(vault, env)}
    assert not site.hooks, "the run never fetched the page that triggers the edit"
    outcome = report[again]["outcome"]
    if action == "edit":  # left byte-identical, and said so
        assert note.read_bytes() == edited
        assert outcome == "duplicate"
        assert "edited there since; left untouched" in report[again]["reason"]
    elif action == "rename":  # found where it went, and left alone
        assert not note.exists()
        assert "status: partial" in renamed.read_text(encoding="utf-8")
        assert outcome == "duplicate"
        assert report[again]["note"] == "Notes/Renamed in Obsidian.md"  # where it is now
    else:  # deleted: the new capture makes a new note (it is not filed as a duplicate of nothing)
        assert outcome == "created"
        new = vault / report[again]["note"]
        assert "status: partial" not in new.read_text(encoding="utf-8")
    users = {"edit": ["Notes/The P Page.md"], "rename": [renamed.relative_to(vault).as_posix()]}
    check = check_vault(vault, captures, final=True, users=users.get(action, ()))
    assert not check.waiting
    _finish(vault, env, captures, users=users.get(action, ()))


# --- captures still arriving ------------------------------------------------------------------


def _as_is(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    return Enrichment(note)


def test_a_capture_still_being_written_waits_for_the_next_run(vault: Path) -> None:
    done = vault / "Inbox" / "20250101_000000_note_done.txt"
    done.write_bytes(b"A finished thought.\n")
    os.utime(done, (time.time() - 60, time.time() - 60))
    growing = vault / "Inbox" / "20250101_000100_note_growing.txt"
    growing.write_bytes(b"Line 0 of a long note synced from the phone.\n")
    stop = threading.Event()

    def phone() -> None:  # appends a line every 50 ms, for longer than the run will wait
        number = 1
        while not stop.wait(0.05):
            with growing.open("ab") as handle:
                handle.write(f"Line {number} of it.\n".encode())
            number += 1

    writer = threading.Thread(target=phone)
    writer.start()
    try:
        settings = Settings(settle_seconds=0.3)  # waits at most 1.5 s for a file to settle
        report = process_inbox(vault, settings=settings, enricher=_as_is)
    finally:
        stop.set()
        writer.join()
    outcomes = {Path(o.capture).name: o for o in report.outcomes}
    assert outcomes[done.name].status == "created"
    assert outcomes[growing.name].status == "skipped"
    assert "still being written" in outcomes[growing.name].reason
    assert growing.exists(), "left in the inbox"
    assert len(list((vault / "Notes").iterdir())) == 1, "no note of a half-written capture"

    final = growing.read_bytes()
    last = final.decode().splitlines()[-1]
    report = process_inbox(vault, settings=settings, enricher=_as_is)  # settled now
    assert [o.status for o in report.outcomes] == ["created"]
    note = vault / str(report.outcomes[0].note)
    assert last in note.read_text(encoding="utf-8"), "the whole capture, not half of it"
    check_vault(vault, {done.name: b"A finished thought.\n", growing.name: final})


def test_a_capture_changed_while_being_processed_is_retried(vault: Path) -> None:
    """The capture changes after it was read: its note is undone, and it is kept for later."""
    capture = vault / "Inbox" / "20250101_000000_note_edit.txt"
    capture.write_bytes(b"First words.\n")
    os.utime(capture, (time.time() - 60, time.time() - 60))

    def appends(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        with capture.open("ab") as handle:  # the phone syncs the rest meanwhile
            handle.write(b"More words, synced late.\n")
        return Enrichment(note)

    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=appends)
    assert [o.status for o in report.outcomes] == ["skipped"]
    assert "changed while being processed" in report.outcomes[0].reason
    assert not list((vault / "Notes").iterdir()), "the note of the old text was undone"
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_as_is)
    assert [o.status for o in report.outcomes] == ["created"]
    text = (vault / str(report.outcomes[0].note)).read_text(encoding="utf-8")
    assert "More words, synced late." in text
    check_vault(vault, {capture.name: b"First words.\nMore words, synced late.\n"})


# --- a slow capture ahead of the others ------------------------------------------------------


def test_a_slow_capture_does_not_hold_back_a_run_with_a_time_budget(vault: Path) -> None:
    """The first capture's server is slow; the others are enriched at once. When the time
    budget is spent, those are written: else every run would stop at the slow one, and no
    run would ever make progress."""
    names = [f"20250101_00000{number}_note_n{number}.txt" for number in range(5)]
    for number, name in enumerate(names):
        (vault / "Inbox" / name).write_text(f"Thought number {number}.\n", encoding="utf-8")

    def slow_first(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        if note.original_file == names[0]:
            time.sleep(2)  # a server answering slowly, retried with back-off
        return Enrichment(note)

    settings = Settings(settle_seconds=0, max_seconds=0.5, concurrency=4)
    report = process_inbox(vault, settings=settings, enricher=slow_first)
    outcomes = {Path(o.capture).name: o.status for o in report.outcomes}
    assert outcomes == {names[0]: "skipped", **dict.fromkeys(names[1:], "created")}
    assert report.out_of_time
    assert "time budget" in report.outcomes[-1].reason
    captures = {name: f"Thought number {n}.\n".encode() for n, name in enumerate(names)}
    check = check_vault(vault, captures)
    assert check.waiting == {names[0]}
