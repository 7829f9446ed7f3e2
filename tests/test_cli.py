"""The command line, run as the Obsidian Shell Commands plugin runs it: a subprocess, no terminal."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import filelock
import pytest
from click.testing import CliRunner, Result

import obsidian_inbox
from obsidian_inbox import Vault
from obsidian_inbox._cli import (
    EXIT_ATTENTION,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    cli,
)

from .helpers import (
    CAPTURES,
    EMPTY_CAPTURE,
    SUMMARY,
    add_capture,
    cli_env,
    make_vault,
    run_cli,
    start_slow_run,
    tree_digest,
    wait_for,
)

ESC = b"\x1b"


def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").splitlines()


def invoke(*args: str | Path, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run the command line in this process (quicker; checks it restores what it changes)."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, [str(arg) for arg in args], prog_name="obsidian-inbox")


def notes_in(vault: Path) -> list[Path]:
    return sorted((vault / "Notes").glob("*.md")) if (vault / "Notes").is_dir() else []


def assert_consistent(vault: Path, captures: int) -> None:
    """Every capture is in the inbox, or filed away with exactly one note; nothing is torn."""
    inbox = sorted(p.name for p in (vault / "Inbox").glob("*.txt"))
    archived = sorted(p.name for p in (vault / "Inbox" / "processed").glob("*.txt"))
    assert len(inbox) + len(archived) == captures
    assert not set(inbox) & set(archived)
    assert not list(vault.rglob("*.oi-tmp"))
    notes = [Vault(vault).read_note(path) for path in notes_in(vault)]
    made_from = sorted(note.original_file for note in notes)
    assert len(set(made_from)) == len(made_from), "a capture made two notes"
    assert set(archived) <= set(made_from)


def assert_unlocked(vault: Path) -> None:
    lock = filelock.FileLock(vault / ".obsidian-inbox" / "lock")
    lock.acquire(timeout=0)  # raises filelock.Timeout if a run still holds it
    lock.release()


# --- a plain successful run ---------------------------------------------------------


def test_success_is_plain_text_with_the_summary_last(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    result = run_cli("process", vault, "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == b""
    assert ESC not in result.stdout
    out = lines(result.stdout)
    assert re.match(SUMMARY, out[-1])
    assert out[-1] == "inbox: 3 new"
    assert all(line.startswith("created ") for line in out[:-1])
    assert len(notes_in(vault)) == len(CAPTURES)


def test_forced_colour_in_the_environment_is_ignored_without_a_terminal(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    env = cli_env(FORCE_COLOR="1", CLICOLOR_FORCE="1", TTY_COMPATIBLE="1", TERM="xterm-256color")
    result = run_cli("process", vault, "--offline", "-v", cwd=tmp_path, env=env)
    assert result.returncode == EXIT_ATTENTION
    assert ESC not in result.stdout
    assert ESC not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal_without_no_color(tmp_path: Path, no_color: bool) -> None:
    import pty

    vault = make_vault(tmp_path)
    env = cli_env(TERM="xterm-256color", **({"NO_COLOR": "1"} if no_color else {}))
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "obsidian_inbox", "process", str(vault), "--offline"],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == EXIT_OK
    finally:
        os.close(leader)
    assert b"inbox: 3 new" in output
    assert (ESC in output) is not no_color


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_output_is_utf8_whatever_the_stream_encoding(tmp_path: Path, encoding: str) -> None:
    vault = make_vault(tmp_path)
    # As on Windows (cp1252) or a bare POSIX locale: Python's streams would not be UTF-8.
    env = cli_env(PYTHONIOENCODING=encoding)
    result = run_cli("process", vault, "--offline", cwd=tmp_path, env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert "Café naïve – a thought on ünïcode file names.md" in result.stdout.decode("utf-8")


def test_library_warnings_and_logging_stay_off_stderr(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    env = cli_env(PYTHONWARNINGS="always", PYTHONDEVMODE="1")
    result = run_cli("process", vault, "--offline", cwd=tmp_path, env=env)
    assert result.returncode == EXIT_OK
    assert result.stderr == b""


def test_verbose_logs_on_stderr_and_restores_global_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault(tmp_path)
    root = logging.getLogger()
    before = (root.level, list(root.handlers), signal.getsignal(signal.SIGTERM))
    result = invoke("process", vault, "--offline", "-v", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK
    assert "created" in result.stderr
    assert (root.level, list(root.handlers), signal.getsignal(signal.SIGTERM)) == before


# --- finding the vault --------------------------------------------------------------


def test_vault_is_found_from_the_working_directory(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    (vault / "Notes" / "Deep").mkdir(parents=True)
    result = run_cli("process", "--offline", cwd=vault / "Notes" / "Deep")
    assert result.returncode == EXIT_OK, result.stderr
    assert lines(result.stdout)[-1] == "inbox: 3 new"


def test_outside_a_vault_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("process", "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert result.stdout == b""
    assert b"not inside an Obsidian vault" in result.stderr


def test_a_missing_vault_is_named(tmp_path: Path) -> None:
    result = run_cli("process", tmp_path / "Nowhere", "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert str(tmp_path / "Nowhere").encode() in result.stderr


def test_a_vault_path_split_on_spaces_is_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault(tmp_path, name="My Notes Vault")
    # An unquoted {{vault_path}} reaches us as several arguments.
    parts = str(vault).split(" ")
    assert len(parts) > 1
    result = invoke("process", *parts, "--offline", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK, result.stderr
    assert result.stdout.splitlines()[-1] == "inbox: 3 new"


def test_several_vaults_that_do_not_join_are_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(
        "process", tmp_path / "a", tmp_path / "b", cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == EXIT_USAGE
    assert "quote a path that has spaces" in result.stderr


# --- captures that need attention ---------------------------------------------------


def test_a_failed_capture_exits_1_with_its_reason_on_stderr(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    result = run_cli("process", vault, "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_ATTENTION
    assert lines(result.stdout)[-1] == "inbox: 3 new, 1 failed"
    assert lines(result.stderr) == [
        f"error: Inbox/{EMPTY_CAPTURE[0]}: empty capture: the file holds no text"
    ]
    assert (vault / "Inbox" / EMPTY_CAPTURE[0]).exists()


def test_an_empty_inbox_is_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path, captures={})
    result = invoke("process", vault, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK
    assert result.stdout.splitlines() == ["inbox: nothing to do"]
    assert result.stderr == ""


def test_duplicates_are_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path)
    assert (
        invoke("process", vault, "--offline", cwd=tmp_path, monkeypatch=monkeypatch).exit_code
        == EXIT_OK
    )
    name = "20250920_090000_link_again.txt"
    add_capture(vault, name, "https://EXAMPLE.org/posts/vector-databases#top\n")
    result = invoke("process", vault, "--offline", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK, result.stderr
    assert result.stdout.splitlines() == [
        f"duplicate Inbox/{name} -> Notes/Vector Databases, Explained.md",
        "inbox: 1 duplicate",
    ]


# --- machine-readable output --------------------------------------------------------


def test_json_is_one_document_naming_every_capture(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    result = run_cli("process", vault, "--offline", "--json", cwd=tmp_path)
    assert result.returncode == EXIT_ATTENTION
    assert result.stderr == b""
    data = json.loads(result.stdout)
    assert list(data) == [
        "vault",
        "inbox",
        "dry_run",
        "interrupted",
        "out_of_time",
        "summary",
        "counts",
        "captures",
    ]
    assert data["summary"] == "inbox: 3 new, 1 failed"
    assert data["counts"] == {"created": 3, "failed": 1}
    named = {Path(entry["capture"]).name for entry in data["captures"]}
    assert named == {*CAPTURES, EMPTY_CAPTURE[0]}
    keys = ["capture", "outcome", "note", "reason", "error", "archived", "preview", "diff"]
    for entry in data["captures"]:
        assert list(entry) == keys
        if entry["outcome"] == "created":
            assert (vault / entry["note"]).is_file()
            assert (vault / entry["archived"]).is_file()
        else:
            assert entry["error"] == "InboxParseError"
            assert entry["reason"] == "empty capture: the file holds no text"


def test_print_paths_prints_only_existing_notes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, captures={**CAPTURES, EMPTY_CAPTURE[0]: EMPTY_CAPTURE[1]})
    result = run_cli("process", vault, "--offline", "--print-paths", cwd=tmp_path)
    assert result.returncode == EXIT_ATTENTION
    paths = [Path(line) for line in lines(result.stdout)]
    assert len(paths) == len(CAPTURES)
    for path in paths:
        assert path.is_absolute()
        assert path.is_file()
        assert path.suffix == ".md"
        assert path.parent == vault.resolve() / "Notes"
    assert b"empty capture" in result.stderr
    # Nothing new: nothing to open, and no summary line for the plugin to try to open.
    again = run_cli("process", vault, "--offline", "--print-paths", cwd=tmp_path)
    assert again.stdout == b""


def test_json_and_print_paths_exclude_each_other(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    result = run_cli("process", vault, "--json", "--print-paths", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert b"cannot be used together" in result.stderr


# --- dry run ------------------------------------------------------------------------


def test_dry_run_changes_no_byte_and_shows_the_notes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    # A previous run left state (SQLite in WAL mode), a note and an archive behind.
    assert run_cli("process", vault, "--offline", cwd=tmp_path).returncode == EXIT_OK
    add_capture(vault, "20250921_100000_note_new.txt", "A new thought about #testing\n")
    add_capture(
        vault, "20250921_100001_link_dup.txt", "https://example.org/posts/vector-databases\n"
    )
    add_capture(vault, *EMPTY_CAPTURE)
    before = tree_digest(tmp_path)
    result = run_cli("process", vault, "--offline", "--dry-run", cwd=tmp_path)
    assert tree_digest(tmp_path) == before
    assert result.returncode == EXIT_ATTENTION
    out = result.stdout.decode("utf-8")
    assert out.splitlines()[-1] == "inbox: 1 new, 1 duplicate, 1 failed (dry run: nothing changed)"
    assert "created   Notes/A new thought about testing.md\n    ---\n    type: note\n" in out
    assert "    # A new thought about testing\n" in out
    assert "duplicate Inbox/20250921_100001_link_dup.txt -> Notes/Vector Databases" in out
    assert b"error: Inbox/20250919_070000_note_empty.txt" in result.stderr
    # And as JSON, each note that would be written.
    data = json.loads(
        run_cli("process", vault, "--offline", "--dry-run", "--json", cwd=tmp_path).stdout
    )
    assert tree_digest(tmp_path) == before
    created = [entry for entry in data["captures"] if entry["outcome"] == "created"]
    assert created[0]["preview"].startswith("---\ntype: note\n")
    assert created[0]["archived"] is None


def test_dry_run_on_a_fresh_vault_creates_no_state(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    before = tree_digest(tmp_path)
    result = run_cli("process", vault, "--offline", "--dry-run", "--print-paths", cwd=tmp_path)
    assert result.returncode == EXIT_OK
    assert result.stdout == b""  # nothing was written, so nothing to open
    assert tree_digest(tmp_path) == before
    assert not (vault / ".obsidian-inbox").exists()


# --- configuration errors -----------------------------------------------------------


def test_a_bad_configuration_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, config="settle_seconds = -1\n")
    result = run_cli("process", vault, "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    config = vault / ".obsidian-inbox.toml"
    assert lines(result.stderr) == [f"error: {config}: settle_seconds: must be at least 0, got -1"]
    assert result.stdout == b""
    assert not (vault / "Notes").exists()


def test_a_bad_option_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path)
    result = invoke("process", vault, "--concurrency", "0", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_USAGE
    assert "--concurrency" in result.stderr


def test_options_win_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path, config='settle_seconds = 0\nnotes_folder = "From file"\n')
    result = invoke(
        "process",
        vault,
        "--offline",
        "--notes-folder",
        "From flag",
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == EXIT_OK, result.stderr
    assert len(list((vault / "From flag").glob("*.md"))) == len(CAPTURES)
    assert not (vault / "From file").exists()


# --- the lock, SIGTERM and the time budget -------------------------------------------


def test_a_second_run_exits_3_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    with filelock.FileLock(vault / ".obsidian-inbox" / "lock"):
        result = run_cli("process", vault, "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_LOCKED
    assert result.stdout == b""
    assert lines(result.stderr) == [
        (
            f"error: {vault.resolve()}: another obsidian-inbox run is processing this vault; "
            "try again when it ends"
        )
    ]
    assert not (vault / "Notes").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_stops_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    captures = {
        f"2025091{i}_120000_note_t{i}.txt": f"Thought {i} about #testing\n" for i in range(6)
    }
    vault = make_vault(tmp_path, captures=captures)
    marker = tmp_path / "started"
    first = start_slow_run(marker, 0.4, "process", vault, "--concurrency", "1", cwd=tmp_path)
    try:
        wait_for(marker.exists, what="the first run to start enriching")
        # A second run meanwhile finds the vault locked.
        second = run_cli("process", vault, "--offline", cwd=tmp_path)
        assert second.returncode == EXIT_LOCKED
        assert b"another obsidian-inbox run is processing this vault" in second.stderr
        first.send_signal(signum)
        stdout, stderr = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == EXIT_INTERRUPTED, stderr
    out = lines(stdout)
    assert re.match(SUMMARY, out[-1])
    assert out[-1].endswith(", interrupted")
    assert len(out) == len(captures) + 1  # every capture is named
    assert b"the run was stopped first" in stderr
    assert_unlocked(vault)
    assert_consistent(vault, len(captures))
    left = len(list((vault / "Inbox").glob("*.txt")))
    assert 0 < left < len(captures)
    # The next run finishes the job.
    result = run_cli("process", vault, "--offline", cwd=tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    assert_consistent(vault, len(captures))
    assert len(notes_in(vault)) == len(captures)


def test_max_seconds_stops_after_the_current_capture(tmp_path: Path) -> None:
    captures = {
        f"2025091{i}_120000_note_t{i}.txt": f"Thought {i} about #testing\n" for i in range(5)
    }
    vault = make_vault(tmp_path, captures=captures)
    marker = tmp_path / "started"
    run = start_slow_run(
        marker,
        0.3,
        "process",
        vault,
        "--concurrency",
        "1",
        "--max-seconds",
        "0.5",
        "--json",
        cwd=tmp_path,
    )
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == EXIT_ATTENTION, stderr
    data = json.loads(stdout)
    assert data["out_of_time"] is True
    assert data["interrupted"] is False
    assert data["summary"].endswith(", out of time")
    outcomes = [entry["outcome"] for entry in data["captures"]]
    assert len(outcomes) == len(captures)
    assert 1 <= outcomes.count("created") < len(captures)
    skipped = [entry for entry in data["captures"] if entry["outcome"] == "skipped"]
    assert all("time budget (0.5 s) ran out" in entry["reason"] for entry in skipped)
    assert_unlocked(vault)
    assert_consistent(vault, len(captures))


# --- other commands -----------------------------------------------------------------


def test_config_prints_the_effective_configuration(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, config='settle_seconds = 0\nnotes_folder = "Inbox notes"\n')
    result = run_cli("config", "--concurrency", "2", cwd=vault)
    assert result.returncode == EXIT_OK, result.stderr
    out = result.stdout.decode("utf-8")
    assert 'notes_folder = "Inbox notes"  # file\n' in out
    assert "concurrency = 2  # flag\n" in out
    assert 'inbox = "Inbox"  # default\n' in out
    assert f"# file: {(vault / '.obsidian-inbox.toml').resolve()}\n" in out


def test_version_and_module_entry_point(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == EXIT_OK
    assert lines(result.stdout) == [f"obsidian-inbox {obsidian_inbox.__version__}"]


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / (
        "obsidian-inbox.exe" if os.name == "nt" else "obsidian-inbox"
    )
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    vault = make_vault(tmp_path)
    result = subprocess.run(
        [str(script), "process", "--offline"],
        cwd=vault,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert lines(result.stdout)[-1] == "inbox: 3 new"


def test_parse_shows_a_capture_as_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path)
    capture = vault / "Inbox" / "20250918_193000_note_cafe.txt"
    result = invoke("parse", capture, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK
    assert "# Café naïve – a thought on ünïcode file names" in result.stdout
    assert (
        invoke("parse", tmp_path / "missing.txt", cwd=tmp_path, monkeypatch=monkeypatch).exit_code
        == EXIT_ATTENTION
    )


@pytest.mark.parametrize("command", ["process", "watch"])
def test_a_missing_inbox_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    vault = make_vault(tmp_path, config='inbox = "00 Inbox"\n')
    result = invoke(command, vault, "--offline", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_USAGE
    assert "00 Inbox: inbox folder does not exist" in result.stderr
    assert result.stdout == ""


def test_config_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path)
    result = invoke("config", "--json", "--max-seconds", "30", cwd=vault, monkeypatch=monkeypatch)
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert data["vault"] == str(vault.resolve())
    assert data["settings"]["max_seconds"] == {"value": 30.0, "origin": "flag"}
    assert data["settings"]["settle_seconds"] == {"value": 0.0, "origin": "file"}
