"""Hostile input: every capture and vault state that could hurt, each with a clear outcome.

For each case: the reason names the file, the capture is kept byte-identical unless it was
filed away with its note, nothing is written outside the vault, and the run is bounded in
time and memory (the captures are capped in size before they are read).
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from obsidian_inbox import Note, Vault, parse_note, process_inbox
from obsidian_inbox._naming import is_valid_file_name

from .conftest import TEST_SETTINGS, tree_digest

Capture = Callable[..., Path]

BAD_CAPTURES = {
    "empty": (b"", "empty capture"),
    "binary": (bytes(range(256)) * 8, "binary file"),
    "nul-bytes": (b"Link: https://a.example/\x00\x00\n", "binary file"),
    "huge-line": (b"x" * 20_000_000, "too large"),
    "many-lines": (b"line\n" * 300_000, "too large"),
}


@pytest.mark.parametrize("case", sorted(BAD_CAPTURES))
def test_refused_captures_are_reported_and_kept(vault: Path, capture: Capture, case: str) -> None:
    data, reason = BAD_CAPTURES[case]
    path = capture(f"20250101_000000_note_{case}.txt", data)
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert reason in outcome.reason
    assert outcome.capture == f"Inbox/{path.name}"
    assert path.read_bytes() == data
    assert not (vault / "Notes").exists()


ODD_BUT_FINE = {
    "invalid-utf8": b"A thought about the caf\xe9 and \x93quotes\x94.\n",
    "crlf": b"Link: https://a.example/crlf\r\n\r\nA title\r\n",
    "bom": b"\xef\xbb\xbfA thought with a byte-order mark.\n",
    "lines-1e5": b"word " * 10 + b"\n" + b"more\n" * 100_000,
}


@pytest.mark.parametrize("case", sorted(ODD_BUT_FINE))
def test_odd_but_readable_captures_make_notes(vault: Path, capture: Capture, case: str) -> None:
    data = ODD_BUT_FINE[case]
    if len(data) > TEST_SETTINGS.max_capture_bytes:
        pytest.skip("over the size limit: covered by the refused cases")
    capture(f"20250101_000000_note_{case}.txt", data)
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [o.status for o in report.outcomes] == ["created"]
    note = parse_note((vault / (report.outcomes[0].note or "")).read_text(encoding="utf-8"))
    assert "\r" not in note.content
    assert "\ufffd" not in note.content


HOSTILE_TITLES = [
    "../../../../etc/passwd",
    "..",
    "CON",
    "nul.txt",
    "a:b",
    "[[x]]",
    "#tag",
    "^block",
    "a|b",
    "🙂" * 300,
    "---",
    "key: value",
    "yes",
    "!!python/object:os.system",
    "%%hidden%%",
    "<script>alert(1)</script>",
    "\u202eevil\u202c.exe",
    "line\u2028separator",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=range(len(HOSTILE_TITLES)))
def test_hostile_titles_stay_inside_the_vault_and_read_back(
    vault: Path, capture: Capture, tmp_path: Path, title: str
) -> None:
    capture("20250101_000000_note_x.txt", f"---\ntitle: {title!r}\n---\nBody.\n".replace("'", '"'))
    outside = tree_digest(tmp_path, exclude=("vault",))
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (outcome,) = report.outcomes
    assert outcome.status == "created", outcome.reason
    written = vault / (outcome.note or "")
    assert written.parent == vault / "Notes"
    assert is_valid_file_name(written.name)
    note = parse_note(written.read_text(encoding="utf-8"))
    assert note.title == Note(title=title).title
    assert tree_digest(tmp_path, exclude=("vault",)) == outside


def test_nfc_and_nfd_titles_and_case_only_differences_do_not_collide(
    vault: Path, capture: Capture
) -> None:
    composed = unicodedata.normalize("NFC", "Café notes")
    decomposed = unicodedata.normalize("NFD", "Café notes")
    for number, title in enumerate([composed, decomposed, "café NOTES", "CAFÉ notes"]):
        capture(f"20250101_00000{number}_note_x.txt", f"---\ntitle: {title}\n---\nText {number}.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    names = [Path(o.note or "").name for o in report.outcomes]
    assert names == ["Café notes.md", "Café notes (2).md", "café NOTES (3).md", "CAFÉ notes (4).md"]
    assert len({name.casefold() for name in names}) == 4


def test_a_symlink_leading_out_of_the_vault_is_never_written_through(
    vault: Path, capture: Capture, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (vault / "Notes").symlink_to(outside, target_is_directory=True)
    path = capture("20250101_000000_note_x.txt", "A thought.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert "outside the vault" in outcome.reason
    assert list(outside.iterdir()) == []
    assert path.exists()


def test_an_existing_note_with_broken_frontmatter_is_tolerated_and_untouched(
    vault: Path, capture: Capture
) -> None:
    (vault / "Notes").mkdir()
    broken = vault / "Notes" / "A thought.md"
    broken.write_text(
        "---\ncreated: {{date}}\ntags: [unclosed\n---\n# A thought\n", encoding="utf-8"
    )
    before = broken.read_bytes()
    capture("20250101_000000_note_x.txt", "A thought.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    assert [(o.status, o.note) for o in report.outcomes] == [("created", "Notes/A thought (2).md")]
    assert broken.read_bytes() == before
    with Vault(vault) as opened:
        (info,) = [n for n in opened.notes() if n.path == "Notes/A thought.md"]
        assert "invalid YAML frontmatter" in info.error


def test_a_read_only_notes_folder_fails_cleanly(
    vault: Path, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    real_open = os.open

    unnamed = getattr(os, "O_TMPFILE", -1)  # a file without a name, made in the folder itself

    def read_only(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        creates = (flags & os.O_CREAT and Path(path).parent.name == "Notes") or (
            flags & unnamed == unnamed and Path(path).name == "Notes"
        )
        if creates:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    path = capture("20250101_000000_note_x.txt", "A thought.\n")
    report = process_inbox(vault, offline=True, settings=TEST_SETTINGS)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert "cannot write: Read-only file system" in outcome.reason
    assert path.exists()
    assert not list((vault / "Notes").iterdir())


def _peak_rss_mb(code: str) -> float:
    script = f"import resource\n{code}\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return int(output.stdout.split()[-1]) / 1024


def test_memory_stays_bounded_on_a_20_mb_capture(vault: Path, capture: Capture) -> None:
    capture("20250101_000000_note_big.txt", b"x" * 20_000_000)
    setup = "from obsidian_inbox import Settings, process_inbox"
    idle = _peak_rss_mb(setup)
    busy = _peak_rss_mb(
        f"{setup}\nprocess_inbox({str(vault)!r}, offline=True, settings=Settings(settle_seconds=0))"
    )
    # Only max_capture_bytes + 1 bytes are ever read, not the 20 MB.
    assert busy - idle < 10, f"{busy - idle:.1f} MB more than an idle import"
