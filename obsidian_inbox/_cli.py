"""The ``obsidian-inbox`` command line (the only module that prints).

Exit codes: **0** everything handled (an empty inbox and duplicates included) · **1** some
captures need attention (failed, partial, deferred or skipped; the others were processed) ·
**2** usage or configuration error (e.g. the vault does not exist) · **3** the vault is
locked by another run · **130** interrupted (nothing half-written).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ._errors import ObsidianInboxError, VaultError, VaultLockedError
from ._inbox import parse_inbox_file
from ._mentions import unlinked_mentions
from ._pipeline import process_inbox
from ._report import Report
from ._vault import find_vault

__all__ = ["EXIT_ATTENTION", "EXIT_INTERRUPTED", "EXIT_LOCKED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130


def _force_utf8() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]


def _consoles() -> tuple[Console, Console]:
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    return out, err


def _setup_logging(verbose: int, err: Console) -> None:
    if verbose:
        from rich.logging import RichHandler

        handler = RichHandler(console=err, show_time=False, show_path=False)
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO, handlers=[handler], force=True
        )
        logging.captureWarnings(True)
    else:
        # Library warnings and logging stay silent: stderr is for real errors only.
        warnings.simplefilter("ignore")
        logging.getLogger("obsidian_inbox").addHandler(logging.NullHandler())
        logging.getLogger().setLevel(logging.CRITICAL + 1)


def _fail(err: Console, message: str, code: int) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="obsidian-inbox", message="%(prog)s %(version)s")
def cli() -> None:
    """Turn a capture inbox into clean, linked Obsidian notes."""
    _force_utf8()


def _resolve_vault(vault: Path | None, err: Console) -> Path:
    if vault is not None:
        return vault
    found = find_vault()
    if found is None:
        _fail(
            err,
            f"no vault: {Path.cwd()} is not inside an Obsidian vault (no .obsidian/ folder above it); "
            "pass the vault's path",
            EXIT_USAGE,
        )
    return found


@contextlib.contextmanager
def _progress(err: Console) -> Iterator[Any]:
    progress = Progress(
        TextColumn("[bold]inbox"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = progress.add_task("inbox", total=None)
    with progress:

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _print_report(report: Report, out: Console, err: Console) -> None:
    for outcome in report.outcomes:
        shown = outcome.note if outcome.note and outcome.status != "failed" else outcome.capture
        if outcome.status == "duplicate":
            shown = f"{outcome.capture} -> {outcome.note}"
        out.print(f"{outcome.status:<9} {shown}", markup=False)
        if outcome.needs_attention:
            level = "error" if outcome.status == "failed" else "warning"
            err.print(f"{level}: {outcome.capture}: {outcome.reason}", markup=False)
    out.print(report.summary(), markup=False)


@cli.command()
@click.argument("vault", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--inbox",
    type=click.Path(path_type=Path, file_okay=False),
    help="The inbox folder (default: Inbox/ in the vault).",
)
@click.option("--offline", is_flag=True, help="Fetch nothing; make notes from the captures alone.")
@click.option("--dry-run", is_flag=True, help="Change nothing on disk; show what would happen.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv: more).")
def process(
    vault: Path | None,
    inbox: Path | None,
    offline: bool,
    dry_run: bool,
    as_json: bool,
    verbose: int,
) -> None:
    """Process the captures in VAULT's inbox (default: the vault around the working directory)."""
    out, err = _consoles()
    _setup_logging(verbose, err)
    vault = _resolve_vault(vault, err)
    stop = threading.Event()
    try:
        with _progress(err) as update:
            report = process_inbox(
                vault, inbox=inbox, offline=offline, dry_run=dry_run, on_progress=update, stop=stop
            )
    except VaultLockedError as exc:
        _fail(err, str(exc), EXIT_LOCKED)
    except VaultError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    except ObsidianInboxError as exc:
        _fail(err, str(exc), EXIT_ATTENTION)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, out, err)
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if report.ok else EXIT_ATTENTION)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the note's fields as JSON.")
def parse(file: Path, as_json: bool) -> None:
    """Show the note a capture FILE makes, without enriching or writing it."""
    _, err = _consoles()
    try:
        note = parse_inbox_file(file)
    except ObsidianInboxError as exc:
        _fail(err, str(exc), EXIT_ATTENTION)
    if as_json:
        import attrs

        data = attrs.asdict(note, recurse=True)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(note.to_markdown(), nl=False)


@cli.command()
@click.argument("vault", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def mentions(vault: Path | None, as_json: bool) -> None:
    """List unlinked mentions of notes across VAULT; change nothing.

    Each line names a note, the line and column of a mention of another note's title or
    alias, and the link that would replace it. Exit code 0, whatever was found.
    """
    out, err = _consoles()
    _setup_logging(0, err)
    vault = _resolve_vault(vault, err)
    found: list[dict[str, Any]] = []
    notes: set[str] = set()
    try:
        for path, mention in unlinked_mentions(vault):
            notes.add(path)
            if as_json:
                found.append(
                    {
                        "note": path,
                        "line": mention.line,
                        "column": mention.column,
                        "text": mention.text,
                        "target": mention.target,
                        "target_path": mention.path,
                        "link": mention.wikilink(),
                    }
                )
            else:
                found.append({})
                out.print(
                    f"{path}:{mention.line}:{mention.column}: {mention.text} -> {mention.wikilink()}",
                    markup=False,
                )
    except VaultError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    if as_json:
        click.echo(
            json.dumps({"mentions": found, "notes": len(notes)}, indent=2, ensure_ascii=False)
        )
    else:
        out.print(f"{len(found)} unlinked mentions in {len(notes)} notes", markup=False)
    sys.exit(EXIT_OK)


def main(argv: list[str] | None = None) -> None:
    """Run the command line."""
    cli.main(args=argv, prog_name="obsidian-inbox")
