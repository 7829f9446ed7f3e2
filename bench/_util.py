"""Helpers shared by the benchmarks: timing, peak memory in a child process, the test-data tools."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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


def report_at_least(name: str, value: float, baseline: float, target: float) -> bool:
    """Print a higher-is-better figure as a ratio to its baseline; return whether it is ``target`` or more."""
    ratio = value / baseline if baseline else float("inf")
    verdict = "  ok" if ratio >= target else f"  UNDER the {target}x target"
    print(f"  {name:<58} {value:9.4f}   / {baseline:9.4f}   = {ratio:6.3f}x{verdict}", flush=True)
    return ratio >= target


CORPUS = Path(os.environ.get("OBSIDIAN_INBOX_CORPUS", ROOT.parent / "shared" / "corpus"))
_TOKEN = re.compile(r"\w+")


def _grams(text: str, n: int | None) -> Counter[tuple[str, ...]]:
    tokens = text.split() if n is None else _TOKEN.findall(text)
    if n is None:
        return Counter((token,) for token in tokens)
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def extraction_scores(pairs: Iterable[tuple[str, str]], *, n: int | None = 4) -> dict[str, float]:
    """Score extracted texts against expected ones, as the article-extraction-benchmark does.

    Each text is a multiset of ``n``-token shingles (tokens: ``\\w+``), or with ``n=None``
    a bag of whitespace-separated tokens. Per page, true/false positives and false
    negatives are normalised to sum to 1; precision and recall are means over the pages,
    F1 their harmonic mean; accuracy is the share of pages whose tokens match exactly.

    Args:
        pairs: (predicted, expected) texts, one per page.
        n: Shingle length, or None for a bag of whitespace tokens.

    Returns:
        ``{"f1", "precision", "recall", "accuracy", "pages"}``.
    """
    precisions: list[float] = []
    recalls: list[float] = []
    exact = pages = 0
    for predicted, expected in pairs:
        pages += 1
        exact += _TOKEN.findall(predicted) == _TOKEN.findall(expected)
        got, want = _grams(predicted, n), _grams(expected, n)
        tp, fp, fn = (
            sum((got & want).values()),
            sum((got - want).values()),
            sum((want - got).values()),
        )
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "accuracy": exact / max(pages, 1),
        "pages": pages,
    }


@contextlib.contextmanager
def serve_site(site: Path, *, delay_ms: float = 0) -> Iterator[str]:
    """Serve ``site`` with ../shared/tools/serve_site.py in a child process; yield its base URL."""
    script = TOOLS / "serve_site.py"
    if not script.exists():
        raise SystemExit(f"benchmark needs {script} (set OBSIDIAN_INBOX_TOOLS)")
    process = subprocess.Popen(
        [sys.executable, script, site, "--port", "0", "--delay-ms", str(delay_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at (http://\S+)", line)
        if match is None:
            raise SystemExit(f"serve_site.py did not start: {line!r}")
        yield match.group(1).rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=10)
