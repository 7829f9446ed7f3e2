"""The public API: complete, sorted, documented, versioned."""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys

import obsidian_inbox


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_names_exist() -> None:
    assert obsidian_inbox.__all__ == sorted(obsidian_inbox.__all__, key=_isort_style)
    assert len(set(obsidian_inbox.__all__)) == len(obsidian_inbox.__all__)
    for name in obsidian_inbox.__all__:
        assert hasattr(obsidian_inbox, name), name


def test_every_public_class_and_function_is_exported() -> None:
    public = {
        name
        for name, value in vars(obsidian_inbox).items()
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert public <= set(obsidian_inbox.__all__)


def test_every_public_name_has_a_docstring() -> None:
    for name in obsidian_inbox.__all__:
        value = getattr(obsidian_inbox, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
        if inspect.isclass(value):
            for member_name, member in vars(value).items():
                if member_name.startswith("_") or not callable(member):
                    continue
                assert inspect.getdoc(member), f"{name}.{member_name} has no docstring"


def test_errors_share_one_root() -> None:
    errors = [getattr(obsidian_inbox, n) for n in obsidian_inbox.__all__ if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, obsidian_inbox.ObsidianInboxError)
    assert issubclass(obsidian_inbox.InboxParseError, ValueError)


def test_version_comes_from_the_package_metadata() -> None:
    assert obsidian_inbox.__version__ == importlib.metadata.version("obsidian-inbox")


def test_python_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"obsidian-inbox {obsidian_inbox.__version__}"


def test_the_library_never_prints() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, obsidian_inbox; logging.getLogger('obsidian_inbox').warning('x')",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == ""
    assert result.stderr == ""
