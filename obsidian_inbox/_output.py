"""What the command line prints, and how (used by ``_cli.py`` only).

The command line is often run by the Obsidian Shell Commands plugin: no terminal, stdout
and stderr shown in separate places, the last stdout line in the status bar, ANSI codes
turned into HTML. So: plain text unless stdout is a terminal and ``NO_COLOR`` is unset,
UTF-8 whatever the platform's default, results on stdout ending with the one-line
summary, and only real problems on stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import attrs
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ._config import ResolvedSettings, Settings, toml_key
from ._report import Outcome, Report

__all__ = [
    "config_json",
    "config_toml",
    "force_utf8",
    "make_consoles",
    "no_color",
    "print_paths",
    "print_report",
    "progress",
    "report_json",
]

_STYLES = {
    "created": "green",
    "updated": "green",
    "duplicate": "dim",
    "partial": "yellow",
    "deferred": "yellow",
    "skipped": "yellow",
    "failed": "red",
}


def force_utf8() -> None:
    """Make stdout and stderr write UTF-8 whatever the locale or OS (Windows: cp1252)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]


def no_color() -> bool:
    """Tell whether the user asked for no colour (``NO_COLOR`` set and not empty, no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _console(*, stderr: bool) -> Console:
    tty = _is_tty(sys.stderr if stderr else sys.stdout)
    plain = not tty or no_color()
    return Console(
        stderr=stderr,
        # Decide from the stream alone: FORCE_COLOR or TTY_COMPATIBLE in Obsidian's
        # environment must not put escape codes into the plugin's output.
        force_terminal=tty,
        force_interactive=tty and not plain,
        color_system=None if plain else "auto",
        no_color=plain,
        soft_wrap=True,
        highlight=False,
        markup=False,
        emoji=False,
    )


def make_consoles() -> tuple[Console, Console]:
    """Return the consoles for stdout (results) and stderr (problems)."""
    return _console(stderr=False), _console(stderr=True)


@contextlib.contextmanager
def progress(err: Console) -> Iterator[Callable[[int, int], None]]:
    """Show a progress bar on stderr when it is an interactive terminal; yield its update function."""
    bar = Progress(
        TextColumn("[bold]inbox"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_interactive,
    )
    task = bar.add_task("inbox", total=None)
    with bar:

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _line(outcome: Outcome) -> Text:
    shown = outcome.note if outcome.note and outcome.status != "failed" else outcome.capture
    if outcome.status == "duplicate":
        shown = f"{outcome.capture} -> {outcome.note}"
    line = Text(f"{outcome.status:<9}", style=_STYLES.get(outcome.status, ""))
    line.append(f" {shown}")
    return line


def _indented(text: str) -> str:
    return "".join(f"    {line}" if line.strip() else line for line in text.splitlines(True))


def print_report(report: Report, out: Console, err: Console, *, details: bool = True) -> None:
    """Print one line per capture and the summary last on stdout; problems on stderr.

    Args:
        report: The run's report.
        out: The stdout console.
        err: The stderr console.
        details: In a dry run, show each note that would be written (or its diff).
    """
    for outcome in report.outcomes:
        out.print(_line(outcome))
        if details and report.dry_run and (outcome.diff or outcome.preview):
            out.print(_indented(outcome.diff or outcome.preview or ""), end="")
    print_problems(report, err)
    out.print(report.summary())
    out.file.flush()


def print_problems(report: Report, err: Console) -> None:
    """Print a line on stderr for each capture that needs attention.

    Captures skipped for the same reason (the run was stopped, or ran out of time) share
    one line, so the plugin's error balloon stays short.
    """
    skipped: dict[str, list[str]] = {}
    for outcome in report.with_status("skipped"):
        skipped.setdefault(outcome.reason, []).append(outcome.capture)
    for outcome in report.outcomes:
        if not outcome.needs_attention:
            continue
        if outcome.status == "skipped":
            captures = skipped.pop(outcome.reason, None)
            if captures is None:
                continue  # already printed with the first of its group
            if len(captures) > 1:
                shown = ", ".join(captures[:3]) + (", …" if len(captures) > 3 else "")
                err.print(Text(f"warning: {len(captures)} captures ({shown}): {outcome.reason}"))
                continue
        level = "error" if outcome.status == "failed" else "warning"
        err.print(Text(f"{level}: {outcome.capture}: {outcome.reason}"))


def print_paths(report: Report, out: Console) -> None:
    """Print the absolute path of each note written (created, updated or partial), one per line."""
    if report.dry_run:
        return
    for outcome in report.outcomes:
        if outcome.note and outcome.status in ("created", "updated", "partial"):
            out.print(Text(str(report.vault / outcome.note)))
    out.file.flush()


def report_json(report: Report, *, indent: int | None = 2) -> str:
    """Return the report as one JSON document."""
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False)


# --- the effective configuration ------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    # JSON's escapes are TOML's, but for DEL, which TOML forbids raw in a string.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_toml(resolved: ResolvedSettings, vault: str) -> str:
    """Return the effective configuration as TOML, each value commented with its origin.

    The text is valid TOML and reads back as the same settings.
    """
    settings, origins = resolved.settings, resolved.origins
    lines = [
        f"# obsidian-inbox configuration of {vault}",
        f"# file: {resolved.file}" if resolved.file else "# file: none (defaults)",
        "# each value's origin: default, file or flag (the command line)",
    ]
    tables: list[str] = []
    for field in attrs.fields(Settings):
        name, value, origin = field.name, getattr(settings, field.name), origins[field.name]
        key = toml_key(name)
        if name == "category_rules":
            if not value:
                lines.append(f"{key} = []  # {origin}")
            for rule in value:
                tables += ["", f"[[{key}]]  # {origin}"]
                tables += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in rule.items()]
        elif name == "tag_rules":
            tables += ["", f"[{key}]  # {origin}"]
            for rule in value:
                fields = {k: v for k, v in rule.items() if k != "tag" and v}
                tables.append(f"{_toml_key(rule['tag'])} = {_toml_value(fields)}")
        elif isinstance(value, Mapping):
            tables += ["", f"[{key}]  # {origin}"]
            tables += [f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {_toml_value(value)}  # {origin}")
    return "\n".join(lines + tables) + "\n"


def config_json(resolved: ResolvedSettings, vault: str) -> str:
    """Return the effective configuration as one JSON document: value and origin per key."""
    settings = {
        toml_key(field.name): {
            "value": getattr(resolved.settings, field.name),
            "origin": resolved.origins[field.name],
        }
        for field in attrs.fields(Settings)
    }
    data = {
        "vault": vault,
        "file": str(resolved.file) if resolved.file else None,
        "settings": settings,
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
