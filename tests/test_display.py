"""How notes, vaults and reports show in Jupyter (pure reprs, rendered to strings)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from obsidian_inbox import Note, Outcome, Report, Vault, process_inbox

from .helpers import CAPTURES, EMPTY_CAPTURE, make_vault


def test_a_note_shows_its_properties_then_its_body() -> None:
    note = Note(
        title="Pipes | and <tags>",
        category="development",
        created=dt.datetime(2025, 9, 18, 11, 49, 49),
        tags=("python", "machine-learning"),
        url="https://example.org/a?b=1&c=2",
        content="Some *text*.",
    )
    shown = note._repr_markdown_()
    head, body = shown.split("\n\n", 1)
    assert head.splitlines()[:2] == ["| property | value |", "| --- | --- |"]
    assert "| tags | #python, #machine-learning |" in head
    assert "| url | https://example.org/a?b=1&amp;c=2 |" in head
    assert "| created | 2025-09-18 11:49:49 |" in head
    assert "---" not in body.split("\n", 1)[0]  # the YAML block is not repeated
    assert body.startswith("# Pipes")
    assert "## content\n\nSome *text*.\n" in body


def test_a_note_table_escapes_pipes_and_html() -> None:
    note = Note(title="T", category="a|b<script>")
    assert "| category | a&#124;b&lt;script&gt; |" in note._repr_markdown_()


def test_a_vault_shows_a_compact_table_of_its_notes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    process_inbox(vault, offline=True)
    (vault / "Notes" / "<b>bold&.md").write_text("# x\n", encoding="utf-8")
    shown = Vault(vault)._repr_html_()
    assert shown.startswith("<p><b>Vault</b> <code>")
    assert f"{len(CAPTURES) + 1} notes" in shown
    assert "<td>Notes/&lt;b&gt;bold&amp;.md</td>" in shown
    assert "<b>bold" not in shown
    assert shown.count("<tr>") == len(CAPTURES) + 2  # the header and one row per note


def test_a_large_vault_shows_the_first_fifty(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={})
    (vault / "Notes").mkdir()
    for number in range(60):
        (vault / "Notes" / f"Note {number:02}.md").write_text("# x\n", encoding="utf-8")
    shown = Vault(vault)._repr_html_()
    assert "60 notes" in shown
    assert "… and 10 more" in shown
    assert shown.count("<tr>") == 51


def test_a_report_shows_the_summary_and_a_table_of_outcomes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    report = process_inbox(vault, offline=True)
    shown = report._repr_html_()
    assert shown.startswith("<p><b>inbox: 3 new, 1 failed</b></p><table>")
    assert "<td>failed</td>" in shown
    assert "empty capture: the file holds no text" in shown
    assert "<details>" not in shown  # no previews outside dry runs


def test_a_report_escapes_everything_and_folds_previews() -> None:
    report = Report(
        vault=Path("/v"),
        inbox=Path("/v/Inbox"),
        dry_run=True,
        outcomes=(
            Outcome(
                capture="Inbox/<script>.txt",
                status="created",
                note="Notes/<i>.md",
                preview="---\ntitle: <b>\n---\n",
            ),
            Outcome(capture="Inbox/a.txt", status="updated", note="Notes/a.md", diff="-a\n+<b>\n"),
        ),
    )
    shown = report._repr_html_()
    assert "<script>" not in shown
    assert "<i>" not in shown
    assert "&lt;script&gt;" in shown
    assert (
        "<details><summary>note</summary><pre>---\ntitle: &lt;b&gt;\n---\n</pre></details>" in shown
    )
    assert "<details><summary>diff</summary><pre>-a\n+&lt;b&gt;\n</pre></details>" in shown
    assert "(dry run: nothing changed)" in shown


def test_reprs_stay_short() -> None:
    note = Note(title="T", content="x" * 10_000)
    assert len(repr(note)) < 400
    outcome = Outcome(capture="c", status="created", preview="y" * 10_000)
    assert "y" * 100 not in repr(outcome)
