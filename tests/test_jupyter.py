"""Jupyter: the API inside a running event loop, and the tutorial notebook executes."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from pathlib import Path

import pytest

from obsidian_inbox import Vault, process_inbox

from .helpers import CAPTURES, make_vault

NOTEBOOK = Path(__file__).parent.parent / "docs" / "tutorial.ipynb"


def test_process_inbox_inside_a_running_event_loop(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)

    async def main() -> tuple[int, int]:
        asyncio.get_running_loop()  # we are inside the loop
        direct = process_inbox(vault, offline=True, dry_run=True)  # blocks, but works
        threaded = await asyncio.to_thread(process_inbox, vault, offline=True)
        return len(direct.created), len(threaded.created)

    assert asyncio.run(main()) == (len(CAPTURES), len(CAPTURES))
    assert len(Vault(vault).notes()) == len(CAPTURES)


def test_process_inbox_from_a_worker_thread_can_be_stopped(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    stop = threading.Event()
    stop.set()

    async def main() -> bool:
        report = await asyncio.to_thread(process_inbox, vault, offline=True, stop=stop)
        return report.interrupted

    assert asyncio.run(main())


def test_the_tutorial_notebook_executes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import NoSuchKernel
    from traitlets.config import Config

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "store the notebook without outputs: the docs build executes it"
    )
    config = Config()
    if sys.platform != "win32":
        # Unix-domain sockets (an absolute path: the kernel runs in another folder), so
        # no TCP port is opened, not even on 127.0.0.1.
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(tmp_path / "kernel-ipc")
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=120, allow_errors=False, config=config
    )
    try:
        client.execute(cwd=str(tmp_path))
    except (NoSuchKernel, OSError) as exc:  # no ipykernel, no kernelspec: no kernel can start
        pytest.skip(f"no Jupyter kernel can start: {exc}")
    finally:
        # jupyter_client leaves zmq sockets for the garbage collector; collect them here,
        # where their ResourceWarning is known to be theirs.
        del client
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", ())]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    markdown = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert any("inbox: 3 new, 1 failed" in text for text in html)  # the report
    assert any("<b>Vault</b>" in text for text in html)  # the vault
    assert any(text.startswith("| property | value |") for text in markdown)  # a note
    texts = [o.get("text", "") for o in outputs] + [
        o.get("data", {}).get("text/plain", "") for o in outputs
    ]
    assert any("inbox: 1 new" in text for text in texts)  # the run from a coroutine
