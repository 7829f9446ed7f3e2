"""Stopping cleanly on Ctrl-C and SIGTERM (used by the command line only).

The first signal sets a :class:`threading.Event` that the pipeline checks between
captures, so the current note is finished (or rolled back), the lock released and the
report printed. A second Ctrl-C raises :class:`KeyboardInterrupt` at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = ["stop_on_signals"]


def _signals() -> list[signal.Signals]:
    names = ("SIGINT", "SIGTERM", "SIGHUP")  # SIGHUP: the terminal or Obsidian went away
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT, SIGTERM or SIGHUP while the block runs; restore the handlers after.

    Outside the main thread (where handlers cannot be installed) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for sig in _signals():
        with contextlib.suppress(OSError, ValueError):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
