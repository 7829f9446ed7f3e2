"""Shared fixtures: temporary vaults and inboxes, a local web server, isolated config dirs."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings
from pytest_httpserver import HTTPServer

from obsidian_inbox import Fetcher, Settings
from obsidian_inbox._fetch import CACHE_ENV

# "default" runs in the normal suite; "fuzz" is the long campaign (nox -s fuzz);
# HYPOTHESIS_PROFILE picks one, as attrs and packaging do.
# Only too_slow is suppressed: generating Markdown and notes is slow on a shared machine.
# The fuzz targets carry no @settings(max_examples=...) of their own (test_fuzz.py checks),
# so FUZZ_EXAMPLES applies to each of them.
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,  # a failure prints the blob that replays it (@reproduce_failure)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DATA = Path(__file__).parent / "data"
#: The shared test-data tools (make_vault.py, make_inbox.py, serve_site.py), beside the checkout.
TOOLS = Path(
    os.environ.get("OBSIDIAN_INBOX_TOOLS", Path(__file__).parents[1].parent / "shared" / "tools")
)


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the HTTP cache at a fresh folder, so no test reads or writes the user's cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """pytest-httpserver's server, threaded (concurrency tests need parallel requests)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def make_fetcher(isolated_cache: Path) -> Iterator[Callable[..., Fetcher]]:
    """Make Fetchers for 127.0.0.1: no back-off waits, short timeouts, the isolated cache."""
    made: list[Fetcher] = []

    def make(**options: object) -> Fetcher:
        defaults: dict[str, object] = {
            "retry_wait": 0,
            "timeout": 5.0,
            "deadline": 10.0,
            "cache": isolated_cache,
        }
        fetcher = Fetcher(**{**defaults, **options})  # type: ignore[arg-type]
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fetcher(make_fetcher: Callable[..., Fetcher]) -> Fetcher:
    """A Fetcher aimed at 127.0.0.1 with back-off off and an isolated cache."""
    return make_fetcher()


class RouteTransport(httpx.BaseTransport):
    """Send requests for the given hosts to a local server instead (http, same path and query)."""

    def __init__(self, routes: dict[str, str]) -> None:
        self.routes = {host: httpx.URL(base) for host, base in routes.items()}
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self.routes.get(request.url.host)
        if target is not None:
            request.url = request.url.copy_with(
                scheme=target.scheme, host=target.host, port=target.port
            )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _serve_socket(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """Run a raw TCP server on 127.0.0.1 calling ``handle`` per connection; yield its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connections.append(connection)
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for connection in connections:
            connection.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""

    def handle(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            time.sleep(30)
        except OSError:
            pass

    yield from _serve_socket(handle)


def drip(length: int, interval: float) -> Callable[[socket.socket], None]:
    """A connection handler that answers at once, then sends ``length`` bytes one by one."""

    def handle(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % length
            )
            for _ in range(length):
                connection.sendall(b"<")
                time.sleep(interval)
        except OSError:
            pass

    return handle


@pytest.fixture
def drip_server() -> Iterator[str]:
    """A server that answers at once, then sends its body a byte every 20 ms, forever."""
    yield from _serve_socket(drip(5000, 0.02))


def tools_or_skip() -> Path:
    """Return the folder of the shared test-data tools, or skip the test."""
    if not (TOOLS / "serve_site.py").exists():
        pytest.skip(f"the shared test-data tools are not at {TOOLS} (set OBSIDIAN_INBOX_TOOLS)")
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return TOOLS


# --- vaults and inboxes ---------------------------------------------------------------

#: Settings for tests: no waiting for captures to settle.
TEST_SETTINGS = Settings(settle_seconds=0)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An empty vault (with ``.obsidian/``) and an empty ``Inbox/``."""
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "app.json").write_text("{}", encoding="utf-8")
    (root / "Inbox").mkdir()
    return root


@pytest.fixture
def capture(vault: Path) -> Callable[..., Path]:
    """Write a capture into the vault's inbox: ``capture(name, text_or_bytes)``."""

    def write(name: str, content: str | bytes) -> Path:
        path = vault / "Inbox" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


def tree_digest(root: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Return {relative path: sha256} of every file under ``root`` (to prove nothing changed)."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(exclude):
            result[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


# --- no network beyond this machine ----------------------------------------------------

_LOCAL_NAMES = frozenset({"127.0.0.1", "::1", "localhost", ""})


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """Refuse to resolve any name but this machine's: no test may reach the internet.

    pytest-socket blocks connections, but name look-ups go through the C resolver; a test
    that forgot ``offline=True`` would send DNS queries. Here the look-up is refused and
    the test fails, unless it is marked ``dns_refused_on_purpose``.
    """
    real = socket.getaddrinfo
    attempts: list[str] = []

    def local_only(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if name not in _LOCAL_NAMES:
            attempts.append(name)
            raise OSError(f"test tried to resolve {name!r}: tests never leave 127.0.0.1")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield
    if attempts and not request.node.get_closest_marker("dns_refused_on_purpose"):
        pytest.fail(f"the test tried to reach the internet: {sorted(set(attempts))}")


# --- test data from ../shared (optional tiers) ----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("OBSIDIAN_INBOX_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world corpus (``../shared/corpus``, or ``$OBSIDIAN_INBOX_CORPUS``)."""
    if not (CORPUS / "vaults").is_dir():
        pytest.skip(f"corpus tier: no corpus at {CORPUS} (set OBSIDIAN_INBOX_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def make_vault(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make (once per arguments) a synthetic vault with ``../shared/tools/make_vault.py``.

    Treat the vault as read-only; copy it (:func:`copy_vault`) to change it.
    """
    script = TOOLS / "make_vault.py"
    if not script.is_file():
        pytest.skip(f"no {script} (set OBSIDIAN_INBOX_TOOLS)")
    made: dict[tuple[int, int], Path] = {}

    def make(notes: int = 400, seed: int = 1) -> Path:
        if (notes, seed) not in made:
            out = tmp_path_factory.mktemp(f"vault-{notes}-{seed}") / "vault"
            subprocess.run(
                [sys.executable, script, "--notes", str(notes), "--seed", str(seed), out],
                check=True,
                capture_output=True,
            )
            made[notes, seed] = out
        return made[notes, seed]

    return make


def copy_vault(source: Path, target: Path) -> Path:
    """Copy a vault to ``target``: tests never change shared data."""
    shutil.copytree(source, target, symlinks=True)
    return target


def age(path: Path, seconds: float = 60.0) -> None:
    """Set the modification time of a file, or of every file in a folder, ``seconds`` ago.

    The index re-reads a note changed within the last seconds (its time may not show a
    second change); tests that count reads use files that are older.
    """
    when = time.time() - seconds
    for file in [path] if path.is_file() else path.rglob("*"):
        if file.is_file():
            os.utime(file, (when, when))
