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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from ._config import ResolvedSettings, resolve
from ._enrich import WebEnricher
from ._errors import ConfigError, ObsidianInboxError, VaultError, VaultLockedError
from ._inbox import parse_inbox_file
from ._mentions import unlinked_mentions
from ._output import (
    config_json,
    config_toml,
    force_utf8,
    make_consoles,
    print_paths,
    print_problems,
    print_report,
    progress,
    report_json,
)
from ._pipeline import process_inbox
from ._report import Report
from ._signals import stop_on_signals
from ._vault import find_vault

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_INTERRUPTED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_USAGE",
    "cli",
    "main",
]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _diagnostics(verbose: int, err: Console) -> Iterator[None]:
    """Show logging and warnings on stderr with ``-v``; silence them otherwise.

    Without ``-v``, stderr is for real errors only: library warnings are ignored and a
    do-nothing handler keeps Python's "last resort" handler from printing other
    libraries' log records. Everything is restored afterwards, for callers of :func:`main`.
    """
    root = logging.getLogger()
    level = root.level
    handler: logging.Handler
    if verbose:
        from rich.logging import RichHandler

        handler = RichHandler(console=err, show_time=False, show_path=False)
        root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    else:
        handler = logging.NullHandler()
    root.addHandler(handler)
    with warnings.catch_warnings():
        if verbose:
            warnings.simplefilter("default")
            logging.captureWarnings(True)
        else:
            warnings.simplefilter("ignore")
        try:
            yield
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(level)


def _fail(err: Console, message: str, code: int) -> NoReturn:
    err.print(f"error: {message}")
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="obsidian-inbox", message="%(prog)s %(version)s")
def cli() -> None:
    """Turn a capture inbox into clean, linked Obsidian notes.

    Run with no VAULT inside a vault (as the Obsidian Shell Commands plugin does) and the
    vault is found from the working directory. Settings come from the vault's
    .obsidian-inbox.toml; options given here win over it.

    Exit codes: 0 all done, 1 some captures need attention, 2 usage or configuration
    error, 3 the vault is locked by another run, 130 interrupted.
    """
    force_utf8()


def _vault_argument(parts: tuple[str, ...], err: Console) -> Path:
    """Return the vault named by VAULT, or the one around the working directory.

    A path with spaces that reaches us unquoted arrives as several arguments: they are
    joined again when the joined path exists.
    """
    if not parts:
        found = find_vault()
        if found is None:
            _fail(
                err,
                f"no vault: {Path.cwd()} is not inside an Obsidian vault (no .obsidian/ "
                "folder above it); pass the vault's path",
                EXIT_USAGE,
            )
        return found
    if len(parts) == 1:
        return Path(parts[0])
    joined = Path(" ".join(parts))
    if joined.is_dir():
        return joined
    _fail(
        err,
        f"expected one VAULT, got {len(parts)} arguments ({' '.join(parts)}); "
        "quote a path that has spaces",
        EXIT_USAGE,
    )


def _settings_options(function: F) -> F:
    """Add the options that override the configuration file."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Read this configuration file instead of VAULT/.obsidian-inbox.toml.",
        ),
        click.option(
            "--inbox",
            type=str,
            metavar="DIR",
            help="The inbox folder, relative to the vault (default: Inbox).",
        ),
        click.option(
            "--notes-folder",
            type=str,
            metavar="DIR",
            help="The vault folder new notes go to (default: Notes).",
        ),
        click.option(
            "--settle-seconds",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="Wait until a capture has not changed for this long (default: 1).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            metavar="N",
            help="Enrich this many captures at once (default: 8).",
        ),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="Wait this long for another run to finish before exiting with 3 (default: 0).",
        ),
        click.option(
            "--llm-url",
            envvar="OBSIDIAN_INBOX_LLM_URL",
            metavar="URL",
            help="Summarise with a local LLM at this OpenAI-compatible API, e.g. "
            'http://localhost:11434/v1 (sets summary = "llm"; needs --llm-model).',
        ),
        click.option(
            "--llm-model",
            envvar="OBSIDIAN_INBOX_LLM_MODEL",
            metavar="NAME",
            help="The model --llm-url serves, e.g. llama3.2.",
        ),
        click.option(
            "--max-seconds",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="Time budget: stop after the current capture once it is spent; the rest "
            "stay in the inbox (exit 1). Default: 0, no limit.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _llm_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """``--llm-url`` and ``--llm-model`` go together and switch the summary to the LLM."""
    if bool(overrides.get("llm_url")) != bool(overrides.get("llm_model")):
        raise click.UsageError("--llm-url and --llm-model go together")
    if overrides.get("llm_url"):
        overrides["summary"] = "llm"
    return overrides


def _resolve_settings(
    vault: Path, config_file: Path | None, overrides: dict[str, Any], err: Console
) -> ResolvedSettings:
    if not vault.is_dir():
        what = "does not exist" if not vault.exists() else "is not a folder"
        _fail(err, f"{vault}: vault folder {what}", EXIT_USAGE)
    try:
        return resolve(vault, file=config_file, overrides=overrides)
    except ConfigError as exc:
        _fail(err, str(exc), EXIT_USAGE)


# Plain strings, not click.Path: the parts of a split path are joined as they came.
_VAULT = click.argument("vault", nargs=-1, type=str, metavar="[VAULT]")
_OFFLINE = click.option(
    "--offline", is_flag=True, help="Fetch nothing; use the HTTP cache and the captures alone."
)
_NO_CACHE = click.option("--no-cache", is_flag=True, help="Neither read nor write the HTTP cache.")
_VERBOSE = click.option(
    "-v", "--verbose", count=True, help="Log what happens on stderr (-vv: more)."
)


@cli.command()
@_VAULT
@_settings_options
@_OFFLINE
@_NO_CACHE
@click.option("--dry-run", is_flag=True, help="Change nothing on disk; show what would happen.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option(
    "--print-paths",
    "print_paths_only",
    is_flag=True,
    help="Print only the absolute paths of the notes written, one per line (for the "
    "Shell Commands plugin's 'Open files' output).",
)
@_VERBOSE
def process(
    vault: tuple[str, ...],
    config_file: Path | None,
    offline: bool,
    no_cache: bool,
    dry_run: bool,
    as_json: bool,
    print_paths_only: bool,
    verbose: int,
    **overrides: Any,
) -> None:
    """Process the captures in VAULT's inbox (default: the vault around the working directory).

    Prints one line per capture and, last, a one-line summary; problems go to stderr.
    """
    out, err = make_consoles()
    if as_json and print_paths_only:
        raise click.UsageError("--json and --print-paths cannot be used together")
    path = _vault_argument(vault, err)
    resolved = _resolve_settings(path, config_file, _llm_overrides(overrides), err)
    stop = threading.Event()
    try:
        with (
            _diagnostics(verbose, err),
            stop_on_signals(stop),
            progress(err) as update,
            WebEnricher.from_settings(
                resolved.settings, offline=offline, cache=not (no_cache or dry_run)
            ) as enricher,
        ):
            report = process_inbox(
                path,
                settings=resolved.settings,
                offline=offline,
                dry_run=dry_run,
                enricher=enricher,
                on_progress=update,
                stop=stop,
            )
    except VaultLockedError as exc:
        _fail(err, str(exc), EXIT_LOCKED)
    except (VaultError, ConfigError) as exc:
        _fail(err, str(exc), EXIT_USAGE)
    except ObsidianInboxError as exc:
        _fail(err, str(exc), EXIT_ATTENTION)
    if as_json:
        click.echo(report_json(report))
    elif print_paths_only:
        print_paths(report, out)
        print_problems(report, err)
    else:
        print_report(report, out, err)
    sys.exit(_exit_code(report))


def _exit_code(report: Report) -> int:
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_ATTENTION


@cli.command()
@_VAULT
@_settings_options
@_OFFLINE
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document per batch (JSON Lines)."
)
@_VERBOSE
def watch(
    vault: tuple[str, ...],
    config_file: Path | None,
    offline: bool,
    as_json: bool,
    verbose: int,
    **overrides: Any,
) -> None:
    """Process VAULT's inbox, then each capture as it lands, until Ctrl-C or SIGTERM.

    A capture is processed once it has stopped changing (--settle-seconds). The vault's
    lock is held per batch only, so 'obsidian-inbox process' can run in between. Exits
    with 0 when stopped.
    """
    from ._watch import watch_inbox

    out, err = make_consoles()
    path = _vault_argument(vault, err)
    resolved = _resolve_settings(path, config_file, _llm_overrides(overrides), err)
    stop = threading.Event()

    def on_report(report: Report) -> None:
        if as_json:
            click.echo(report_json(report, indent=None))
            sys.stdout.flush()
        else:
            print_report(report, out, err)

    def on_watching(inbox: Path) -> None:
        if not as_json:
            out.print(f"watching {inbox} for captures (Ctrl-C to stop)")
            out.file.flush()

    def on_locked(exc: VaultLockedError) -> None:
        if not as_json:
            out.print(f"waiting: {exc.reason}")
            out.file.flush()

    try:
        with _diagnostics(verbose, err), stop_on_signals(stop):
            watch_inbox(
                path,
                settings=resolved.settings,
                offline=offline,
                stop=stop,
                on_report=on_report,
                on_watching=on_watching,
                on_locked=on_locked,
            )
    except (VaultError, ConfigError) as exc:
        _fail(err, str(exc), EXIT_USAGE)
    if not as_json:
        out.print("watch: stopped")
    sys.exit(EXIT_OK)


@cli.command()
@_VAULT
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of TOML.")
def config(
    vault: tuple[str, ...], config_file: Path | None, as_json: bool, **overrides: Any
) -> None:
    """Print VAULT's effective configuration, and where each value comes from.

    The output is TOML (each value commented with its origin: default, file or flag),
    ready to be copied into VAULT/.obsidian-inbox.toml.
    """
    _, err = make_consoles()
    path = _vault_argument(vault, err)
    resolved = _resolve_settings(path, config_file, _llm_overrides(overrides), err)
    text = (config_json if as_json else config_toml)(resolved, str(path.resolve()))
    click.echo(text, nl=not text.endswith("\n"))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the note's fields as JSON.")
def parse(file: Path, as_json: bool) -> None:
    """Show the note a capture FILE makes, without enriching or writing it."""
    _, err = make_consoles()
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
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False))
def demo(folder: Path | None) -> None:
    """Make an example vault in FOLDER (default: ./obsidian-inbox-demo) and process its inbox.

    The captures name real sites; a bundled copy of them is served on 127.0.0.1, so no
    internet is needed. Running it again replaces the earlier example vault.
    """
    from ._demo import DEFAULT_DEMO_FOLDER, run_demo

    out, err = make_consoles()
    target = (folder or Path(DEFAULT_DEMO_FOLDER)).resolve()
    try:
        with progress(err) as update:
            report = run_demo(target, on_progress=update)
    except FileExistsError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    print_report(report, out, err, details=False)
    out.print(
        f"\nThe example vault is {target}\n"
        f"  notes:    {target / 'Notes'}\n"
        f"  captures: {target / 'Inbox' / 'processed'} (filed away)\n"
        "Open the folder in Obsidian with 'Open folder as vault' to browse the notes.",
        markup=False,
        highlight=False,
    )
    sys.exit(EXIT_OK)


@cli.command()
@_VAULT
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@_VERBOSE
def mentions(vault: tuple[str, ...], as_json: bool, verbose: int) -> None:
    """List unlinked mentions of notes across VAULT; change nothing.

    Each line names a note, the line and column of a mention of another note's title or
    alias, and the link that would replace it. Exit code 0, whatever was found.
    """
    out, err = make_consoles()
    path = _vault_argument(vault, err)
    found: list[dict[str, Any]] = []
    notes: set[str] = set()
    try:
        with _diagnostics(verbose, err):
            listed = list(unlinked_mentions(path))
        for note, mention in listed:
            notes.add(note)
            if as_json:
                found.append(
                    {
                        "note": note,
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
                    f"{note}:{mention.line}:{mention.column}: {mention.text} -> {mention.wikilink()}",
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
