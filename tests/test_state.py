"""The vault's state file: write records and transient-failure counts, in a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from obsidian_inbox._state import State


def test_attempts_are_counted_and_cleared(tmp_path: Path) -> None:
    with State(tmp_path / "state.sqlite3") as state:
        assert state.attempts("c1") == 0
        assert state.record_attempt("c1", "timed out") == 1
        assert state.record_attempt("c1", "timed out") == 2
        state.clear_attempts("c2")  # none on record: nothing to do
        state.clear_attempts("c1")
        assert state.attempts("c1") == 0
    with State(tmp_path / "state.sqlite3") as again:
        assert again.attempts("c1") == 0


def test_attempts_another_process_records_between_batches_are_cleared(tmp_path: Path) -> None:
    """The captures with attempts are read once per batch, not once per run or per object."""
    file = tmp_path / "state.sqlite3"
    with State(file) as mine, State(file) as other:
        with mine.batch():
            mine.clear_attempts("c1")  # reads: no capture has attempts
        other.record_attempt("c1", "503 Service Unavailable")
        with mine.batch():
            mine.clear_attempts("c1")
        assert other.attempts("c1") == 0


def test_new_files_are_recorded_in_one_go(tmp_path: Path) -> None:
    with State(tmp_path / "state.sqlite3") as state:
        state.begin_write("Notes/A.md", "old", "c0")  # an earlier write that was interrupted
        state.record_writes([("Notes/A.md", "a" * 64, "c1"), ("Notes/B.md", "b" * 64, "c2")])
        first, second = state.write_record("Notes/A.md"), state.write_record("Notes/B.md")
        assert first is not None
        assert second is not None
        assert (first.sha256, first.pending, first.capture_id) == ("a" * 64, None, "c1")
        assert (second.sha256, second.pending, second.capture_id) == ("b" * 64, None, "c2")
        assert first.matches("a" * 64)
        assert not first.matches("old")
