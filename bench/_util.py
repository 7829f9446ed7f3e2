"""Helpers shared by the benchmarks: timing, peak memory in a child process, the test-data tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("OBSIDIAN_INBOX_TOOLS", ROOT.parent / "shared" / "tools"))


def best_of(
    repeat: int, function: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    """Return the fastest of ``repeat`` timed calls (seconds), running ``setup`` untimed before each."""
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_mb(code: str) -> float:
    """Run ``code`` in a fresh interpreter and return its peak resident memory in MB."""
    script = (
        "import resource, sys\n"
        f"{code}\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(peak / (1024 * 1024) if sys.platform == 'darwin' else peak / 1024)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return float(output.stdout.strip().splitlines()[-1])


def tool(name: str, *args: str | Path) -> None:
    """Run one of ../shared/tools (make_vault.py, make_inbox.py) quietly."""
    script = TOOLS / name
    if not script.exists():
        raise SystemExit(f"benchmark needs {script} (set OBSIDIAN_INBOX_TOOLS)")
    subprocess.run([sys.executable, script, *map(str, args)], check=True, capture_output=True)


def report(name: str, value: float, baseline: float, target: float | None, unit: str = "s") -> bool:
    """Print one figure as a ratio to its baseline; return whether it meets ``target``."""
    ratio = value / baseline if baseline else float("inf")
    verdict = (
        "" if target is None else ("  ok" if ratio <= target else f"  OVER the {target}x target")
    )
    print(
        f"  {name:<58} {value:9.3f} {unit} / {baseline:9.3f} {unit} = {ratio:6.2f}x{verdict}",
        flush=True,
    )
    return target is None or ratio <= target


def write_json(name: str, data: dict[str, object]) -> None:
    """Keep the figures of a run in bench/results/<name>.json (not committed)."""
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
