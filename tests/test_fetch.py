"""The Fetcher, against real HTTP servers on 127.0.0.1: limits, failures, retries, cache."""

from __future__ import annotations

import gzip
import json
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from obsidian_inbox import Fetcher, FetchError
from obsidian_inbox._fetch import (
    AddressRefusedError,
    NotCachedError,
    _PublicOnlyBackend,
    _Refused,
    default_cache_dir,
    default_user_agent,
    is_public_address,
)

from .conftest import RouteTransport

HTML = b"<!DOCTYPE html><html><head><title>Hello</title></head><body><p>Hi there.</p></body></html>"


def page(httpserver: HTTPServer, path: str, body: bytes = HTML, **options: object) -> str:
    options.setdefault("content_type", "text/html; charset=utf-8")
    httpserver.expect_request(path).respond_with_data(body, **options)  # type: ignore[arg-type]
    return httpserver.url_for(path)


def requests_to(httpserver: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


def test_fetches_a_page(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(httpserver, "/a")
    result = fetcher.fetch(url)
    assert result.kind == "html"
    assert result.status == 200
    assert result.content == HTML
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert result.final_url == url
    assert not result.from_cache
    assert result.fetched_at.tzinfo is not None
    assert "Hi there." in result.text()


def test_sends_a_user_agent_naming_the_project(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    fetcher.fetch(page(httpserver, "/ua"))
    agent = httpserver.log[-1][0].headers["User-Agent"]
    assert agent == default_user_agent()
    assert agent.startswith("obsidian-inbox/")
    assert "(+https://" in agent


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "file: URL"),
        ("javascript:alert(1)", "javascript: URL"),
        ("data:text/html,<p>x</p>", "data: URL"),
        ("ftp://example.com/x", "ftp: URL"),
        ("/relative/path", "not an absolute URL"),
        ("http:///no-host", "no host"),
    ],
)
def test_refuses_other_schemes_without_a_request(fetcher: Fetcher, url: str, words: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert words in caught.value.reason
    assert not caught.value.transient
    assert caught.value.url == url


@pytest.mark.parametrize(
    ("status", "phrase"), [(404, "404 Not Found"), (410, "410 Gone"), (403, "403 Forbidden")]
)
def test_client_errors_are_permanent_and_not_retried(
    httpserver: HTTPServer, fetcher: Fetcher, status: int, phrase: str
) -> None:
    url = page(httpserver, "/gone", status=status)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert str(caught.value) == f"{phrase} for {url}"
    assert not caught.value.transient
    assert requests_to(httpserver, "/gone") == 1


def test_server_error_is_retried_then_succeeds(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_ordered_request("/flaky").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/flaky").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_data(HTML, content_type="text/html")
    result = fetcher.fetch(httpserver.url_for("/flaky"))
    assert result.content == HTML
    assert requests_to(httpserver, "/flaky") == 3


def test_server_error_that_persists_is_transient(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    url = page(httpserver, "/down", status=500)
    with pytest.raises(FetchError) as caught:
        make_fetcher(retries=2).fetch(url)
    assert caught.value.transient
    assert caught.value.reason == "500 Internal Server Error"
    assert requests_to(httpserver, "/down") == 3


def test_backoff_waits_grow_and_honour_retry_after(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    httpserver.expect_ordered_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/busy").respond_with_data("again", status=502)
    httpserver.expect_ordered_request("/busy").respond_with_data(HTML, content_type="text/html")
    waits: list[float] = []
    fetcher = make_fetcher(retry_wait=0.5, max_retry_wait=30, deadline=60, sleep=waits.append)
    assert fetcher.fetch(httpserver.url_for("/busy")).content == HTML
    assert len(waits) == 2
    assert waits[0] == 7  # Retry-After beats the shorter back-off
    assert 1.0 <= waits[1] <= 1.5  # 0.5 s doubled, with up to 50 % jitter


def test_a_retry_after_beyond_the_limit_gives_up_at_once(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    url = page(httpserver, "/later", status=503, headers={"Retry-After": "3600"})
    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        make_fetcher(retry_wait=0.5, sleep=waits.append).fetch(url)
    assert caught.value.transient
    assert "asks to wait 3.6e+03 s" in caught.value.reason
    assert waits == []
    assert requests_to(httpserver, "/later") == 1


def test_follows_a_redirect_chain(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    final = page(httpserver, "/final/")
    httpserver.expect_request("/go").respond_with_data(
        "", status=301, headers={"Location": "/step2"}
    )
    httpserver.expect_request("/step2").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/step3")}
    )
    httpserver.expect_request("/step3").respond_with_data(
        "", status=308, headers={"Location": "/final/"}
    )
    result = fetcher.fetch(httpserver.url_for("/go"))
    assert result.final_url == final
    assert result.redirects == (
        httpserver.url_for("/step2"),
        httpserver.url_for("/step3"),
        final,
    )
    assert result.url == httpserver.url_for("/go")


def test_detects_a_redirect_loop(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(httpserver.url_for("/a"))
    assert caught.value.reason.startswith("redirect loop: ")
    assert httpserver.url_for("/b") in caught.value.reason
    assert not caught.value.transient


def test_stops_after_five_redirects(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    for hop in range(8):
        httpserver.expect_request(f"/hop{hop}").respond_with_data(
            "", status=307, headers={"Location": f"/hop{hop + 1}"}
        )
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        fetcher.fetch(httpserver.url_for("/hop0"))
    assert requests_to(httpserver, "/hop6") == 0


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/"]
)
def test_refuses_a_redirect_to_another_scheme(
    httpserver: HTTPServer, fetcher: Fetcher, target: str
) -> None:
    httpserver.expect_request("/sneaky").respond_with_data(
        "", status=302, headers={"Location": target}
    )
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(httpserver.url_for("/sneaky"))
    assert "refused a redirect" in caught.value.reason
    assert not caught.value.transient


def test_a_server_that_never_answers_times_out(
    silent_server: str, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher(timeout=0.3, retries=1)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(silent_server + "page")
    assert caught.value.transient
    assert caught.value.reason == "timed out after 0.3 s waiting for data"


def test_a_dripping_server_hits_the_deadline(
    drip_server: str, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher(timeout=5.0, deadline=0.5, retries=0)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(drip_server + "drip")
    assert caught.value.transient
    assert caught.value.reason == "timed out after 0.5 s"


def _bomb(decompressed: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"\0" * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(decompressed // len(chunk))]
    return b"".join(parts) + compressor.flush()


def test_a_gzip_bomb_stops_at_the_decompressed_cap(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    bomb = _bomb(50_000_000)
    assert len(bomb) < 100_000
    url = page(httpserver, "/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as caught:
        make_fetcher(max_decoded_bytes=2_000_000).fetch(url)
    assert caught.value.reason == "response larger than 2 MB once decompressed (gzip)"
    assert not caught.value.transient


def test_a_gzip_bomb_never_fills_memory(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    """Memory stays near the cap: httpx alone inflates a 64 kB chunk of it to 64 MB at once."""
    url = page(httpserver, "/bomb-memory", _bomb(500_000_000), headers={"Content-Encoding": "gzip"})
    fetcher = make_fetcher(max_decoded_bytes=2_000_000, cache=False)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "response larger than 2 MB once decompressed (gzip)"
    assert peak < 40_000_000, f"{peak:,} bytes"  # about 150 MB before


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),  # without the zlib header, as some servers send it
        ("deflate, gzip", lambda data: gzip.compress(zlib.compress(data))),
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
        ("x-unknown", lambda data: data),  # ignored, as httpx does
    ],
)
def test_content_encodings_are_decoded(
    httpserver: HTTPServer,
    fetcher: Fetcher,
    encoding: str,
    encode: Callable[[bytes], bytes],
) -> None:
    body = HTML.replace(b"Hi there.", b"Hi there. " * 5000)
    url = page(httpserver, "/encoded", encode(body), headers={"Content-Encoding": encoding})
    assert fetcher.fetch(url).content == body


def test_a_chained_bomb_stops_at_the_cap(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    body = gzip.compress(_bomb(50_000_000))  # gzip inside gzip
    url = page(httpserver, "/bomb2", body, headers={"Content-Encoding": "gzip, gzip"})
    with pytest.raises(FetchError) as caught:
        make_fetcher(max_decoded_bytes=1_000_000).fetch(url)
    assert caught.value.reason == "response larger than 1 MB once decompressed (gzip, gzip)"


def test_gzip_pages_are_decompressed(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(httpserver, "/gz", gzip.compress(HTML), headers={"Content-Encoding": "gzip"})
    assert fetcher.fetch(url).content == HTML


def test_a_huge_page_is_refused_from_its_content_length(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    url = page(httpserver, "/huge", b"<p>" + b"x" * 300_000)
    with pytest.raises(FetchError) as caught:
        make_fetcher(max_bytes=100_000).fetch(url)
    assert caught.value.reason == "response larger than 100 kB (Content-Length: 300,003 bytes)"


def test_a_huge_streamed_page_is_refused_while_streaming(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    sent: list[int] = []

    def endless(request: Request) -> Response:
        def body():  # no Content-Length: sent chunked
            for _ in range(10_000):
                sent.append(1)
                yield b"<p>" + b"x" * 10_000 + b"</p>"

        return Response(body(), content_type="text/html")

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with pytest.raises(FetchError) as caught:
        make_fetcher(max_bytes=100_000).fetch(httpserver.url_for("/stream"))
    assert caught.value.reason == "response larger than 100 kB"
    assert len(sent) < 10_000


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("application/pdf", b"%PDF-1.4\n" + b"\0" * 5000, "attachment"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "attachment"),
        ("application/octet-stream", b"%PDF-1.7\n" + b"x" * 2000, "attachment"),
        ("application/octet-stream", b"<!DOCTYPE html><html><body>" + b"x" * 2000, "html"),
        (
            "text/plain",
            b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
            "feed",
        ),
        ("", b"<html><body><p>no content type</p></body></html>", "html"),
        ("application/rss+xml", b"<rss/>", "feed"),
        ("application/atom+xml; charset=utf-8", b"<feed/>", "feed"),
        ("application/xhtml+xml", b"<html/>", "html"),
        (
            "application/octet-stream",
            b'<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<!-- hi -->\n<feed xmlns="http://www.w3.org/2005/Atom"/>',
            "feed",
        ),
        ("application/octet-stream", b"plain words, neither page nor feed " * 40, "attachment"),
    ],
)
def test_content_types(
    httpserver: HTTPServer, fetcher: Fetcher, content_type: str, body: bytes, kind: str
) -> None:
    httpserver.expect_request("/thing").respond_with_response(
        Response(body, headers={"Content-Type": content_type} if content_type else {})
    )
    result = fetcher.fetch(httpserver.url_for("/thing"))
    assert result.kind == kind
    if kind == "attachment":
        assert result.content == b""
    else:
        assert result.content == body


CP1252 = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    "<title>Caf\u00e9</title></head><body><p>It\u2019s \u201cquoted\u201d \u2014 \u20ac5 caf\u00e9</p></body></html>"
)


def test_windows_1252_declared_only_in_meta_reads_right(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    url = page(httpserver, "/legacy", CP1252.encode("cp1252"), content_type="text/html")
    text = fetcher.fetch(url).text()
    assert "It\u2019s \u201cquoted\u201d \u2014 \u20ac5 caf\u00e9" in text


def test_a_wrong_http_charset_is_overruled(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(
        httpserver, "/wrong", CP1252.encode("cp1252"), content_type="text/html; charset=utf-8"
    )
    assert "\u20ac5 caf\u00e9" in fetcher.fetch(url).text()


def test_the_cache_serves_a_second_fetch(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(httpserver, "/cached")
    first = fetcher.fetch(url)
    second = fetcher.fetch(url + "?utm_source=rss")  # the same page, canonically
    assert second.from_cache
    assert second.content == first.content
    assert second.fetched_at == first.fetched_at
    assert requests_to(httpserver, "/cached") == 1
    fresh = fetcher.fetch(url, refresh=True)
    assert not fresh.from_cache
    assert requests_to(httpserver, "/cached") == 2


def test_the_cache_keeps_redirects_and_serves_offline(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    final = page(httpserver, "/moved/")
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/moved/"}
    )
    make_fetcher().fetch(httpserver.url_for("/old"))
    requests = len(httpserver.log)
    offline = make_fetcher(offline=True)
    result = offline.fetch(httpserver.url_for("/old"))
    assert result.from_cache
    assert result.final_url == final
    assert len(httpserver.log) == requests
    with pytest.raises(NotCachedError, match="not in the cache"):
        offline.fetch(httpserver.url_for("/never-fetched"))
    assert len(httpserver.log) == requests


def test_connection_pools_are_made_on_the_first_fetch_that_needs_them(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    # Each pool loads the CA certificates (some 30 ms): an offline run needs none.
    url = page(httpserver, "/p/")
    make_fetcher().fetch(url)
    offline = make_fetcher(offline=True)
    assert offline.fetch(url).from_cache
    with pytest.raises(NotCachedError):
        offline.fetch(httpserver.url_for("/never-fetched"))
    assert offline._clients == {}
    online = make_fetcher(cache=False)
    online.fetch(url)
    assert list(online._clients) == [True]
    with pytest.raises(FetchError, match="loopback address"):
        online.fetch(url, allow_private=False)
    private, public = online._clients[True], online._clients[False]
    assert private is not public  # a private connection is never reused for a public fetch
    online.close()
    assert online._clients == {}
    assert private.is_closed
    assert public.is_closed
    with pytest.raises(RuntimeError, match="closed"):  # none is made again behind close()
        online.fetch(url)


def test_failures_are_not_cached(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(httpserver, "/missing", status=404)
    for _ in range(2):
        with pytest.raises(FetchError):
            fetcher.fetch(url)
    assert requests_to(httpserver, "/missing") == 2


def test_the_cache_can_be_switched_off(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher(cache=False)
    url = page(httpserver, "/nocache")
    fetcher.fetch(url)
    assert not fetcher.fetch(url).from_cache
    assert fetcher.cache_path is None
    assert requests_to(httpserver, "/nocache") == 2


def test_the_default_cache_folder_follows_the_environment(isolated_cache: Path) -> None:
    assert default_cache_dir() == isolated_cache
    with Fetcher() as fetcher:
        assert fetcher.cache_path == isolated_cache / "http-cache.sqlite3"


def test_concurrent_fetches_of_one_url_make_one_request(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.05)
        return Response(HTML, content_type="text/html")

    httpserver.expect_request("/popular").respond_with_handler(slow)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: fetcher.fetch(httpserver.url_for("/popular")), range(8)))
    assert {r.content for r in results} == {HTML}
    assert requests_to(httpserver, "/popular") == 1


def test_requests_to_one_host_are_limited(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def counted(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return Response(HTML, content_type="text/html")

    for number in range(12):
        httpserver.expect_request(f"/p{number}").respond_with_handler(counted)
    fetcher = make_fetcher(per_host=2, cache=False)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda n: fetcher.fetch(httpserver.url_for(f"/p{n}")), range(12)))
    assert 1 <= state["most"] <= 2


def test_an_injected_transport_routes_requests(make_fetcher: Callable[..., Fetcher]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, html=HTML.decode())

    fetcher = make_fetcher(transport=httpx.MockTransport(handler))
    result = fetcher.fetch("https://example.org/article")
    assert result.kind == "html"
    assert seen == ["https://example.org/article"]


def test_a_refused_connection_is_transient(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    fetcher = make_fetcher(transport=httpx.MockTransport(handler), retries=1)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch("https://example.org/")
    assert caught.value.transient
    assert caught.value.reason == "cannot connect: [Errno 111] Connection refused"


def test_json_is_not_a_page(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/api").respond_with_data(
        json.dumps({"a": 1}), content_type="application/json"
    )
    assert fetcher.fetch(httpserver.url_for("/api")).kind == "attachment"


def test_a_text_xml_feed_reads_its_xml_declaration(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    from obsidian_inbox._extract import parse_feed

    body = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Caf\u00e9</title></channel></rss>'
    url = page(httpserver, "/feed.xml", body.encode(), content_type="text/xml")
    result = fetcher.fetch(url)
    assert result.kind == "feed"
    assert result.headers == {"content-type": "application/xml", "content-location": url}
    assert parse_feed(result.content, url=url, headers=result.headers).title == "Caf\u00e9"


def test_an_unusable_cache_is_left_alone(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher], tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    fetcher = make_fetcher(cache=blocked)
    url = page(httpserver, "/uncached")
    assert fetcher.fetch(url).content == HTML
    assert not fetcher.fetch(url).from_cache


def test_retry_after_as_a_date(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    import email.utils

    later = email.utils.formatdate(time.time() + 5, usegmt=True)
    httpserver.expect_ordered_request("/dated").respond_with_data(
        "", status=503, headers={"Retry-After": later}
    )
    httpserver.expect_ordered_request("/dated").respond_with_data(HTML, content_type="text/html")
    waits: list[float] = []
    make_fetcher(retry_wait=0.1, sleep=waits.append).fetch(httpserver.url_for("/dated"))
    assert len(waits) == 1
    assert 3 <= waits[0] <= 5


def test_a_broken_gzip_body(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    url = page(
        httpserver, "/broken-gzip", b"this is not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.reason.startswith("cannot decode the response")
    assert not caught.value.transient


def test_small_limits_are_named_in_bytes(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    url = page(httpserver, "/small", b"<p>" + b"x" * 1000)
    with pytest.raises(
        FetchError, match=r"response larger than 500 bytes \(Content-Length: 1,003 bytes\)"
    ):
        make_fetcher(max_bytes=500).fetch(url)


def test_an_invalid_url(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not a valid URL"):
        fetcher.fetch("http://[::1/")


def test_the_default_cache_folder_is_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("OBSIDIAN_INBOX_CACHE_DIR")
    assert default_cache_dir() == Path(platformdirs.user_cache_dir("obsidian-inbox"))


@pytest.fixture
def stalling_server() -> Iterator[str]:
    """A server that sends its headers and a little of the body, then nothing more."""
    import socket

    from .conftest import _serve_socket

    def handle(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>"
            )
            time.sleep(30)
        except OSError:
            pass

    yield from _serve_socket(handle)


def test_a_server_that_stalls_mid_body_times_out(
    stalling_server: str, make_fetcher: Callable[..., Fetcher]
) -> None:
    with pytest.raises(FetchError) as caught:
        make_fetcher(timeout=0.3, retries=0).fetch(stalling_server + "stall")
    assert caught.value.transient
    assert caught.value.reason == "timed out after 0.3 s waiting for data"


# --- private addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("::ffff:93.184.215.14", True),  # IPv4-mapped: judged by the IPv4 address
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("127.255.0.9", False),
        ("169.254.169.254", False),  # the cloud metadata service
        ("0.0.0.0", False),  # noqa: S104 - an address to judge, not to bind
        ("100.64.0.1", False),  # carrier-grade NAT
        ("224.0.0.1", False),  # multicast: not "private", still refused
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
        ("localhost", "refused: localhost is this machine (a loopback address)"),
        ("[::1]", "refused: ::1 is a loopback address"),
        ("[::ffff:127.0.0.1]", "refused: ::ffff:127.0.0.1 is a loopback address"),
        ("169.254.169.254", "refused: 169.254.169.254 is a link-local address"),
        ("10.0.0.1", "refused: 10.0.0.1 is a private address"),
        ("2130706433", "refused: 2130706433 is 127.0.0.1, a loopback address"),
        ("0x7f.1", "refused: 0x7f.1 is 127.0.0.1, a loopback address"),
        ("017700000001", "refused: 017700000001 is 127.0.0.1, a loopback address"),
        ("10.1", "refused: 10.1 is 10.0.0.1, a private address"),
    ],
)
def test_private_hosts_are_refused_without_a_request(
    httpserver: HTTPServer, fetcher: Fetcher, host: str, reason: str
) -> None:
    port = httpserver.port
    url = f"http://{host}:{port}/secret"
    with pytest.raises(AddressRefusedError) as caught:
        fetcher.fetch(url, allow_private=False)
    assert caught.value.reason == reason
    assert not caught.value.transient
    assert str(caught.value) == f"{reason} for {url}"
    assert httpserver.log == []


def test_the_same_url_is_fetched_when_private_addresses_are_allowed(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    url = page(httpserver, "/own")
    fetcher = make_fetcher(cache=False)
    result = fetcher.fetch(url)  # allow_private is the default: the user's own URL
    assert result.addresses == ("127.0.0.1",)
    assert not result.public
    # The connection now in the pool is not reused by a fetch that refuses private addresses.
    with pytest.raises(AddressRefusedError):
        fetcher.fetch(url, allow_private=False)
    assert requests_to(httpserver, "/own") == 1


def test_the_backend_checks_the_resolved_address(httpserver: HTTPServer) -> None:
    """A name is resolved once, and refused for what it resolves to (before connecting)."""
    backend = _PublicOnlyBackend()
    with pytest.raises(_Refused) as caught:
        backend.connect_tcp("localhost", httpserver.port, timeout=5)
    assert caught.value.reason.startswith("refused: localhost resolves to a loopback address (")
    assert httpserver.log == []


def test_the_fetcher_refuses_what_a_name_resolves_to(
    httpserver: HTTPServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the up-front check of the host's spelling, the connection itself is refused."""
    monkeypatch.setattr("obsidian_inbox._fetch._literal_refusal", lambda host: None)
    with pytest.raises(AddressRefusedError) as caught:
        fetcher.fetch(
            page(httpserver, "/named").replace("127.0.0.1", "localhost"), allow_private=False
        )
    assert caught.value.reason.startswith("refused: localhost resolves to a loopback address (")
    assert httpserver.log == []


def test_a_redirect_to_a_private_address_is_refused(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    """A public site (routed here by the transport) redirecting to 127.0.0.1 is refused."""
    target = page(httpserver, "/internal")
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": target}
    )
    fetcher = make_fetcher(
        transport=RouteTransport({"public.example": httpserver.url_for("/")}), cache=False
    )
    with pytest.raises(AddressRefusedError) as caught:
        fetcher.fetch("http://public.example/start", allow_private=False)
    assert caught.value.reason == (
        f"refused: 127.0.0.1 is a loopback address (redirected to {target})"
    )
    assert requests_to(httpserver, "/start") == 1
    assert requests_to(httpserver, "/internal") == 0
    assert fetcher.fetch("http://public.example/start").final_url == target  # allowed


def test_offline_a_cached_private_page_is_refused(
    httpserver: HTTPServer, make_fetcher: Callable[..., Fetcher], isolated_cache: Path
) -> None:
    url = page(httpserver, "/cached-private")
    make_fetcher().fetch(url)
    offline = make_fetcher(offline=True)
    assert offline.fetch(url).content == HTML
    with pytest.raises(AddressRefusedError) as caught:
        offline.fetch(url, allow_private=False)
    assert caught.value.reason == "refused: 127.0.0.1 is a loopback address"
