"""The docs stay true: the CLI reference is the real ``--help``, every page is listed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from obsidian_inbox import _cli

from .helpers import cli_env

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"


def test_the_cli_reference_is_up_to_date() -> None:
    cogapp = pytest.importorskip("cogapp")
    status = cogapp.Cog().main(["cog", "--check", "--verbosity=0", str(CLI_DOC)])
    assert status == 0, "docs/cli.md is out of date: run `nox -s cog`"


@pytest.mark.parametrize("command", ["process", "watch", "config"])
def test_the_documented_help_is_the_real_help(command: str) -> None:
    """What a user's terminal shows (80 columns) is what the docs show."""
    result = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", command, "--help"],
        env=cli_env(COLUMNS="80"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )
    documented = CLI_DOC.read_text(encoding="utf-8")
    assert f"### obsidian-inbox {command}\n\n```text\n" in documented
    assert result.stdout.decode("utf-8") in documented


def test_every_command_is_documented() -> None:
    documented = CLI_DOC.read_text(encoding="utf-8")
    for name in _cli.cli.commands:
        assert f"### obsidian-inbox {name}\n" in documented, name
        assert f"obsidian-inbox {name} " in documented.split("## Output")[0], name


def test_the_exit_codes_are_documented() -> None:
    documented = CLI_DOC.read_text(encoding="utf-8")
    codes = {
        _cli.EXIT_OK,
        _cli.EXIT_ATTENTION,
        _cli.EXIT_USAGE,
        _cli.EXIT_LOCKED,
        _cli.EXIT_INTERRUPTED,
    }
    table = documented.split("## Exit codes")[1].split("##")[0]
    assert {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)} == codes
    for page in ("shell-commands.md",):
        text = (DOCS / page).read_text(encoding="utf-8")
        for code in codes:
            assert f"| {code} |" in text, (page, code)


def test_every_page_is_in_a_toctree() -> None:
    listed: set[str] = set()
    for source in DOCS.glob("*.md"):
        for block in re.findall(
            r"```\{toctree\}\n(.*?)```", source.read_text(encoding="utf-8"), re.DOTALL
        ):
            listed |= {line.strip() for line in block.splitlines() if line and ":" not in line}
    pages = {path.stem for path in [*DOCS.glob("*.md"), *DOCS.glob("*.ipynb")]} - {"index"}
    assert pages <= listed, pages - listed
    for name in (
        "captures",
        "notes",
        "configuration",
        "shell-commands",
        "cli",
        "api",
        "jupyter",
        "tutorial",
        "performance",
        "guarantees",
        "troubleshooting",
        "changelog",
    ):
        assert name in pages


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    assert commands[:2] == [
        "python3 -m pip install . && python3 -m obsidian_inbox demo",
        "python3 -m pip install nox && python3 -m nox",
    ]
