"""Shared fixtures: temporary vaults and inboxes, a local web server, isolated config dirs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# "default" runs in the normal suite; "fuzz" is the long campaign (nox -s fuzz);
# HYPOTHESIS_PROFILE picks one, as attrs and packaging do.
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# --- test data from ../shared (optional tiers) ----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("OBSIDIAN_INBOX_TOOLS", ROOT.parent / "shared" / "tools"))
CORPUS = Path(os.environ.get("OBSIDIAN_INBOX_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world corpus (``../shared/corpus``, or ``$OBSIDIAN_INBOX_CORPUS``)."""
    if not (CORPUS / "vaults").is_dir():
        pytest.skip(f"corpus tier: no corpus at {CORPUS} (set OBSIDIAN_INBOX_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def make_vault(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make (once per arguments) a synthetic vault with ``../shared/tools/make_vault.py``.

    Treat the vault as read-only; copy it (:func:`copy_vault`) to change it.
    """
    script = TOOLS / "make_vault.py"
    if not script.is_file():
        pytest.skip(f"no {script} (set OBSIDIAN_INBOX_TOOLS)")
    made: dict[tuple[int, int], Path] = {}

    def make(notes: int = 400, seed: int = 1) -> Path:
        if (notes, seed) not in made:
            out = tmp_path_factory.mktemp(f"vault-{notes}-{seed}") / "vault"
            subprocess.run(
                [sys.executable, script, "--notes", str(notes), "--seed", str(seed), out],
                check=True,
                capture_output=True,
            )
            made[notes, seed] = out
        return made[notes, seed]

    return make


def copy_vault(source: Path, target: Path) -> Path:
    """Copy a vault to ``target``: tests never change shared data."""
    shutil.copytree(source, target, symlinks=True)
    return target


def age(path: Path, seconds: float = 60.0) -> None:
    """Set the modification time of a file, or of every file in a folder, ``seconds`` ago.

    The index re-reads a note changed within the last seconds (its time may not show a
    second change); tests that count reads use files that are older.
    """
    when = time.time() - seconds
    for file in [path] if path.is_file() else path.rglob("*"):
        if file.is_file():
            os.utime(file, (when, when))
