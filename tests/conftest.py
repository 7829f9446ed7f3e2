"""Shared fixtures: temporary vaults and inboxes, a local web server, isolated config dirs."""

from __future__ import annotations

import os

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


# --- vaults and inboxes ---------------------------------------------------------------

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from obsidian_inbox import Settings

DATA = Path(__file__).parent / "data"
#: Settings for tests: no waiting for captures to settle.
TEST_SETTINGS = Settings(settle_seconds=0)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An empty vault (with ``.obsidian/``) and an empty ``Inbox/``."""
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "app.json").write_text("{}", encoding="utf-8")
    (root / "Inbox").mkdir()
    return root


@pytest.fixture
def capture(vault: Path) -> Callable[..., Path]:
    """Write a capture into the vault's inbox: ``capture(name, text_or_bytes)``."""

    def write(name: str, content: str | bytes) -> Path:
        path = vault / "Inbox" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


def tree_digest(root: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Return {relative path: sha256} of every file under ``root`` (to prove nothing changed)."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(exclude):
            result[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result
