"""Hostile network input, end to end: URLs, responses and feeds through ``process_inbox``.

Each case is one capture naming a hostile URL, a URL served by a hostile server, or a
hostile feed, processed by the real pipeline (real fetcher, feedparser, trafilatura,
SQLite state, vault) against servers on 127.0.0.1. Whatever the input, every case checks:

- the outcome, and a reason that names the cause (the outcome names the capture file);
- the capture is kept byte-identical: still in the inbox when not filed, and filed away
  unchanged when it is;
- a note, when written, reads back, and its body holds no active content (raw
  ``<script>``, ``javascript:`` links); when the hostile text came from the network, the
  note holds no ``<script`` and no ``javascript:`` at all, not even as text;
- nothing is written outside the vault (a digest of the folder around it);
- bounded time and memory (generous bounds, 30 s and 300 MB: these prove "no hang, no
  blow-up"); ``HOSTILE_FIGURES=file.jsonl`` records each case's actual figures.

The fetch limits are small here (a 1 s read timeout, a 3 s deadline, one retry) so that
the matrix stays fast. Unit-level checks of the same limits live in ``test_fetch.py``,
``test_extract.py`` and ``test_enrich.py``.
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from obsidian_inbox import Fetcher, Report, Settings, WebEnricher, parse_note, process_inbox

from .conftest import _serve_socket, drip, tree_digest

#: A capture's file name: an RSS capture or a link capture of 2025-09-01.
RSS_NAME = "20250901_080000_rss_hostile.txt"
LINK_NAME = "20250901_090000_link_hostile.txt"
#: Generous bounds for any single hostile input; the time bound is tripled under a tracer
#: (coverage, as in CI), which slows pure-Python parsers such as feedparser about twofold.
MAX_SECONDS = 30.0 * (3 if sys.gettrace() is not None or "coverage" in sys.modules else 1)
MAX_EXTRA_BYTES = 300 * 2**20
PASSWD = Path("/etc/passwd")
FIGURES = os.environ.get("HOSTILE_FIGURES", "")

PROSE = " ".join(
    f"Sentence {n} of the article says one more useful thing about the topic." for n in range(30)
)
PAGE = (
    "<!DOCTYPE html><html><head><title>A Fine Page</title></head><body><article>"
    f"<h1>A Fine Page</h1><p>{PROSE}</p></article></body></html>"
).encode()


@attrs.frozen
class Case:
    """A hostile input: the capture that names it and what must come of it.

    ``statuses`` are the outcomes of successive runs (a transient failure is deferred
    first, then written as partial once ``max_attempts`` runs are spent); ``reason`` must
    be in the last outcome's reason.
    """

    capture: str
    statuses: tuple[str, ...]
    reason: str
    name: str = LINK_NAME
    #: Text that must be in the note (when one is written), and text that must not.
    note_has: str = ""
    note_lacks: tuple[str, ...] = ()
    #: Text that must be nowhere in the vault.
    never: tuple[str, ...] = ()
    #: No ``<script`` and no ``javascript:`` anywhere in the note, not even as text (the
    #: feed's and the server's content); the capture's own words may mention them.
    strict: bool = True
    #: Called after the runs, for checks of the case's own (requests the server saw).
    check: Callable[[], None] | None = None
    #: Trace Python's allocations (tracemalloc slows CPU-bound parsing several times over;
    #: without it, only the process's peak size bounds the memory).
    trace: bool = True
    #: The fetcher's timeout per read (its deadline per URL is 3 s).
    read_timeout: float = 1.0


@attrs.frozen
class Env:
    """Where a case's servers are."""

    httpserver: HTTPServer
    request: pytest.FixtureRequest

    def url(self, path: str) -> str:
        return self.httpserver.url_for(path)

    def serve(self, path: str, body: bytes | str = PAGE, **options: object) -> str:
        options.setdefault("content_type", "text/html; charset=utf-8")
        self.httpserver.expect_request(path).respond_with_data(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def requests_to(self, path: str) -> int:
        return sum(1 for request, _ in self.httpserver.log if request.path == path)

    def fixture(self, name: str) -> str:
        value: str = self.request.getfixturevalue(name)
        return value


# Unescaped raw HTML or a javascript: link target in Markdown: active content.
_ACTIVE = re.compile(
    r"(?<!\\)<\s*(?:script|iframe|object|embed|a\s|img\s)|\]\(\s*javascript:|<javascript:",
    re.IGNORECASE,
)


# --- running a case ----------------------------------------------------------------------


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


@pytest.fixture
def env(httpserver: HTTPServer, request: pytest.FixtureRequest) -> Env:
    return Env(httpserver, request)


@pytest.fixture
def run_case(
    tmp_path: Path, vault: Path, make_fetcher: Callable[..., Fetcher]
) -> Callable[[Case], list[Report]]:
    """Process a case's capture until its outcomes are all in, checking the invariants."""

    def run(case: Case) -> list[Report]:
        capture = vault / "Inbox" / case.name
        capture.write_bytes(case.capture.encode("utf-8"))
        original = capture.read_bytes()
        (tmp_path / "outside.txt").write_text("beside the vault\n", encoding="utf-8")
        outside = tree_digest(tmp_path, exclude=("vault/",))
        fetcher = make_fetcher(timeout=case.read_timeout, deadline=3.0, retries=1, retry_wait=0)
        settings = Settings(settle_seconds=0, max_attempts=len(case.statuses))
        reports = []
        if case.trace:
            tracemalloc.start()
        rss_before, started = _rss_bytes(), time.monotonic()
        try:
            for _ in case.statuses:
                with WebEnricher(fetcher=fetcher) as enricher:
                    reports.append(process_inbox(vault, settings=settings, enricher=enricher))
            seconds = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        grown = _rss_bytes() - rss_before
        if FIGURES:  # HOSTILE_FIGURES=file.jsonl records each case's time and memory
            with Path(FIGURES).open("a", encoding="utf-8") as figures:
                figures.write(
                    json.dumps(
                        {
                            "case": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                            "seconds": round(seconds, 2),
                            "traced_peak": peak if case.trace else None,
                            "rss_growth": grown,
                        }
                    )
                    + "\n"
                )

        outcomes = [report.outcomes for report in reports]
        assert [len(o) for o in outcomes] == [1] * len(reports), outcomes
        last = outcomes[-1][0]
        assert [o[0].status for o in outcomes] == list(case.statuses), last
        assert last.capture == f"Inbox/{case.name}"
        assert case.reason in last.reason, last.reason
        # The capture: kept as it was, in the inbox or filed away.
        if last.archived is None:
            assert capture.read_bytes() == original
        else:
            assert not capture.exists()
            assert (vault / last.archived).read_bytes() == original
        # The note: complete, and free of active content.
        if last.note is not None and last.status != "failed":
            text = (vault / last.note).read_text(encoding="utf-8")
            parse_note(text)
            body = text.split("\n---\n", 1)[1]  # the properties are shown as text
            assert not _ACTIVE.search(body), _ACTIVE.search(body)
            if case.strict:
                assert "<script" not in text.lower()
                assert "javascript:" not in text.lower()
            assert case.note_has in text
            for unwanted in case.note_lacks:
                assert unwanted not in text
        for path in vault.rglob("*"):
            if path.is_file() and path.suffix in {".md", ".txt"}:
                content = path.read_text(encoding="utf-8", errors="replace")
                for secret in case.never:
                    assert secret not in content, path
        if case.check is not None:
            case.check()
        # Nothing outside the vault; bounded time and memory.
        assert tree_digest(tmp_path, exclude=("vault/",)) == outside
        assert seconds < MAX_SECONDS * len(case.statuses)
        assert peak < MAX_EXTRA_BYTES, f"{peak:,} bytes traced"
        assert grown < MAX_EXTRA_BYTES, f"the process grew by {grown:,} bytes"
        return reports

    return run


def link(url: str, comment: str = "A hostile link") -> str:
    return f"Link: {url}\n\n{comment}\n\nWhat the capture said about it.\n"


def rss_capture(feed: str, item_link: str, title: str = "The Hostile Item") -> str:
    return (
        f"RSS Feed: Hostile Weekly\nSource: {feed}\nLink: {item_link}\n\n{title}\n\n"
        f"What the capture said. The post {title} appeared first on Hostile Weekly.\n"
    )


CaseMaker = Callable[[Env], Case]
#: Cases that take more than a few seconds.
SLOW = frozenset({"100000-items", "quadratic-blowup", "quadratic-blowup-utf-16"})


def params(cases: dict[str, CaseMaker]) -> list[Any]:
    return [
        pytest.param(make, id=name, marks=[pytest.mark.slow] if name in SLOW else [])
        for name, make in cases.items()
    ]


def _registry() -> tuple[dict[str, CaseMaker], Callable[[str], Callable[[CaseMaker], CaseMaker]]]:
    cases: dict[str, CaseMaker] = {}

    def case(name: str) -> Callable[[CaseMaker], CaseMaker]:
        def register(make: CaseMaker) -> CaseMaker:
            cases[name] = make
            return make

        return register

    return cases, case


# --- hostile URLs ----------------------------------------------------------------------------

URLS, url_case = _registry()
NOT_HTTP = "is not an http(s) URL"


@url_case("file")
def _(env: Env) -> Case:
    return Case(link("file:///etc/passwd"), ("partial",), NOT_HTTP, never=("root:x:0:0",))


@url_case("javascript")
def _(env: Env) -> Case:
    return Case(link("javascript:alert(1)"), ("partial",), NOT_HTTP, strict=False)


@url_case("data")
def _(env: Env) -> Case:
    return Case(
        link("data:text/html,<script>alert(1)</script>"), ("partial",), NOT_HTTP, strict=False
    )


@url_case("malformed-ipv6")
def _(env: Env) -> Case:
    return Case(link("http://[::1"), ("partial",), NOT_HTTP)


@url_case("10-kB-url")
def _(env: Env) -> Case:
    path = "/long/" + "a" * 10_000
    url = env.serve(path, status=404)
    return Case(
        link(url),
        ("partial",),
        f"404 Not Found for {url}",
        check=lambda: _assert_equal(env.requests_to(path), 1),
    )


@url_case("crlf-encoded")
def _(env: Env) -> Case:
    url = env.url("/a%0d%0aX-Injected:%20yes%0d%0a%0d%0aGET%20/smuggled")
    env.httpserver.expect_request(re.compile("^/a")).respond_with_data(
        PAGE, content_type="text/html"
    )
    env.httpserver.expect_request("/smuggled").respond_with_data("smuggled")

    def no_injection() -> None:
        # One request, its path holding the CR LF as data; no header added, none smuggled.
        ((request, _),) = env.httpserver.log
        assert request.path.startswith("/a\r\nX-Injected: yes")
        assert "X-Injected" not in request.headers

    return Case(link(url), ("created",), "", note_has="Sentence 29", check=no_injection)


@url_case("crlf-raw")
def _(env: Env) -> Case:
    # A carriage return alone inside the Link: line, then a header to inject: the line
    # ends at the CR, so the URL is only what comes before it.
    url = env.serve("/b") + "\rX-Injected: yes\r\rGET /smuggled"
    env.httpserver.expect_request("/smuggled").respond_with_data("smuggled")

    def no_injection() -> None:
        ((request, _),) = env.httpserver.log
        assert request.path == "/b"
        assert "X-Injected" not in request.headers

    return Case(link(url), ("created",), "", note_has="Sentence 29", check=no_injection)


def _assert_equal(a: object, b: object) -> None:
    assert a == b


@pytest.mark.parametrize("make", params(URLS))
def test_hostile_url(make: CaseMaker, env: Env, run_case: Callable[[Case], list[Report]]) -> None:
    run_case(make(env))


# --- hostile responses -----------------------------------------------------------------------

RESPONSES, response_case = _registry()


@response_case("404")
def _(env: Env) -> Case:
    url = env.serve("/gone", "<h1>Not here</h1>", status=404)
    return Case(link(url), ("partial",), f"404 Not Found for {url}")


@response_case("500")
def _(env: Env) -> Case:
    url = env.serve("/down", "<h1>Oops</h1>", status=500)
    # Two runs of two attempts each (one retry), then a partial note.
    return Case(
        link(url),
        ("deferred", "partial"),
        f"500 Internal Server Error for {url} (after 2 attempts)",
        check=lambda: _assert_equal(env.requests_to("/down"), 4),
    )


@response_case("redirect-loop")
def _(env: Env) -> Case:
    env.serve("/loop-a", "", status=302, headers={"Location": "/loop-b"})
    env.serve("/loop-b", "", status=302, headers={"Location": "/loop-a"})
    return Case(link(env.url("/loop-a")), ("partial",), "redirect loop: ")


@response_case("redirect-to-file")
def _(env: Env) -> Case:
    url = env.serve("/to-file", "", status=302, headers={"Location": "file:///etc/passwd"})
    return Case(link(url), ("partial",), "refused a redirect to a file: URL", never=("root:x:0:0",))


@response_case("never-answers")
def _(env: Env) -> Case:
    url = env.fixture("silent_server") + "silent"
    return Case(link(url), ("deferred", "partial"), "timed out after ")


@response_case("drip-1-byte-per-second")
def _(env: Env) -> Case:
    url = env.fixture("slow_drip_server") + "drip"
    # Each byte comes before the read timeout: only the deadline can stop it.
    return Case(link(url), ("deferred", "partial"), "timed out after 3 s", read_timeout=2.5)


def _bomb(decompressed: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"\0" * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(decompressed // len(chunk))]
    return b"".join(parts) + compressor.flush()


@response_case("gzip-bomb")
def _(env: Env) -> Case:
    bomb = _bomb(1_000_000_000)  # 1 GB of zeros in about 1 MB
    url = env.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    return Case(link(url), ("partial",), "response larger than 10 MB once decompressed (gzip)")


@response_case("50-MB-page")
def _(env: Env) -> Case:
    def fifty_megabytes(request: Request) -> Response:
        chunk = b"<p>" + b"x" * 99_996 + b"</p>"
        return Response((chunk for _ in range(500)), content_type="text/html")  # chunked

    env.httpserver.expect_request("/huge").respond_with_handler(fifty_megabytes)
    return Case(link(env.url("/huge")), ("partial",), "response larger than 10 MB")


@response_case("50-MB-page-declared")
def _(env: Env) -> Case:
    def fifty_megabytes(request: Request) -> Response:
        chunk = b"x" * 100_000
        response = Response((chunk for _ in range(500)), content_type="text/html")
        response.headers["Content-Length"] = "50000000"
        return response

    env.httpserver.expect_request("/huge").respond_with_handler(fifty_megabytes)
    return Case(
        link(env.url("/huge")),
        ("partial",),
        "response larger than 10 MB (Content-Length: 50,000,000 bytes)",
    )


BINARY = bytes(range(256)) * 400


@response_case("binary-body")
def _(env: Env) -> Case:
    url = env.serve("/blob", BINARY, content_type="application/octet-stream")
    return Case(link(url), ("partial",), "not a web page (application/octet-stream)")


@response_case("binary-as-html")
def _(env: Env) -> Case:
    url = env.serve("/blob.html", BINARY, content_type="text/html")
    return Case(link(url), ("partial",), f"for {url}")


@response_case("wrong-charset")
def _(env: Env) -> Case:
    page = PAGE.replace(b"<p>", "<p>Café naïve résumé. ".encode("cp1252"), 1)
    url = env.serve("/latin", page, content_type="text/html; charset=utf-8")
    return Case(link(url), ("created",), "", note_has="Café naïve résumé")


@response_case("unknown-charset")
def _(env: Env) -> Case:
    url = env.serve("/bogus", PAGE, content_type="text/html; charset=x-no-such-charset")
    return Case(link(url), ("created",), "", note_has="Sentence 29 of the article")


@response_case("charset-zlib")
def _(env: Env) -> Case:
    page = PAGE.replace(b"<p>", "<p>Café naïve résumé. ".encode("cp1252"), 1)
    url = env.serve("/zlib-charset", page, content_type="text/html; charset=zlib")
    return Case(link(url), ("created",), "", note_has="Café naïve résumé")


@response_case("utf-7-script")
def _(env: Env) -> Case:
    # Read as UTF-7, "+ADw-script+AD4-" is "<script>": browsers never do, nor do we.
    page = PAGE.replace(b"<p>", b"<p>\xe9 +ADw-script+AD4-alert(1)+ADw-/script+AD4- ", 1)
    url = env.serve("/utf7", page, content_type="text/html; charset=utf-7")
    return Case(link(url), ("created",), "", note_has="+ADw-script+AD4-")


@response_case("million-nested-divs")
def _(env: Env) -> Case:
    page = b"<html><body>" + b"<div>" * 1_000_000 + PROSE.encode() + b"</body></html>"
    url = env.serve("/nested", page)
    return Case(link(url), ("partial",), f"for {url}")


@response_case("page-dated-year-9999")
def _(env: Env) -> Case:
    head = '<meta property="article:published_time" content="9999-12-31T23:59:59-12:00">'
    url = env.serve("/future", PAGE.replace(b"</head>", head.encode() + b"</head>"))
    return Case(link(url), ("created",), "", note_has="Sentence 29", note_lacks=("9999",))


@response_case("deflate-bomb")
def _(env: Env) -> Case:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15)  # zlib container
    bomb = b"".join(compressor.compress(b"\0" * 1_000_000) for _ in range(200))
    url = env.serve("/deflate", bomb + compressor.flush(), headers={"Content-Encoding": "deflate"})
    return Case(link(url), ("partial",), "once decompressed (deflate)")


@response_case("endless-headers")
def _(env: Env) -> Case:
    url = env.fixture("header_flood_server") + "headers"
    return Case(link(url), ("deferred", "partial"), "connection failed")


@response_case("not-http")
def _(env: Env) -> Case:
    url = env.fixture("garbage_server") + "garbage"
    return Case(link(url), ("deferred", "partial"), "connection failed")


@pytest.fixture
def header_flood_server() -> Iterator[str]:
    """A server that answers with a status line, then headers without end."""

    def handle(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
            for n in range(1_000_000):
                connection.sendall(b"X-Flood-%d: %s\r\n" % (n, b"y" * 100))
        except OSError:
            pass

    yield from _serve_socket(handle)


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A server that answers with bytes that are not HTTP."""

    def handle(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(BINARY)
        except OSError:
            pass

    yield from _serve_socket(handle)


def titled(env: Env, path: str, title: str) -> Case:
    """A capture naming only a URL: the note takes the page's (hostile) title."""
    page = PAGE.replace(b"<title>A Fine Page</title>", f"<title>{title}</title>".encode())
    page = page.replace(b"<h1>A Fine Page</h1>", f"<h1>{title}</h1>".encode())
    url = env.serve(path, page)
    return Case(f"Link: {url}\n", ("created",), "", note_has="Sentence 29")


@response_case("title-path-traversal")
def _(env: Env) -> Case:
    return titled(env, "/traversal", "../../../../outside/evil")


@response_case("title-markdown-and-yaml")
def _(env: Env) -> Case:
    return titled(env, "/yaml", "--- !!python/object:os.system [[x]] | #tag ^block: yes")


@response_case("base-javascript")
def _(env: Env) -> Case:
    page = PAGE.replace(b"</head>", b'<base href="javascript:alert(1)//"></head>').replace(
        b"<p>", b"<p><a href='relative/page'>a relative link</a> ", 1
    )
    url = env.serve("/base", page)
    return Case(link(url), ("created",), "", note_has="Sentence 29")


@response_case("script-page")
def _(env: Env) -> Case:
    page = PAGE.replace(
        b"<p>",
        b"<script>alert(1)</script><p><a href='javascript:alert(2)'>click</a> "
        b"<img src=x onerror=alert(3)>",
        1,
    )
    url = env.serve("/scripted", page)
    return Case(link(url), ("created",), "", note_has="Sentence 29 of the article")


@pytest.fixture
def slow_drip_server() -> Iterator[str]:
    """A server that answers at once, then sends its body a byte a second, for a minute."""
    yield from _serve_socket(drip(60, 1.0))


@pytest.mark.parametrize("make", params(RESPONSES))
def test_hostile_response(
    make: CaseMaker, env: Env, run_case: Callable[[Case], list[Report]]
) -> None:
    run_case(make(env))


# --- hostile feeds ---------------------------------------------------------------------------

FEEDS, feed_case = _registry()


def rss(items: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Hostile Weekly</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


def item(
    title: str, link: str, description: str = "A description of the item.", extra: str = ""
) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f"<description>{description}</description>{extra}</item>"
    )


def feed_env(env: Env, feed: bytes, *, page: bool = False) -> tuple[str, str]:
    """Serve ``feed`` and return (feed URL, item URL); the item's page is gone unless ``page``."""
    feed_url = env.serve("/feed", feed, content_type="application/rss+xml")
    item_url = env.url("/item")
    if page:
        env.serve("/item")
    else:
        env.serve("/item", "gone", status=404)
    return feed_url, item_url


LOL = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
    for n in range(1, 10)
)


@feed_case("billion-laughs")
def _(env: Env) -> Case:
    url = env.url("/item")
    feed = rss(item("The Hostile Item", url, "&lol9;"), f"<!DOCTYPE rss [{LOL}]>")
    feed_url, item_url = feed_env(env, feed)
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        never=("lol" * 100,),
    )


@feed_case("quadratic-blowup")
def _(env: Env) -> Case:
    # 250 bytes, referenced 400,000 times on one line: 1.6 MB of feed, 100 MB of text.
    url = env.url("/item")
    doctype = f'<!DOCTYPE rss [<!ENTITY a "{"x" * 250}">]>'
    feed_url, item_url = feed_env(env, rss(item("The Hostile Item", url, "&a;" * 400_000), doctype))
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        never=("x" * 250,),
        trace=False,
    )


@feed_case("quadratic-blowup-utf-16")
def _(env: Env) -> Case:
    url = env.url("/item")
    doctype = f'<!DOCTYPE rss [<!ENTITY a "{"x" * 250}">]>'
    feed = rss(item("The Hostile Item", url, "&a;" * 400_000), doctype)
    feed = feed.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    feed_url, item_url = feed_env(env, feed)
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        never=("x" * 250,),
        trace=False,
    )


@feed_case("xxe-file")
def _(env: Env) -> Case:
    url = env.url("/item")
    doctype = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    feed = rss(
        item(
            "The Hostile Item",
            url,
            "Before &xxe; after.",
            "<content:encoded>&xxe;</content:encoded>",
        ),
        doctype,
    )
    feed_url, item_url = feed_env(env, feed)
    secrets = tuple(line for line in PASSWD.read_text().splitlines()[:3] if line) or ("root:",)
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        never=(*secrets, "root:x:0:0"),
    )


@feed_case("xxe-http")
def _(env: Env) -> Case:
    url = env.url("/item")
    xxe = env.serve("/xxe", "SECRET-FROM-THE-NETWORK", content_type="text/plain")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{xxe}">]>'
    feed_url, item_url = feed_env(env, rss(item("The Hostile Item", url, "&xxe;"), doctype))
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        never=("SECRET-FROM-THE-NETWORK",),
        check=lambda: _assert_equal(env.requests_to("/xxe"), 0),
    )


@feed_case("malformed-cdata")
def _(env: Env) -> Case:
    url = env.url("/item")
    feed = rss(
        item(
            "The Hostile Item",
            url,
            "<![CDATA[ <p>never closed",
            "<content:encoded><![CDATA[ ]]>]]>",
        )
    )
    feed_url, item_url = feed_env(env, feed)
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
    )


@feed_case("encoding-undefined")
def _(env: Env) -> Case:
    url = env.url("/item")
    feed = rss(item("The Hostile Item", url)).replace(b'encoding="UTF-8"', b'encoding="undefined"')
    feed_url = env.serve("/feed", feed, content_type="application/rss+xml; charset=undefined")
    env.serve("/item", "gone", status=404)
    return Case(
        rss_capture(feed_url, url),
        ("partial",),
        f"404 Not Found for {url}; the text is the feed item's",
        name=RSS_NAME,
        note_has="A description of the item.",
    )


@feed_case("100000-items")
def _(env: Env) -> Case:
    base = env.url("/item")
    items = "".join(
        f"<item><title>Item {n}</title><link>{base}?n={n}</link></item>" for n in range(100_000)
    )
    feed_url = env.serve("/feed", rss(items), content_type="application/rss+xml")
    env.serve("/item", PAGE)
    return Case(
        rss_capture(feed_url, f"{base}?n=99999", "Item 99999"),
        ("created",),
        "",
        name=RSS_NAME,
        note_has="Sentence 29 of the article",
        trace=False,
    )


@feed_case("duplicate-guids")
def _(env: Env) -> Case:
    base = env.url("/item")
    items = "".join(
        f"<item><title>Twin {n}</title><link>{base}?n={n}</link><guid>same-guid</guid>"
        f"<description>Twin number {n} speaking.</description></item>"
        for n in range(5)
    )
    feed_url = env.serve("/feed", rss(items), content_type="application/rss+xml")
    env.serve("/item", "gone", status=404)
    return Case(
        rss_capture(feed_url, f"{base}?n=3", "Twin 3"),
        ("partial",),
        "404 Not Found",
        name=RSS_NAME,
        note_has="Twin number 3 speaking.",
    )


def dated(env: Env, pub_date: str, *unwanted: str) -> Case:
    url = env.url("/item")
    feed = rss(item("The Hostile Item", url, extra=f"<pubDate>{pub_date}</pubDate>"))
    feed_url, item_url = feed_env(env, feed, page=True)
    return Case(
        rss_capture(feed_url, item_url),
        ("created",),
        "",
        name=RSS_NAME,
        note_has="Sentence 29",
        note_lacks=("published:", *unwanted),
    )


@feed_case("year-0")
def _(env: Env) -> Case:
    return dated(env, "Sat, 01 Jan 0000 00:00:00 +1400", "1400-")  # feedparser: year 1400


@feed_case("year-0-utc")
def _(env: Env) -> Case:
    return dated(env, "Sat, 01 Jan 0000 00:00:00 +0000", "0000-")


@feed_case("year-9999")
def _(env: Env) -> Case:
    return dated(env, "Fri, 31 Dec 9999 23:59:59 +0000", "9999-")


@feed_case("year-9999-past-utc")
def _(env: Env) -> Case:
    return dated(env, "Fri, 31 Dec 9999 23:59:59 -1200", "9999-", "10000-")


SCRIPTED = (
    "<p>Real words of the item, worth keeping in the note.</p>"
    "<script>alert(1)</script><p><a href='javascript:alert(2)'>click me</a></p>"
    "<p><a href='JaVaScRiPt:alert(3)'>and me</a> <img src=x onerror=alert(4)></p>"
    "<iframe src='javascript:alert(5)'></iframe>"
)


@feed_case("script-in-description")
def _(env: Env) -> Case:
    url = env.url("/item")
    escaped = SCRIPTED.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    feed_url, item_url = feed_env(env, rss(item("The Hostile Item", url, escaped)))
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        note_has="Real words of the item",
    )


@feed_case("script-in-content-encoded")
def _(env: Env) -> Case:
    url = env.url("/item")
    extra = f"<content:encoded><![CDATA[{SCRIPTED}]]></content:encoded>"
    feed_url, item_url = feed_env(env, rss(item("The Hostile Item", url, extra=extra)))
    return Case(
        rss_capture(feed_url, item_url),
        ("partial",),
        f"404 Not Found for {item_url}",
        name=RSS_NAME,
        note_has="Real words of the item",
    )


@feed_case("feed-gzip-bomb")
def _(env: Env) -> Case:
    # The feed is a bomb: recorded on the feed's source; the page is still read.
    feed_url = env.serve(
        "/feed",
        _bomb(1_000_000_000),
        content_type="application/rss+xml",
        headers={"Content-Encoding": "gzip"},
    )
    item_url = env.serve("/item")
    capture = rss_capture(feed_url, item_url, "A Fine Page")
    return Case(capture, ("created",), "", name=RSS_NAME, note_has="once decompressed (gzip)")


@feed_case("javascript-item-link")
def _(env: Env) -> Case:
    # The capture names no page: the item's link would be followed, were it a web URL.
    feed = rss(item("The Hostile Item", "javascript:alert(1)"))
    feed_url = env.serve("/feed", feed, content_type="application/rss+xml")
    return Case(rss_capture(feed_url, ""), ("partial",), 'the "Link:" line is empty', name=RSS_NAME)


@feed_case("item-links-to-loopback")
def _(env: Env) -> Case:
    # The capture names no page, and the item links to this machine: refused by default.
    feed_url, _ = feed_env(env, rss(item("The Hostile Item", env.url("/item"))), page=True)
    return Case(
        rss_capture(feed_url, ""),
        ("partial",),
        "refused: 127.0.0.1 is a loopback address",
        name=RSS_NAME,
        note_has="A description of the item.",
        check=lambda: _assert_equal(env.requests_to("/item"), 0),
    )


def links_to(env: Env, host: str) -> Case:
    """The capture names no page; the feed item links to ``host`` (this machine, or near it)."""
    port = env.httpserver.port
    feed_url, _ = feed_env(
        env, rss(item("The Hostile Item", f"http://{host}:{port}/item")), page=True
    )
    return Case(
        rss_capture(feed_url, ""),
        ("partial",),
        f"refused: {host.strip('[]')} is ",
        name=RSS_NAME,
        check=lambda: _assert_equal(env.requests_to("/item"), 0),
    )


@feed_case("item-links-to-metadata-service")
def _(env: Env) -> Case:
    return links_to(env, "169.254.169.254")


@feed_case("item-links-to-decimal-loopback")
def _(env: Env) -> Case:
    return links_to(env, "2130706433")


@feed_case("item-links-to-ipv4-mapped-loopback")
def _(env: Env) -> Case:
    return links_to(env, "[::ffff:127.0.0.1]")


@pytest.mark.parametrize("make", params(FEEDS))
def test_hostile_feed(make: CaseMaker, env: Env, run_case: Callable[[Case], list[Report]]) -> None:
    run_case(make(env))


def test_the_matrix_counts() -> None:
    """The figures docs/guarantees.md quotes: hostile network inputs, by family."""
    assert (len(URLS), len(RESPONSES), len(FEEDS)) == (7, 24, 21)
