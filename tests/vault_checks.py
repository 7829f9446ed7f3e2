"""Consistency checks shared by the crash, write-failure and concurrency campaigns.

After any run, killed or not, a vault must satisfy :func:`check_vault`: no capture lost,
changed or duplicated, no note torn or doubled, nothing half-written where Obsidian shows it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from obsidian_inbox import parse_note
from obsidian_inbox._errors import InboxParseError
from obsidian_inbox._inbox import parse_inbox_file
from obsidian_inbox._index import TEMP_SUFFIX
from obsidian_inbox._state import State

from .conftest import tools_or_skip

#: Folders of the vault Obsidian does not show: its own settings, our state.
HIDDEN = (".obsidian/", ".obsidian-inbox/")


@attrs.frozen
class VaultCheck:
    """What :func:`check_vault` found: captures waiting and filed, notes by capture id."""

    waiting: frozenset[str]
    filed: frozenset[str]
    notes: Mapping[str, str]  # capture id -> vault-relative note path
    temp_files: tuple[str, ...]


def _identity(path: Path) -> tuple[str, str]:
    """(capture id, url) of a capture file; a capture that does not parse has neither."""
    try:
        note = parse_inbox_file(path)
    except InboxParseError:
        return "", ""
    return note.capture_id, note.url


def check_vault(
    vault: Path,
    captures: Mapping[str, bytes],
    *,
    inbox: str = "Inbox",
    archive: str = "processed",
    final: bool = False,
    users: Iterable[str] = (),
) -> VaultCheck:
    """Check the invariants that hold after every run, however it ended.

    - each capture is either waiting in the inbox or filed in the archive, byte-identical;
    - every note parses completely, and no capture has two notes;
    - every filed capture has its note (by capture id), or is a duplicate of a note
      (same URL);
    - outside the hidden folders, nothing but ``.md``/``.txt`` files and temporary files
      named with :data:`TEMP_SUFFIX` (which the next run removes);
    - ``final``: no temporary file at all, and every note ours in the state file (the
      bytes hash to what was recorded), but for ``users``: notes the user changed.
    """
    inbox_dir, archive_dir = vault / inbox, vault / inbox / archive
    waiting = {p.name for p in inbox_dir.iterdir() if p.is_file() and p.suffix == ".txt"}
    filed = (
        {p.name for p in archive_dir.iterdir() if p.is_file()} if archive_dir.is_dir() else set()
    )
    assert waiting | filed == set(captures), (
        f"captures lost: {sorted(set(captures) - waiting - filed)[:5]}, "
        f"appeared: {sorted((waiting | filed) - set(captures))[:5]}"
    )
    assert not waiting & filed, f"both waiting and filed: {sorted(waiting & filed)[:5]}"
    for name in waiting:
        assert (inbox_dir / name).read_bytes() == captures[name], f"{name} changed in the inbox"
    for name in filed:
        assert (archive_dir / name).read_bytes() == captures[name], f"{name} changed when filed"

    by_capture: dict[str, str] = {}
    original: dict[str, str] = {}  # capture id -> the note's original_file
    urls: set[str] = set()
    temp_files: list[str] = []
    for path in sorted(vault.rglob("*")):
        relative = path.relative_to(vault).as_posix()
        if relative.startswith(HIDDEN) or path.is_dir():
            continue
        if TEMP_SUFFIX in path.name:
            assert path.name.startswith("."), f"a temporary file Obsidian shows: {relative}"
            temp_files.append(relative)
            continue
        assert path.suffix in {".md", ".txt"}, f"a stray file in the vault: {relative}"
        if path.suffix != ".md":
            continue
        note = parse_note(path.read_bytes().decode("utf-8"), path=path)  # never torn
        if note.capture_id:
            assert note.capture_id not in by_capture, (
                f"two notes for one capture: {by_capture[note.capture_id]} and {relative}"
            )
            by_capture[note.capture_id] = relative
            original[note.capture_id] = note.original_file
        if note.url:
            urls.add(note.url)

    identities = {
        name: _identity((archive_dir if name in filed else inbox_dir) / name) for name in captures
    }
    names = {capture_id: name for name, (capture_id, _) in identities.items()}
    for capture_id, relative in by_capture.items():
        assert capture_id in names, f"{relative} belongs to no capture"
        assert original[capture_id] == names[capture_id], f"{relative}: wrong original_file"
    for name in filed:
        capture_id, url = identities[name]
        assert capture_id in by_capture or (url and url in urls), f"{name} was filed without a note"

    if final:
        assert not temp_files, f"temporary files left behind: {temp_files}"
        state_file = vault / ".obsidian-inbox" / "state.sqlite3"
        with State(state_file, read_only=True) as state:
            for relative in set(by_capture.values()) - set(users):
                record = state.write_record(relative)
                digest = hashlib.sha256((vault / relative).read_bytes()).hexdigest()
                assert record is not None, f"{relative} is not on record as ours"
                assert record.matches(digest), f"{relative} changed since it was recorded"
    return VaultCheck(frozenset(waiting), frozenset(filed), by_capture, tuple(temp_files))


@attrs.frozen
class Site:
    """A synthetic web site served on 127.0.0.1, and the inbox whose URLs point at it."""

    url: str
    folder: Path
    captures: Mapping[str, bytes]


def serve_site(
    tmp_path: Path, vault: Path, *, items: int, seed: int, delay_ms: float, jitter_ms: float
) -> Iterator[Site]:
    """Serve a generated site slowly (``delay_ms`` + 0..``jitter_ms`` per request) and fill
    the vault's inbox with ``items`` captures pointing at it; yield it, then stop the server."""
    tools = tools_or_skip()
    from serve_site import make_server  # type: ignore[import-not-found]

    site = tmp_path / "site"
    site.mkdir()
    server = make_server(str(site), port=0, delay_ms=delay_ms, jitter_ms=jitter_ms)
    server.handle_error = lambda request, address: None  # killed clients reset connections
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        inbox = vault / "Inbox"
        inbox.rmdir()  # make_inbox.py writes a fresh one
        subprocess.run(
            [
                sys.executable,
                tools / "make_inbox.py",
                "--items",
                str(items),
                "--seed",
                str(seed),
                "--large-mb",
                "1",
                "--site",
                site,
                "--base-url",
                server.url.rstrip("/"),
                inbox,
            ],
            check=True,
            capture_output=True,
        )
        captures = {p.name: p.read_bytes() for p in inbox.iterdir() if p.suffix == ".txt"}
        yield Site(server.url, site, captures)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cli_json(vault: Path, env: Mapping[str, str], *options: str) -> list[dict[str, Any]]:
    """Run ``process --json`` to the end; return its outcomes."""
    result = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", "process", str(vault), "--settle-seconds", "0",
         "--json", *options],
        capture_output=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr.decode()
    captures: list[dict[str, Any]] = json.loads(result.stdout)["captures"]
    return captures


def json_run(vault: Path, env: Mapping[str, str], *options: str) -> dict[str, list[str]]:
    """Run ``process --json`` to the end; return the captures' names by outcome."""
    outcomes: dict[str, list[str]] = {}
    for item in cli_json(vault, env, *options):
        outcomes.setdefault(item["outcome"], []).append(Path(item["capture"]).name)
    return outcomes
