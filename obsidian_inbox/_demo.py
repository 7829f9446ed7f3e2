"""The bundled example: a vault, an inbox and a site served on 127.0.0.1 (I/O).

``obsidian-inbox demo`` copies the example vault and inbox to a folder, serves the example
site locally — every request for one of its hosts (``towardsdatascience.com``, …) is
routed to the local server — and processes the inbox, so the whole pipeline runs on a
fresh machine with no internet.
"""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._report import Report

__all__ = [
    "DEFAULT_DEMO_FOLDER",
    "DEMO_MARKER",
    "DemoSite",
    "HostRoutingTransport",
    "demo_data",
    "prepare_demo_vault",
    "run_demo",
]

#: A file marking a folder as a demo vault, so a later demo may replace it.
DEMO_MARKER = ".obsidian-inbox-demo"
#: Where ``obsidian-inbox demo`` makes its vault unless told otherwise.
DEFAULT_DEMO_FOLDER = "obsidian-inbox-demo"


def demo_data() -> Path:
    """Return the folder of the bundled example (vault, inbox, site)."""
    return Path(str(resources.files("obsidian_inbox") / "_demo"))


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serve ``<site>/<Host header>/<path>``: ``index.html``, ``index.xml`` or the file itself."""

    site: Path

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the demo prints its own output

    def translate_path(self, path: str) -> str:
        host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
        folder = (self.site / host).resolve()
        if self.site.resolve() not in folder.parents:
            return str(self.site / "missing")
        target = (folder / path.split("?", 1)[0].split("#", 1)[0].lstrip("/")).resolve()
        if folder != target and folder not in target.parents:
            return str(self.site / "missing")
        for candidate in (target, target / "index.html", target / "index.xml"):
            if candidate.is_file():
                return str(candidate)
        return str(target)

    def guess_type(self, path: str | Any) -> str:
        name = str(path)
        if name.endswith(".xml"):
            head = Path(name).read_text(encoding="utf-8", errors="replace")[:500]
            return "application/atom+xml" if "<feed" in head else "application/rss+xml"
        if name.endswith(".html"):
            return "text/html; charset=utf-8"
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()


class DemoSite:
    """The example site, served on 127.0.0.1 on a free port while the context is open.

    Args:
        site: The folder with one sub-folder per host name.
    """

    def __init__(self, site: Path | None = None) -> None:
        self.site = site or demo_data() / "site"
        handler = type("Handler", (_SiteHandler,), {"site": self.site})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The local port it listens on."""
        return int(self._server.server_address[1])

    @property
    def hosts(self) -> frozenset[str]:
        """The host names it serves."""
        return frozenset(p.name for p in self.site.iterdir() if p.is_dir())

    def transport(self) -> HostRoutingTransport:
        """Return an httpx transport that sends requests for the site's hosts here."""
        return HostRoutingTransport(self.hosts, self.port)

    def __enter__(self) -> DemoSite:  # noqa: PYI034 - Python 3.10 has no typing.Self
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class HostRoutingTransport(httpx.BaseTransport):
    """An httpx transport that sends requests for some hosts to a local port instead.

    The request keeps its ``Host`` header, so the local server knows which site is asked
    for; requests for other hosts fail as if offline.
    """

    def __init__(self, hosts: frozenset[str], port: int) -> None:
        self.hosts = hosts
        self.port = port
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Route ``request`` to the local server when it is for one of our hosts."""
        if request.url.host not in self.hosts:
            raise httpx.ConnectError(
                f"{request.url.host} is not part of the demo site", request=request
            )
        request.headers["Host"] = request.url.host
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the underlying connections."""
        self._inner.close()


def prepare_demo_vault(target: Path) -> Path:
    """Make a fresh example vault at ``target`` with the example inbox in ``Inbox/``.

    A folder made by an earlier demo is replaced; any other non-empty folder is refused.

    Raises:
        FileExistsError: ``target`` exists, is not empty and is not an earlier demo.
    """
    if target.exists() and any(target.iterdir()):
        if not (target / DEMO_MARKER).exists():
            raise FileExistsError(
                f"{target} exists and is not an obsidian-inbox demo; choose another folder"
            )
        shutil.rmtree(target)
    data = demo_data()
    shutil.copytree(data / "vault", target, dirs_exist_ok=True)
    shutil.copytree(data / "inbox", target / "Inbox", dirs_exist_ok=True)
    (target / DEMO_MARKER).write_text(
        "made by obsidian-inbox demo; safe to delete\n", encoding="utf-8"
    )
    return target


def run_demo(target: Path, *, on_progress: Callable[[int, int], None] | None = None) -> Report:
    """Make a fresh example vault at ``target`` and process its inbox against the local site.

    Nothing leaves 127.0.0.1, and the HTTP cache is not used (the example pages must not
    stand in for the real ones later).

    Raises:
        FileExistsError: ``target`` is a non-empty folder not made by an earlier demo.
    """
    from ._config import Settings
    from ._enrich import WebEnricher
    from ._pipeline import process_inbox

    prepare_demo_vault(target)
    settings = Settings(settle_seconds=0)
    with (
        DemoSite() as site,
        WebEnricher.from_settings(settings, cache=False, transport=site.transport()) as enricher,
    ):
        return process_inbox(target, settings=settings, enricher=enricher, on_progress=on_progress)
