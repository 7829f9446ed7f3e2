"""The pipeline end to end on real files: outcomes, identity, safety, resumption."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs
import pytest

from obsidian_inbox import (
    CapturesFailedError,
    Enrichment,
    Note,
    Settings,
    Vault,
    VaultError,
    VaultLockedError,
    parse_note,
    process_inbox,
)

from .conftest import DATA, TEST_SETTINGS, tree_digest

Capture = Callable[..., Path]


def _notes(vault: Path) -> dict[str, Note]:
    return {
        p.relative_to(vault).as_posix(): parse_note(p.read_text(encoding="utf-8"))
        for p in sorted(vault.rglob("*.md"))
        if ".obsidian" not in p.parts
    }


def test_every_fixture_capture_ends_in_one_outcome(vault: Path) -> None:
    for capture in (DATA / "captures").glob("*.txt"):
        shutil.copy(capture, vault / "Inbox")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert len(report) == 13
    assert report.counts() == {"created": 11, "partial": 2}
    assert not report.ok
    notes = _notes(vault)
    assert len(notes) == 13
    assert {o.note for o in report.outcomes} == set(notes)
    assert sorted(p.name for p in (vault / "Inbox").iterdir()) == ["processed"]
    assert len(list((vault / "Inbox" / "processed").iterdir())) == 13
    seed = notes["Notes/How to Become a Machine Learning Engineer (Step-by-Step).md"]
    assert seed.modified is not None
    assert seed.source == "inbox_processing"
    assert report.summary() == "inbox: 11 new, 2 partial"


def test_a_failed_capture_stays_in_the_inbox_and_the_others_are_processed(
    vault: Path, capture: Capture
) -> None:
    capture("20250101_000000_note_empty.txt", b"")
    capture("20250101_000001_note_fine.txt", "A fine thought.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [(o.status, o.capture) for o in report.outcomes] == [
        ("failed", "Inbox/20250101_000000_note_empty.txt"),
        ("created", "Inbox/20250101_000001_note_fine.txt"),
    ]
    assert report.outcomes[0].reason == "empty capture: the file holds no text"
    assert (vault / "Inbox" / "20250101_000000_note_empty.txt").exists()
    with pytest.raises(
        CapturesFailedError, match=r"20250101_000000_note_empty\.txt: failed: empty capture"
    ):
        report.raise_for_failures()


def test_an_empty_inbox_is_success(vault: Path) -> None:
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert report.ok
    assert len(report) == 0
    assert report.summary() == "inbox: nothing to do"


def test_missing_vault_or_inbox_is_a_vault_error(tmp_path: Path, vault: Path) -> None:
    with pytest.raises(VaultError, match="vault folder does not exist"):
        process_inbox(tmp_path / "nope", settings=TEST_SETTINGS)
    with pytest.raises(VaultError, match="inbox folder does not exist"):
        process_inbox(vault, inbox="Elsewhere", settings=TEST_SETTINGS)


def test_a_url_captured_twice_makes_one_note(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post/?utm_source=x\n\nA Post\n")
    capture("20250101_000001_link_b.txt", "https://A.example/post/#comments\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [o.status for o in report.outcomes] == ["created", "duplicate"]
    assert report.outcomes[1].note == "Notes/A Post.md"
    assert report.ok
    capture("20250102_000000_link_c.txt", "Link: https://a.example/post/\n")
    again = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [o.status for o in again.outcomes] == ["duplicate"]
    assert len(_notes(vault)) == 1


def test_recapturing_an_edited_note_leaves_it_byte_identical(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post\n\nA Post\n")
    process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    note = vault / "Notes" / "A Post.md"
    edited = note.read_bytes().replace(b"## summary\n", b"## summary\n\nMy own words.\n")
    note.write_bytes(edited)
    capture("20250102_000000_link_b.txt", "Link: https://a.example/post\n\nA Post, again\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [o.status for o in report.outcomes] == ["duplicate"]
    assert "edited there since; left untouched" in report.outcomes[0].reason
    assert note.read_bytes() == edited


def test_a_renamed_and_moved_note_is_still_found(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post\n\nA Post\n")
    process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (vault / "Archive").mkdir()
    (vault / "Notes" / "A Post.md").rename(vault / "Archive" / "Renamed by me.md")
    capture("20250102_000000_link_b.txt", "https://a.example/post\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [(o.status, o.note) for o in report.outcomes] == [
        ("duplicate", "Archive/Renamed by me.md")
    ]
    assert list((vault / "Notes").iterdir()) == []


def test_a_run_interrupted_between_writing_and_filing_is_finished_next_time(
    vault: Path, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture("20250101_000000_note_a.txt", "A thought worth keeping.\n")

    def crash(self: Vault, capture: Path, archive: Path, **options: object) -> Path:
        raise KeyboardInterrupt  # as if the process died right after the note was written

    monkeypatch.setattr(Vault, "archive_capture", crash)
    first = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert first.interrupted
    assert (vault / "Inbox" / "20250101_000000_note_a.txt").exists()
    assert len(_notes(vault)) == 1
    monkeypatch.undo()
    second = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [(o.status, o.note) for o in second.outcomes] == [
        ("created", "Notes/A thought worth keeping.md")
    ]
    assert "interrupted run" in second.outcomes[0].reason
    assert len(_notes(vault)) == 1
    assert not (vault / "Inbox" / "20250101_000000_note_a.txt").exists()
    before = tree_digest(vault, exclude=(".obsidian-inbox",))
    third = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert len(third) == 0
    assert tree_digest(vault, exclude=(".obsidian-inbox",)) == before


def test_partial_notes_are_written_and_flagged(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_lost.txt", "Link: \n\nA capture whose link was lost\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (outcome,) = report.outcomes
    assert outcome.status == "partial"
    assert outcome.needs_attention
    assert outcome.reason == 'the "Link:" line is empty'
    assert _notes(vault)[outcome.note or ""].status == "partial"
    assert outcome.archived == "Inbox/processed/20250101_000000_link_lost.txt"


def _enricher(transform: Callable[[Note], Enrichment]) -> Callable[..., Enrichment]:
    def enrich(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        return transform(note)

    return enrich


def test_transient_failures_are_retried_then_written_as_partial(
    vault: Path, capture: Capture
) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post\n\nA Post\n")
    flaky = _enricher(
        lambda note: Enrichment(
            note, transient=("timed out after 30 s for https://a.example/post",)
        )
    )
    settings = attrs.evolve(TEST_SETTINGS, max_attempts=3)
    for attempt in (1, 2):
        report = process_inbox(vault, settings=settings, enricher=flaky)
        (outcome,) = report.outcomes
        assert outcome.status == "deferred"
        assert f"attempt {attempt} of 3" in outcome.reason
        assert (vault / "Inbox" / "20250101_000000_link_a.txt").exists()
        assert not (vault / "Notes").exists()
    report = process_inbox(vault, settings=settings, enricher=flaky)
    (outcome,) = report.outcomes
    assert outcome.status == "partial"
    assert outcome.reason == "timed out after 30 s for https://a.example/post (after 3 attempts)"
    assert not (vault / "Inbox" / "20250101_000000_link_a.txt").exists()


def test_an_improved_enrichment_updates_our_partial_note(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post\n\nA Post\n")
    failing = _enricher(
        lambda n: Enrichment(attrs.evolve(n, status="partial", status_reason="404 Not Found"))
    )
    process_inbox(vault, settings=TEST_SETTINGS, enricher=failing)
    capture("20250102_000000_link_b.txt", "Link: https://a.example/post\n")
    working = _enricher(lambda n: Enrichment(attrs.evolve(n, summary="Now with a summary.")))
    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=working)
    assert [(o.status, o.note) for o in report.outcomes] == [("updated", "Notes/A Post.md")]
    assert _notes(vault)["Notes/A Post.md"].summary == "Now with a summary."


def test_an_enricher_bug_does_not_cost_the_capture(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_link_a.txt", "Link: https://a.example/post\n\nA Post\n")

    def broken(note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        raise RuntimeError("bug")

    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=broken)
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("partial", "enrichment failed: bug")
    ]


def test_a_capture_that_changes_while_processed_is_left_for_next_time(
    vault: Path, capture: Capture
) -> None:
    path = capture("20250101_000000_note_a.txt", "The start of a thought")

    def grows(note: Note) -> Enrichment:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(" and the rest of it, synced later.\n")
        return Enrichment(note)

    report = process_inbox(vault, settings=TEST_SETTINGS, enricher=_enricher(grows))
    assert [o.status for o in report.outcomes] == ["skipped"]
    assert path.exists()
    assert not list((vault / "Notes").glob("*.md"))
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [o.status for o in report.outcomes] == ["created"]


def _append_dots(path: Path, times: int, every: float = 0.1) -> threading.Thread:
    def keep_writing() -> None:
        for _ in range(times):
            time.sleep(every)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(".")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    return writer


def test_a_capture_being_written_is_waited_for(vault: Path, capture: Capture) -> None:
    path = capture("20250101_000000_note_a.txt", "Hello")
    writer = _append_dots(path, 4)  # done after 0.4 s, well within 5 x 0.3 s
    try:
        report = process_inbox(
            vault, offline=True, settings=attrs.evolve(TEST_SETTINGS, settle_seconds=0.3)
        )
    finally:
        writer.join()
    assert [o.status for o in report.outcomes] == ["created"]
    assert "Hello...." in _notes(vault)["Notes/Hello.md"].content


def test_a_capture_that_keeps_changing_is_left_for_the_next_run(
    vault: Path, capture: Capture
) -> None:
    path = capture("20250101_000000_note_a.txt", "Hello")
    # Still changing after 5 x 0.5 s; a write every 0.05 s leaves a wide margin for a
    # loaded machine (with a write every 0.1 s against 0.3 s, a busy run once saw a pause).
    writer = _append_dots(path, 70, every=0.05)
    try:
        report = process_inbox(
            vault, offline=True, settings=attrs.evolve(TEST_SETTINGS, settle_seconds=0.5)
        )
    finally:
        writer.join()
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("skipped", "still being written; it will be processed next run")
    ]
    assert path.exists()
    assert not (vault / "Notes").exists()


def test_dry_run_changes_nothing(vault: Path, capture: Capture) -> None:
    for source in (DATA / "captures").glob("*.txt"):
        shutil.copy(source, vault / "Inbox")
    before = tree_digest(vault)
    report = process_inbox(vault, offline=True, dry_run=True, settings=TEST_SETTINGS)
    assert report.dry_run
    assert report.counts() == {"created": 11, "partial": 2}
    assert "(dry run: nothing changed)" in report.summary()
    assert tree_digest(vault) == before


def test_a_locked_vault_is_refused(vault: Path) -> None:
    with Vault(vault) as holder:
        holder.lock()
        with pytest.raises(VaultLockedError):
            process_inbox(vault, offline=True, settings=TEST_SETTINGS)


def test_stop_event_ends_the_run_between_captures(vault: Path, capture: Capture) -> None:
    for number in range(5):
        capture(f"20250101_00000{number}_note_n.txt", f"Thought number {number}.\n")
    stop = threading.Event()

    def stop_after_first(note: Note) -> Enrichment:
        stop.set()
        return Enrichment(note)

    report = process_inbox(
        vault,
        settings=TEST_SETTINGS,
        enricher=_enricher(stop_after_first),
        concurrency=1,
        stop=stop,
    )
    assert report.interrupted
    assert len(report) == 5
    assert 1 <= len(report.created) < 5
    left = report.with_status("skipped")
    assert len(left) == 5 - len(report.created)
    assert all("stopped first" in outcome.reason for outcome in left)
    assert len(list((vault / "Inbox").glob("*.txt"))) == len(left)
    assert report.summary().endswith(", interrupted")


def test_progress_is_reported(vault: Path, capture: Capture) -> None:
    for number in range(3):
        capture(f"20250101_00000{number}_note_n.txt", f"Thought number {number}.\n")
    seen: list[tuple[int, int]] = []
    process_inbox(
        vault, offline=True, settings=TEST_SETTINGS, on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_report_as_data_and_html(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_note_a.txt", "A <thought>.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    data = report.to_dict()
    assert data["counts"] == {"created": 1}
    assert data["captures"] == [
        {
            "capture": "Inbox/20250101_000000_note_a.txt",
            "outcome": "created",
            "note": "Notes/A thought.md",
            "reason": None,
            "error": None,
            "archived": "Inbox/processed/20250101_000000_note_a.txt",
            "preview": None,
            "diff": None,
        }
    ]
    assert "<td>created</td>" in report._repr_html_()


def test_inbox_outside_the_vault(tmp_path: Path, vault: Path) -> None:
    inbox = tmp_path / "phone-inbox"
    inbox.mkdir()
    (inbox / "20250101_000000_note_a.txt").write_text(
        "A thought from elsewhere.\n", encoding="utf-8"
    )
    report = process_inbox(vault, inbox=inbox, offline=True, settings=Settings(settle_seconds=0))
    assert [o.status for o in report.outcomes] == ["created"]
    assert (inbox / "processed" / "20250101_000000_note_a.txt").exists()
