"""Core pipeline: offline processing of 1,000 captures against durably copying the same files.

Baseline, measured in the same run on the same files: for each capture, read it, write a
copy to a temporary file, fsync it, rename it into place (what any tool that "never
loses a note" must at least do). Target: processing takes at most 3x that.

Both are timed in turn (baseline, ours, baseline, ours, ...), each in a folder of its
own prepared beforehand, with dirty pages flushed before each timing, and nothing is
deleted until the end: on a file system without a journal (ext4 as this project's CI
machines mount it), creating a file skips over every inode deleted in the last minute or
more, so deleting the previous run's files just before a timing slowed whichever run
came next by up to 1 ms per file created (``perf`` shows it in ``recently_deleted``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from ._util import peak_memory_mb, report, tool, write_json

TARGET = 3.0
ROUNDS = 5


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


def _fresh_vault(vault: Path, inbox: Path) -> Path:
    (vault / ".obsidian").mkdir(parents=True)
    shutil.copytree(inbox, vault / "Inbox")
    return vault


@attrs.frozen
class _Timing:
    """One timed call: wall-clock seconds, and the CPU seconds this process spent in it."""

    seconds: float
    user: float
    system: float


def _cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process so far (threads included)."""
    times = os.times()
    return times.user, times.system


def _timed(function: Callable[[], object]) -> _Timing:
    if hasattr(os, "sync"):
        os.sync()  # neither run pays for the writeback of the setup before it
    user, system = _cpu()
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    user_after, system_after = _cpu()
    return _Timing(seconds, user_after - user, system_after - system)


def _per_capture(timing: _Timing, count: int) -> str:
    ms = 1000 / count
    waited = max(0.0, timing.seconds - timing.user - timing.system)
    return (
        f"{timing.seconds * ms:.2f} ms = {timing.user * ms:.2f} user CPU"
        f" + {timing.system * ms:.2f} system CPU + {waited * ms:.2f} waiting"
    )


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
        vaults = [_fresh_vault(work / f"vault-{i}", work / "inbox") for i in range(ROUNDS + 2)]
        baselines: list[_Timing] = []
        ours: list[_Timing] = []
        for i in range(ROUNDS):
            copy = work / f"copy-{i}"
            baselines.append(_timed(lambda: _durable_copy(work / "inbox", copy)))  # noqa: B023
            vault = vaults[i]
            ours.append(
                _timed(lambda: process_inbox(vault, offline=True, settings=settings))  # noqa: B023
            )
        baseline = min(baselines, key=lambda t: t.seconds)
        best = min(ours, key=lambda t: t.seconds)
        report_ = process_inbox(vaults[ROUNDS], offline=True, settings=settings)
        peak = peak_memory_mb(
            "from obsidian_inbox import Settings, process_inbox\n"
            f"process_inbox({str(vaults[ROUNDS + 1])!r}, offline=True,"
            " settings=Settings(settle_seconds=0))"
        )
        print(f"  {count} captures: {report_.summary()}")
        ok = report(
            f"offline processing of {count} captures vs durable copy",
            best.seconds,
            baseline.seconds,
            TARGET,
        )
        print(f"  per capture, ours:         {_per_capture(best, count)}")
        print(f"  per capture, durable copy: {_per_capture(baseline, count)}")
        print(f"  (best of {ROUNDS} each, timed in turn)")
        spread = ", ".join(
            f"{o.seconds / b.seconds:.2f}" for o, b in zip(ours, baselines, strict=True)
        )
        print(f"  ratio of each round: {spread}")
        print(f"  peak memory of a run over {count} captures: {peak:.0f} MB")
        write_json(
            "core",
            {
                "captures": count,
                "seconds": best.seconds,
                "user_seconds": best.user,
                "system_seconds": best.system,
                "rounds": [
                    {
                        "seconds": o.seconds,
                        "user_seconds": o.user,
                        "system_seconds": o.system,
                        "baseline_seconds": b.seconds,
                        "baseline_user_seconds": b.user,
                        "baseline_system_seconds": b.system,
                    }
                    for o, b in zip(ours, baselines, strict=True)
                ],
                "baseline_seconds": baseline.seconds,
                "ratio": best.seconds / baseline.seconds,
                "target": TARGET,
                "peak_mb": peak,
            },
        )
    return 0 if ok else 1
