"""Helpers for the command-line, watch and docs tests: example vaults, tree digests, runs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

#: Captures of every common kind, all processed successfully offline.
CAPTURES: Mapping[str, str] = {
    "20250918_114949_rss_How_to_Become_a_Machine_Learning_Engineer.txt": (
        "RSS Feed: Towards Data Science\n"
        "Source: https://towardsdatascience.com/feed\n"
        "Link: https://towardsdatascience.com/dont-follow-generic-ml-engineer-roadmaps/\n"
        "\n"
        "How to Become a Machine Learning Engineer (Step-by-Step)\n"
        "\n"
        "Your one-stop guide. The post How to Become a Machine Learning Engineer "
        "appeared first on Towards Data Science.\n"
    ),
    "20250918_120312_link_vector_databases.txt": (
        "Link: https://example.org/posts/vector-databases?utm_source=newsletter\n"
        "\n"
        "Vector Databases, Explained\n"
        "\n"
        "Worth reading later. #reading\n"
    ),
    "20250918_193000_note_cafe.txt": (
        "Café naïve – a thought on ünïcode file names.\n\nMore later. #unicode\n"
    ),
}

#: A capture that fails (it holds no text).
EMPTY_CAPTURE = ("20250919_070000_note_empty.txt", "")

#: A configuration that does not wait for captures to settle (tests write them just before).
FAST_CONFIG = "settle_seconds = 0\n"

#: The summary line (the last line of the human output).
SUMMARY = r"^inbox: (nothing to do|\d+ \w+(, \d+ \w+)*)(, interrupted|, out of time)?( \(dry run: nothing changed\))?$"


def add_capture(vault: Path, name: str, text: str, *, age: float = 60.0) -> Path:
    """Write a capture into the vault's inbox, ``age`` seconds old."""
    path = vault / "Inbox" / name
    path.write_bytes(text.encode("utf-8"))
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def make_vault(
    root: Path,
    *,
    name: str = "Vault",
    captures: Mapping[str, str] = CAPTURES,
    config: str | None = FAST_CONFIG,
) -> Path:
    """Make a vault with ``.obsidian/``, an inbox holding ``captures``, and a configuration file."""
    vault = root / name
    (vault / ".obsidian").mkdir(parents=True)
    (vault / "Inbox").mkdir()
    if config is not None:
        (vault / ".obsidian-inbox.toml").write_text(config, encoding="utf-8")
    for file_name, text in captures.items():
        add_capture(vault, file_name, text)
    return vault


def tree_digest(root: Path) -> dict[str, tuple[object, ...]]:
    """Return every file's and folder's size, mode, mtime and content hash under ``root``."""
    result: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        relative = path.relative_to(root).as_posix()
        if path.is_dir() and not path.is_symlink():
            result[relative] = ("dir", stat.st_mode, stat.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result[relative] = ("file", stat.st_size, stat.st_mode, stat.st_mtime_ns, digest)
    return result


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a run from the Shell Commands plugin: no colour forced, no terminal."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "NO_COLOR",
            "FORCE_COLOR",
            "CLICOLOR_FORCE",
            "TTY_COMPATIBLE",
            "TTY_INTERACTIVE",
            "COLUMNS",
            "PYTHONWARNINGS",
        }
    }
    env.update(extra)
    return env


def run_cli(
    *args: str | os.PathLike[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m obsidian_inbox ARGS`` without a terminal, as the plugin does."""
    return subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", *map(str, args)],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


#: Runs the command line with an enricher that touches a marker file, then sleeps: the
#: run is mid-flight while the marker exists. Arguments: MARKER SECONDS CLI-ARGS...
SLOW_RUN = """
import sys, time
from pathlib import Path

import obsidian_inbox._cli as cli
from obsidian_inbox import Enrichment

marker, seconds = Path(sys.argv[1]), float(sys.argv[2])
real = cli.process_inbox


def slow(note, *, vocabulary=()):
    marker.touch()
    time.sleep(seconds)
    return Enrichment(note)


def with_slow_enricher(*args, **kwargs):
    kwargs["enricher"] = slow
    return real(*args, **kwargs)


cli.process_inbox = with_slow_enricher
cli.main(sys.argv[3:])
"""


def start_slow_run(
    marker: Path, seconds: float, *args: str | os.PathLike[str], cwd: Path
) -> subprocess.Popen[bytes]:
    """Start the command line with a slow enricher (see :data:`SLOW_RUN`)."""
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(marker), str(seconds), *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: object, *, timeout: float = 20.0, what: str = "condition") -> None:
    """Wait until ``condition()`` is true, or fail after ``timeout`` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
