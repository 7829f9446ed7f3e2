"""Dry runs change nothing and show what would happen; stopped runs name every capture."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import attrs

from obsidian_inbox import Enrichment, Note, Settings, process_inbox

from .helpers import CAPTURES, EMPTY_CAPTURE, add_capture, make_vault, tree_digest, wait_for


def partial(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    return Enrichment(attrs.evolve(note, status="partial", status_reason="the site was down"))


def test_a_dry_run_shows_each_note_and_changes_nothing(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    before = tree_digest(tmp_path)
    report = process_inbox(vault, offline=True, dry_run=True)
    assert tree_digest(tmp_path) == before
    assert report.dry_run
    assert report.counts() == {"created": 3, "failed": 1}
    for outcome in report.created:
        assert outcome.archived is None
        assert outcome.diff is None
        assert outcome.preview is not None
        assert outcome.preview.startswith("---\ntype: note\n")
        assert not (vault / (outcome.note or "")).exists()
    assert report.failed[0].preview is None


def passthrough(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
    """An enricher whose fetches all succeed (and add nothing): no network in tests."""
    return Enrichment(note)


def test_a_dry_run_that_would_update_a_note_shows_a_diff(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    first = process_inbox(vault, enricher=partial)
    assert first.counts() == {"partial": 3}
    # The same article captured again: its partial note (ours, unedited) would be improved.
    add_capture(
        vault, "20250922_080000_link_again.txt", "https://example.org/posts/vector-databases\n"
    )
    before = tree_digest(tmp_path)
    report = process_inbox(vault, dry_run=True, enricher=passthrough)
    assert tree_digest(tmp_path) == before
    [outcome] = report.outcomes
    assert outcome.status == "updated"
    assert outcome.note == "Notes/Vector Databases, Explained.md"
    assert outcome.diff is not None
    assert outcome.diff.startswith(
        "--- a/Notes/Vector Databases, Explained.md\n+++ b/Notes/Vector Databases, Explained.md\n"
    )
    assert "\n-status: partial\n" in outcome.diff
    assert "\n+status: draft\n" in outcome.diff
    assert outcome.preview is not None
    assert "status: draft" in outcome.preview
    # And the real run does what the dry run said.
    real = process_inbox(vault, enricher=passthrough)
    assert [(o.status, o.note) for o in real.outcomes] == [(outcome.status, outcome.note)]


def test_a_stopped_run_names_every_capture(tmp_path: Path) -> None:
    captures = {
        f"2025091{i}_120000_note_t{i}.txt": f"Thought {i} about #testing\n" for i in range(5)
    }
    vault = make_vault(tmp_path, captures=captures)
    first_note = vault / "Notes" / "Thought 0 about testing.md"
    stop = threading.Event()

    def stop_once_a_note_is_written(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        if note.title != "Thought 0 about testing":
            wait_for(first_note.exists, what="the first note")
            stop.set()  # as a signal handler would, while this capture is in hand
        return Enrichment(note)

    report = process_inbox(vault, enricher=stop_once_a_note_is_written, concurrency=1, stop=stop)
    assert report.interrupted
    assert not report.out_of_time
    # The capture in hand when the stop came is finished or left whole; the rest are left.
    assert 1 <= len(report.created) <= 2
    assert len(report) == len(captures)
    skipped = report.with_status("skipped")
    assert len(skipped) == len(captures) - len(report.created)
    assert {o.reason for o in skipped} == {
        "the run was stopped first; it stays in the inbox for the next run"
    }
    assert report.summary().endswith(f"{len(skipped)} skipped, interrupted")
    assert len(list((vault / "Inbox").glob("*.txt"))) == len(skipped)


def test_a_run_out_of_time_leaves_the_rest(tmp_path: Path) -> None:
    captures = {
        f"2025091{i}_120000_note_t{i}.txt": f"Thought {i} about #testing\n" for i in range(4)
    }
    vault = make_vault(tmp_path, captures=captures)
    settings = Settings(settle_seconds=0, max_seconds=0.2)

    def slow(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        threading.Event().wait(0.15)
        return Enrichment(note)

    report = process_inbox(vault, enricher=slow, concurrency=1, settings=settings)
    assert report.out_of_time
    assert not report.interrupted
    assert not report.ok
    assert report.summary().endswith(", out of time")
    assert 1 <= len(report.created) < len(captures)
    assert len(report) == len(captures)


def test_a_stop_before_the_start_handles_nothing(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    stop = threading.Event()
    stop.set()
    report = process_inbox(vault, offline=True, stop=stop)
    assert report.interrupted
    assert report.counts() == {"skipped": len(CAPTURES)}
    assert len(list((vault / "Inbox").glob("*.txt"))) == len(CAPTURES)
