"""The vault index and mention linking, at 5,000 and 50,000 notes (``--quick``: 500 and 2,000).

Every time is a ratio to reading the same vault's notes raw in the same run (walking the
folders with ``os.scandir`` and reading every ``.md`` file's bytes); each figure and the
baseline run in turn, a few times, and the best of each is taken:

- index, cold (no cache: every note read and parsed, the cache written): target <= 10x;
- index, warm (cache, nothing changed: one ``stat`` per note): target <= 0.5x;
- linking the text (summary, content, scraped article) of 1,000 new notes against every
  title and alias, building the Aho-Corasick automaton included: target <= 2x;
- peak memory of a run (warm scan, automaton, linking the 1,000 notes) <= 400 MB.

The targets apply to the 50,000-note vault (not to ``--quick`` sizes, where fixed costs
dominate); the smaller vault shows how time and memory grow.
Generated vaults and notes are kept in ``$OBSIDIAN_INBOX_BENCH_CACHE`` (default: a folder
in the system's temporary folder) between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench._util import best_of, peak_memory_mb, report, tool, write_json

if TYPE_CHECKING:
    from obsidian_inbox import Note

CACHE = Path(
    os.environ.get(
        "OBSIDIAN_INBOX_BENCH_CACHE", Path(tempfile.gettempdir()) / "obsidian-inbox-bench"
    )
)
SEED = 1
TARGETS = {"cold": 10.0, "warm": 0.5, "link": 2.0}
MEMORY_TARGET_MB = 400.0


def _vault(notes: int) -> Path:
    """A make_vault.py vault of ``notes`` notes, generated once and kept."""
    folder = CACHE / f"vault-{notes}-seed{SEED}"
    manifest = folder / ".manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text("utf-8"))["note_count"] == notes:
        return folder
    print(f"  (generating a vault of {notes:,} notes in {folder})", flush=True)
    tool("make_vault.py", "--notes", str(notes), "--seed", str(SEED), "--force", folder)
    past = time.time() - 3600  # not "just changed": the index would re-read such notes
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))
    return folder


def _new_notes(vault: Path, count: int) -> Path:
    """``count`` new notes, rendered, in a JSON list: captures made by make_inbox.py for
    this vault (so they mention its notes), with the main text of the article pages they
    link to, as trafilatura extracts it."""
    out = CACHE / f"{vault.name}-notes-{count}.json"
    if out.is_file():
        return out
    print(f"  (making {count:,} new notes mentioning {vault.name})", flush=True)
    import trafilatura

    from obsidian_inbox import InboxParseError, parse_inbox_file
    from obsidian_inbox._markdown import normalize_markdown

    work = Path(tempfile.mkdtemp(prefix="links-bench-"))
    try:
        tool(
            "make_inbox.py",
            "--items",
            str(count),
            "--seed",
            str(SEED),
            "--vault",
            vault,
            "--site",
            work / "site",
            "--base-url",
            "http://127.0.0.1:8765",
            work / "inbox",
        )
        import attrs

        rendered = []
        for capture in sorted((work / "inbox").glob("*.txt")):
            try:
                note = parse_inbox_file(capture)
            except InboxParseError:  # the inbox has deliberately broken captures
                continue
            sources = []
            for source in note.sources:
                page = work / "site" / source.url.split("/", 3)[-1].split("?")[0]
                page = page / "index.html" if page.is_dir() else page
                if source.kind == "article" and page.is_file():
                    text = trafilatura.extract(
                        page.read_bytes(), url=source.url, output_format="markdown"
                    )
                    source = attrs.evolve(source, text=normalize_markdown(text or ""))
                sources.append(source)
            rendered.append(attrs.evolve(note, sources=sources).to_markdown())
        out.write_text(json.dumps(rendered), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _read_raw(vault: Path) -> int:
    """The baseline: walk the vault (no dot-folders) and read every note's bytes."""
    total = 0
    stack = [os.fspath(vault)]
    while stack:
        with os.scandir(stack.pop()) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                if entry.name.endswith(".md") and entry.is_file(follow_symlinks=False):
                    with open(entry.path, "rb") as handle:  # noqa: PTH123 - as plain as it gets
                        total += len(handle.read())
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return total


def _paired(
    baseline: Callable[[], object],
    function: Callable[[], object],
    repeat: int,
    setup: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Best times of ``baseline`` and ``function``, run in turn ``repeat`` times."""
    base, best = float("inf"), float("inf")
    for _ in range(repeat):
        base = min(base, best_of(1, baseline))
        best = min(best, best_of(1, function, setup))
    return base, best


def _texts(notes: list[Note]) -> list[str]:
    texts = []
    for note in notes:
        texts += [note.summary, note.content, *(source.text for source in note.sources)]
    return texts


def workload(vault: str, state: str, notes_json: str) -> None:
    """What the memory figure measures: a warm scan, the automaton, linking the notes."""
    from obsidian_inbox import Note, VaultLinker
    from obsidian_inbox._index import scan_vault
    from obsidian_inbox._state import State

    notes = [Note.from_markdown(text) for text in json.loads(Path(notes_json).read_text("utf-8"))]
    with State(Path(state)) as cache:
        index = scan_vault(Path(vault), cache).index
    linker = VaultLinker(index)
    for note in notes:
        linker.link_note(note)


def _measure(size: int, count: int, *, largest: bool) -> tuple[dict[str, float], bool]:
    from obsidian_inbox import Note, VaultLinker
    from obsidian_inbox._index import scan_vault
    from obsidian_inbox._state import State

    vault = _vault(size)
    notes_json = _new_notes(vault, count)
    notes = [Note.from_markdown(text) for text in json.loads(notes_json.read_text("utf-8"))]
    texts = _texts(notes)
    work = Path(tempfile.mkdtemp(prefix="links-bench-"))
    state_file = work / "state.sqlite3"
    figures: dict[str, float] = {"notes": size, "new_notes": len(notes)}
    ok = True

    def target(name: str) -> float | None:
        return TARGETS[name] if largest else None

    try:

        def cold() -> None:
            with State(state_file) as cache:
                scan_vault(vault, cache)

        def fresh_state() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{state_file}{suffix}").unlink(missing_ok=True)

        def warm() -> None:
            with State(state_file) as cache:
                result = scan_vault(vault, cache)
            assert result.read == 0, "the warm scan read notes"

        def read_raw() -> None:
            _read_raw(vault)

        # Each figure and its baseline run in turn, best of each: this machine's speed
        # changes from one second to the next; the ratio should not.
        raw_cold, cold_time = _paired(read_raw, cold, 2, setup=fresh_state)
        cold()
        raw_warm, warm_time = _paired(read_raw, warm, 5)

        with State(state_file) as cache:
            index = scan_vault(vault, cache).index
        start = time.perf_counter()
        entries = list(index)  # decode every cached entry, and build the look-up tables
        index.by_title("")
        decode_time = time.perf_counter() - start

        linked = 0

        def link() -> None:
            nonlocal linked
            linker = VaultLinker(index)
            linked = sum(len(linker.link_text(text)[1]) for text in texts)

        raw_link, link_time = _paired(read_raw, link, 3)
        raw = min(raw_cold, raw_warm, raw_link)
        start = time.perf_counter()
        linker = VaultLinker(index)
        for note in notes:
            linker.link_note(note)
        note_time = time.perf_counter() - start

        print(f"  {size:,} notes ({len(entries):,} indexed), {len(notes):,} new notes:", flush=True)
        ok &= report(
            "index, cold (read + parse + cache every note)", cold_time, raw_cold, target("cold")
        )
        ok &= report("index, warm (cache; nothing changed)", warm_time, raw_warm, target("warm"))
        report("  + decoding every cached entry, look-up tables", decode_time, raw, None)
        ok &= report(
            f"link the text of {len(notes):,} notes (automaton included)",
            link_time,
            raw_link,
            target("link"),
        )
        report("  link_note, with the note model's re-formatting", note_time, raw, None)
        print(f"  {linked:,} links made in {len(texts):,} texts", flush=True)
        code = (
            "from bench.links import workload\n"
            f"workload({str(vault)!r}, {str(state_file)!r}, {str(notes_json)!r})"
        )
        memory = peak_memory_mb(code)
        verdict = ""
        if largest:
            verdict = (
                "  ok"
                if memory <= MEMORY_TARGET_MB
                else f"  OVER the {MEMORY_TARGET_MB:.0f} MB target"
            )
            ok &= memory <= MEMORY_TARGET_MB
        print(
            f"  {'peak memory (warm scan, automaton, linking)':<58} {memory:9.1f} MB{verdict}",
            flush=True,
        )
        figures.update(
            raw=raw,
            raw_cold=raw_cold,
            raw_warm=raw_warm,
            raw_link=raw_link,
            cold=cold_time,
            warm=warm_time,
            decode=decode_time,
            link=link_time,
            link_note=note_time,
            links=linked,
            memory_mb=memory,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures, ok


def run(quick: bool) -> int:
    """Run the benchmark; return how many targets were missed."""
    small, large = (500, 2_000) if quick else (5_000, 50_000)
    count = 100 if quick else 1_000
    small_figures, _ = _measure(small, count, largest=False)
    large_figures, ok = _measure(large, count, largest=not quick)
    print(f"  growth from {small:,} to {large:,} notes ({large // small}x the notes):", flush=True)
    for name in ("raw", "cold", "warm", "link", "memory_mb"):
        grown = large_figures[name] / small_figures[name] if small_figures[name] else float("inf")
        print(f"    {name:<10} x{grown:6.2f}", flush=True)
    write_json(
        "links-quick" if quick else "links", {"small": small_figures, "large": large_figures}
    )
    return 0 if ok else 1
