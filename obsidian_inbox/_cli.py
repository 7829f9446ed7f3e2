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

from ._enrich import WebEnricher
from ._errors import ObsidianInboxError, VaultError, VaultLockedError
from ._fetch import Fetcher
from ._inbox import parse_inbox_file
from ._pipeline import process_inbox
from ._report import Report
from ._summary import LLMSummarizer
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
@click.option(
    "--offline", is_flag=True, help="Fetch nothing; use the HTTP cache and the captures alone."
)
@click.option("--dry-run", is_flag=True, help="Change nothing on disk; show what would happen.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the HTTP cache.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="How many captures are fetched at once.",
)
@click.option(
    "--llm-url",
    envvar="OBSIDIAN_INBOX_LLM_URL",
    metavar="URL",
    help="Summarise with a local LLM at this OpenAI-compatible API, e.g. http://localhost:11434/v1.",
)
@click.option(
    "--llm-model",
    envvar="OBSIDIAN_INBOX_LLM_MODEL",
    metavar="NAME",
    help="The model --llm-url serves, e.g. llama3.2.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv: more).")
def process(
    vault: Path | None,
    inbox: Path | None,
    offline: bool,
    dry_run: bool,
    no_cache: bool,
    concurrency: int,
    llm_url: str | None,
    llm_model: str | None,
    as_json: bool,
    verbose: int,
) -> None:
    """Process the captures in VAULT's inbox (default: the vault around the working directory)."""
    if bool(llm_url) != bool(llm_model):
        raise click.UsageError("--llm-url and --llm-model go together")
    out, err = _consoles()
    _setup_logging(verbose, err)
    vault = _resolve_vault(vault, err)
    stop = threading.Event()
    try:
        with _progress(err) as update, contextlib.ExitStack() as stack:
            enricher = None
            if no_cache or llm_url:
                fetcher = stack.enter_context(
                    Fetcher(offline=offline, cache=not (no_cache or dry_run))
                )
                summarizer = (
                    stack.enter_context(LLMSummarizer(llm_url, llm_model))
                    if llm_url and llm_model
                    else None
                )
                enricher = WebEnricher(fetcher=fetcher, summarizer=summarizer)
            report = process_inbox(
                vault,
                inbox=inbox,
                offline=offline,
                dry_run=dry_run,
                enricher=enricher,
                concurrency=concurrency,
                on_progress=update,
                stop=stop,
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


def main(argv: list[str] | None = None) -> None:
    """Run the command line."""
    cli.main(args=argv, prog_name="obsidian-inbox")
