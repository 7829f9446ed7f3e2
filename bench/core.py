"""Core pipeline: offline processing of 1,000 captures against durably copying the same files.

Baseline, measured in the same run on the same files: for each capture, read it, write a
copy to a temporary file, fsync it, rename it into place (what any tool that "never
loses a note" must at least do). Target: processing takes at most 3x that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ._util import best_of, peak_memory_mb, report, tool, write_json

TARGET = 3.0


def _durable_copy(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.txt")):
        data = path.read_bytes()
        temp = target / f".{path.name}.tmp"
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(target / (path.stem + ".md"))


def _fresh_vault(work: Path, inbox: Path) -> Path:
    vault = work / "vault"
    if vault.exists():
        shutil.rmtree(vault)
    (vault / ".obsidian").mkdir(parents=True)
    shutil.copytree(inbox, vault / "Inbox")
    return vault


def run(*, quick: bool = False) -> int:
    """Run the benchmark; return the number of missed targets."""
    from obsidian_inbox import Settings, process_inbox

    items = 200 if quick else 1000
    settings = Settings(settle_seconds=0)
    with tempfile.TemporaryDirectory(prefix="oi-bench-core-") as temp:
        work = Path(temp)
        tool(
            "make_inbox.py",
            "--items",
            str(items),
            "--seed",
            "7",
            "--site",
            work / "site",
            work / "inbox",
        )
        # Leave the damaged captures out: they are refused before any work, which would flatter us.
        for path in (work / "inbox").glob("*.txt"):
            if path.stat().st_size == 0:
                path.unlink()
        count = len(list((work / "inbox").glob("*.txt")))
        state: dict[str, Path] = {}

        def reset_copy() -> None:
            shutil.rmtree(work / "copy", ignore_errors=True)

        def reset_vault() -> None:
            state["vault"] = _fresh_vault(work, work / "inbox")

        baseline = best_of(3, lambda: _durable_copy(work / "inbox", work / "copy"), reset_copy)
        ours = best_of(
            3, lambda: process_inbox(state["vault"], offline=True, settings=settings), reset_vault
        )
        report_ = process_inbox(_fresh_vault(work, work / "inbox"), offline=True, settings=settings)
        peak = peak_memory_mb(
            "import shutil, sys; from pathlib import Path\n"
            "from obsidian_inbox import Settings, process_inbox\n"
            f"process_inbox({str(_fresh_vault(work, work / 'inbox'))!r}, offline=True,"
            " settings=Settings(settle_seconds=0))"
        )
        print(f"  {count} captures: {report_.summary()}")
        ok = report(
            f"offline processing of {count} captures vs durable copy", ours, baseline, TARGET
        )
        print(
            f"  per capture: {ours / count * 1000:.2f} ms (durable copy {baseline / count * 1000:.2f} ms)"
        )
        print(f"  peak memory of a run over {count} captures: {peak:.0f} MB")
        write_json(
            "core",
            {
                "captures": count,
                "seconds": ours,
                "baseline_seconds": baseline,
                "ratio": ours / baseline,
                "target": TARGET,
                "peak_mb": peak,
            },
        )
    return 0 if ok else 1
