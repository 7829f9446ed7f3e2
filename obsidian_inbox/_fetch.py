"""Fetching web resources safely: the :class:`Fetcher` (I/O; the only module on the network).

Limits, all enforced while the response streams in (never after):

- only ``http`` and ``https``; any other scheme, also as a redirect target, is refused;
- a timeout per phase (connect, read, write, pool) and a total deadline per URL, which
  covers redirects, retries and the waits between them;
- at most 5 redirects, and a loop is reported as such;
- a cap on the bytes downloaded (``Content-Length`` is checked first) and a cap on the
  bytes after decompression, so a decompression bomb stops at the cap (decompressed
  here, a little at a time, so memory never holds much more than the cap);
- a content-type check: HTML and XML feeds are read; a PDF or other file is recorded as
  an ``attachment`` and its body is not downloaded;
- retries with exponential back-off on timeouts, connection errors, 429 and 5xx,
  honouring ``Retry-After``; none on other 4xx;
- a limit of concurrent requests per host, on top of the pipeline's overall limit;
- an on-disk cache (``hishel``'s SQLite storage, under the user cache folder or
  ``$OBSIDIAN_INBOX_CACHE_DIR``), keyed by the URL as asked for, so a rerun or a
  capture retried later fetches nothing again, and ``offline`` serves from it alone;
- on request (``allow_private=False``), no connection to a private, loopback,
  link-local or otherwise non-global address, checked after DNS resolution on every
  connection, redirects included.

Private addresses: a fetch with ``allow_private=False`` goes through its own connection
pool, whose network backend resolves the host, refuses it when any of its addresses is
not global (:func:`is_public_address`), and connects to the address it checked (never
resolving twice, so a name that changes its answer in between, "DNS rebinding", cannot
slip through); the connected socket's peer address is checked again. Limits: behind an
HTTP(S) or SOCKS proxy (``HTTPS_PROXY``, ...) the proxy resolves names, so only hosts
written as IP addresses or ``localhost`` can be refused; the same holds with an injected
``transport``.

Every failure is a :class:`~obsidian_inbox.FetchError` whose reason names the cause
(``"404 Not Found"``, ``"timed out after 30 s"``, ``"response larger than 10 MB"``) and
whose ``transient`` flag says whether a later run may do better.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import random
import re
import socket
import sqlite3
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, NoReturn

import attrs
import hishel
import httpcore
import httpx
import platformdirs

from ._errors import AddressRefusedError, FetchError
from ._urls import canonical_url, is_web_url

__all__ = [
    "CACHE_ENV",
    "DEFAULT_MAX_BYTES",
    "AddressRefusedError",
    "FetchResult",
    "Fetcher",
    "KeyedLocks",
    "NotCachedError",
    "ResourceKind",
    "default_cache_dir",
    "default_user_agent",
    "is_public_address",
]

logger = logging.getLogger(__name__)

#: The environment variable naming the cache folder (default: the user cache folder).
CACHE_ENV = "OBSIDIAN_INBOX_CACHE_DIR"
#: Responses larger than this (downloaded, or once decompressed) are refused.
DEFAULT_MAX_BYTES = 10_000_000
_CACHE_FILE = "http-cache.sqlite3"
_PROJECT_URL = "https://obsidian-inbox.readthedocs.io/"
_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
_SNIFF_BYTES = 1024

#: What a response holds: a web page, a feed, or a file that is neither (PDF, image, …).
ResourceKind = Literal["html", "feed", "attachment"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
# Types servers use for anything: look at the first bytes to tell.
_VAGUE_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)\b")
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)


def default_user_agent() -> str:
    """Return the User-Agent sent with every request: the project, its version and URL."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("obsidian-inbox")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        release = "0"
    return f"obsidian-inbox/{release} (+{_PROJECT_URL})"


def default_cache_dir() -> Path:
    """Return the folder of the HTTP cache: ``$OBSIDIAN_INBOX_CACHE_DIR`` or the user cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("obsidian-inbox"))


def _size(count: int) -> str:
    """``10_000_000`` → ``"10 MB"``."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _seconds(value: float) -> str:
    return f"{value:.3g} s"


def _media_type(content_type: str) -> tuple[str, str | None]:
    """Split a Content-Type header into its lower-cased media type and its charset."""
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip("\"'"):
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def _kind_of(media: str) -> ResourceKind | None:
    """Tell what a media type holds; None when only the body can tell."""
    if media in _HTML_TYPES:
        return "html"
    if media in _FEED_TYPES or (media.endswith(("+xml", "/xml")) and "rss" in media):
        return "feed"
    if media in _VAGUE_TYPES:
        return None
    return "attachment"


def _sniff(head: bytes) -> ResourceKind:
    """Tell a body's kind from its first bytes (for vague or missing content types).

    Whichever comes first wins: a feed's root element (after any XML declaration,
    processing instructions, comments or DOCTYPE) or the start of an HTML page.
    """
    if b"\0" in head[:512] or head.startswith(b"%PDF"):
        return "attachment"
    feed, page = _FEED_ROOT.search(head), _HTML_ROOT.search(head)
    if feed and (page is None or feed.start() < page.start()):
        return "feed"
    if page:
        return "html"
    return "attachment"


@attrs.frozen(kw_only=True)
class FetchResult:
    """A fetched resource.

    Attributes:
        url: The URL as asked for.
        final_url: Where it was found, after redirects.
        status: The HTTP status of the final response.
        kind: ``"html"``, ``"feed"`` or ``"attachment"`` (whose content is not downloaded).
        content_type: The media type, lower-cased, without parameters.
        charset: The charset the ``Content-Type`` header declared, if any.
        content: The body, decompressed (empty for an attachment).
        fetched_at: When it was fetched from the network (UTC).
        from_cache: True when it came from the on-disk cache.
        redirects: The URLs redirected through, in order.
        addresses: The IP addresses the responses came from, in order (when known).
    """

    url: str
    final_url: str
    status: int
    kind: ResourceKind
    content_type: str
    charset: str | None = None
    content: bytes = attrs.field(default=b"", repr=False)
    fetched_at: dt.datetime
    from_cache: bool = False
    redirects: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        """True unless a response came from a private, loopback, … address (see ``is_public_address``)."""
        return all(is_public_address(address) for address in self.addresses)

    @property
    def headers(self) -> dict[str, str]:
        """Response headers to hand a parser (``Content-Type`` and ``Content-Location``).

        A feed served as ``text/xml`` without a charset is passed on as ``application/xml``
        (RFC 7303): feedparser would otherwise read it as US-ASCII (RFC 3023) whatever its
        XML declaration says.
        """
        content_type = self.content_type
        if self.charset:
            content_type += f"; charset={self.charset}"
        elif self.kind == "feed" and content_type.startswith("text/"):
            content_type = "application/xml"
        return {"content-type": content_type, "content-location": self.final_url}

    def text(self) -> str:
        """Return the body decoded: HTTP charset, then ``<meta charset>``, then detection."""
        from ._extract import decode_html

        return decode_html(self.content, http_charset=self.charset)


class _TooLarge(Exception):
    """Decompressing would give more bytes than allowed."""


class _Inflater:
    """One ``gzip`` or ``deflate`` stage, producing at most the bytes allowed per call."""

    def __init__(self, name: str) -> None:
        self._deflate = name == "deflate"
        self._first = True
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | (0 if self._deflate else 16))

    def decompress(self, data: bytes, room: int) -> bytes:
        first, self._first = self._first, False
        try:
            out = self._zlib.decompress(data, max(room, 0) + 1)
        except zlib.error:
            if not (self._deflate and first):
                raise
            # "deflate" is often sent raw, without its zlib header (as httpx allows).
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, max(room, 0) + 1)
        if len(out) > room or self._zlib.unconsumed_tail:
            raise _TooLarge
        return out

    def flush(self, room: int) -> bytes:
        out = self._zlib.flush()
        if len(out) > room:
            raise _TooLarge
        return out


class _BoundedDecoder:
    """Undo a ``Content-Encoding`` as the body streams in, never past the bytes allowed.

    httpx decompresses each chunk read in one go: a 64 kB chunk of a gzip bomb becomes
    64 MB in memory before a cap can look at it. Here each stage asks zlib for at most
    one byte more than the room left, so memory stays within the cap. Encodings other
    than ``gzip`` and ``deflate`` are ignored, as httpx ignores those it cannot decode.
    """

    def __init__(self, content_encoding: str) -> None:
        names = [name.strip().lower() for name in content_encoding.split(",")]
        self._stages = [_Inflater(name) for name in reversed(names) if name in {"gzip", "deflate"}]

    def decode(self, data: bytes, room: int) -> bytes:
        for stage in self._stages:
            data = stage.decompress(data, room)
        return data

    def flush(self, room: int) -> bytes:
        data = b""
        for stage in self._stages:
            data = stage.decompress(data, room) + stage.flush(room) if data else stage.flush(room)
        return data


class _Retry(Exception):
    """An attempt failed in a way a later attempt may not."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(error.reason)
        self.error = error
        self.retry_after = retry_after


@attrs.define
class _Flight:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    waiting: int = 0


class KeyedLocks:
    """Locks by key, made on demand and dropped when no thread holds or waits for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock of ``key`` (other threads asking for the same key wait)."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight()
            flight.waiting += 1
        try:
            with flight.lock:
                yield
        finally:
            with self._lock:
                flight.waiting -= 1
                if not flight.waiting:
                    del self._flights[key]


class NotCachedError(FetchError):
    """Offline, and the cache does not hold the URL (not a failure of the URL itself)."""


def _fail(
    error: FetchError, *, retry_after: float | None = None, cause: BaseException | None = None
) -> NoReturn:
    """Raise ``error``, wrapped for a retry when it is transient."""
    if cause is not None:
        error.__cause__ = cause
    if error.transient:
        raise _Retry(error, retry_after) from cause
    raise error from cause


def _retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _scheme_error(url: str, *, redirect: bool = False) -> FetchError | None:
    if is_web_url(url):  # the common case (is_web_url remembers its answers)
        return None
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return FetchError(url, "not a valid URL")
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"} and parts.hostname:
        return None
    what = f"a {scheme}: URL" if scheme else "not an absolute URL"
    if redirect:
        return FetchError(url, f"refused a redirect to {what} (only http and https are followed)")
    if scheme in {"http", "https"}:
        return FetchError(url, "not a valid URL: it has no host")
    return FetchError(url, f"refused: {what} (only http and https URLs are fetched)")


# --- private addresses ------------------------------------------------------------------

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: NAT64's well-known prefix: the last 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, NAT64, 6to4 or Teredo."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ip.teredo[1] if ip.teredo is not None else None


def _address_kind(ip: _IPAddress) -> str | None:
    """Name what kind of non-public address ``ip`` is; None for a public (global) one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            kind = _address_kind(embedded)
            if kind is not None or ip.ipv4_mapped is not None or ip in _NAT64:
                return kind
    for kind, test in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared (carrier-grade NAT)", ip in _SHARED),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private or not ip.is_global),
    ):
        if test:
            return kind
    return None


def is_public_address(address: str | _IPAddress) -> bool:
    """Tell whether an IP address is public: not private, loopback, link-local, multicast, ...

    An IPv6 address that stands for an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is
    judged by it too.

    >>> is_public_address("93.184.215.14"), is_public_address("10.0.0.1")
    (True, False)
    >>> is_public_address("::ffff:127.0.0.1"), is_public_address("100.64.0.1")
    (False, False)
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    return _address_kind(ip) is None


def _refusal(host: str, address: str) -> str | None:
    """The reason to refuse ``host`` at ``address``; None when the address is public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"refused: {host} resolves to {address!r}, not an IP address"
    kind = _address_kind(ip)
    if kind is None:
        return None
    if host.strip("[]") == address:
        return f"refused: {address} is a {kind} address"
    return f"refused: {host} resolves to a {kind} address ({address})"


_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")


def _literal_refusal(host: str) -> str | None:
    """Refuse, without resolving anything, a host written as a non-public IP or ``localhost``.

    IPv4 addresses in the forms the C library also reads (``2130706433``, ``0x7f.1``,
    ``127.1``, octal) count as written, as they never reach DNS.
    """
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"refused: {host} is this machine (a loopback address)"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        if not _NUMERIC_HOST.fullmatch(name) or not any(c.isdigit() for c in name):
            return None
        try:
            address = str(ipaddress.IPv4Address(socket.inet_aton(name)))
        except OSError:
            return None
        kind = _refusal(address, address)
        return None if kind is None else f"refused: {host} is {address}, {kind.split(' is ', 1)[1]}"
    return _refusal(name, name)


class _Refused(Exception):
    """Raised by :class:`_PublicOnlyBackend` (through httpcore and httpx, unwrapped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PublicOnlyBackend(httpcore.NetworkBackend):
    """A network backend that connects only to public addresses.

    It resolves the host once, refuses it when any of its addresses is not public, and
    connects to the addresses it checked, in order (so the name is never resolved again
    between the check and the connection); the connected peer is checked once more.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = _refusal(host, address)
            if reason is not None:
                raise _Refused(reason)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            peer = stream.get_extra_info("server_addr")
            reason = _refusal(host, str(peer[0]) if peer else "unknown")
            if reason is not None:  # pragma: no cover - the socket went where it was sent
                stream.close()
                raise _Refused(reason)
            return stream
        raise failure

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _public_only_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """Return an httpx transport whose connections go to public addresses only."""
    transport = httpx.HTTPTransport(limits=limits)
    # httpx does not take a network backend: give its connection pool ours. Checked, so
    # that an httpx release that renames these fails loudly rather than guards nothing.
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError(
            "this httpx release cannot be given a network backend"
        )  # pragma: no cover
    pool._network_backend = _PublicOnlyBackend()
    return transport


def _server_address(response: httpx.Response) -> str | None:
    """The IP address a response came from, when the transport tells."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    with contextlib.suppress(OSError, AttributeError, TypeError, IndexError):
        peer = stream.get_extra_info("server_addr")
        if peer:
            return str(peer[0])
    return None


class _Cache:
    """The HTTP cache: fetched bodies in ``hishel``'s SQLite storage, keyed by the URL asked for.

    The storage is used directly rather than through ``hishel``'s transport so that an
    entry holds the end of a redirect chain under the URL the capture named, which is
    what a later run (or an offline run) asks for. A cache that cannot be used (a folder
    that cannot be written, a database from something else) is logged and then left
    alone: fetching goes on without it.
    """

    def __init__(self, path: Path, *, ttl: float | None, max_bytes: int) -> None:
        self.path = path
        self._storage = hishel.SqliteStorage(
            database_path=path, default_ttl=ttl, max_stream_size=max_bytes
        )
        self._broken = False

    @staticmethod
    def _key(url: str) -> str:
        return hashlib.sha256(f"obsidian-inbox GET {canonical_url(url)}".encode()).hexdigest()

    def _failed(self, action: str, exc: Exception) -> None:
        if not self._broken:
            logger.warning(
                "HTTP cache %s: cannot %s (%s); going on without it", self.path, action, exc
            )
        self._broken = True

    def get(self, url: str) -> FetchResult | None:
        if self._broken:
            return None
        try:
            entries = self._storage.get_entries(self._key(url))
        except (RuntimeError, OSError, sqlite3.Error) as exc:
            self._failed("read", exc)
            return None
        for entry in entries:
            try:
                meta = json.loads(entry.response.headers["x-obsidian-inbox"])
                stream = entry.response.stream
                assert isinstance(stream, Iterator)
                return FetchResult(
                    url=url,
                    final_url=meta["final_url"],
                    status=entry.response.status_code,
                    kind=meta["kind"],
                    content_type=meta["content_type"],
                    charset=meta["charset"],
                    content=b"".join(stream),
                    fetched_at=dt.datetime.fromisoformat(meta["fetched_at"]),
                    from_cache=True,
                    redirects=tuple(meta["redirects"]),
                    addresses=tuple(meta.get("addresses", ())),
                )
            except (KeyError, ValueError, TypeError, RuntimeError) as exc:
                logger.warning("dropping an unreadable cache entry for %s: %s", url, exc)
                self._storage.remove_entry(entry.id)
        return None

    def put(self, result: FetchResult, *, replace: bool = False) -> None:
        if self._broken:
            return
        meta = {
            "final_url": result.final_url,
            "kind": result.kind,
            "content_type": result.content_type,
            "charset": result.charset,
            "fetched_at": result.fetched_at.isoformat(),
            "redirects": list(result.redirects),
            "addresses": list(result.addresses),
        }
        try:
            if replace:
                for old in self._storage.get_entries(self._key(result.url)):
                    self._storage.remove_entry(old.id)
            entry = self._storage.create_entry(
                hishel.Request(method="GET", url=result.url),
                hishel.Response(
                    status_code=result.status,
                    headers=hishel.Headers({"x-obsidian-inbox": json.dumps(meta)}),
                    stream=iter([result.content]),
                ),
                self._key(result.url),
            )
            stream = entry.response.stream
            assert isinstance(stream, Iterator)
            for _ in stream:  # the storage saves the body as it is read
                pass
        except (RuntimeError, OSError, sqlite3.Error) as exc:
            self._failed("write", exc)

    def close(self) -> None:
        self._storage.close()


class Fetcher:
    """Fetch web pages and feeds over HTTP(S), safely, with a cache; usable from many threads.

    Args:
        timeout: Seconds allowed for each phase (connect, read a chunk, write, wait for a
            pooled connection), or an :class:`httpx.Timeout`.
        deadline: Seconds allowed for a URL in all: redirects, retries and waits.
        max_bytes: Refuse a response whose body is larger than this on the wire.
        max_decoded_bytes: Refuse a response larger than this once decompressed.
        max_redirects: Follow at most this many redirects.
        retries: Try a transient failure (timeout, connection error, 429, 5xx) again
            this many times.
        retry_wait: The first back-off wait in seconds, doubled each time (with
            jitter); ``Retry-After`` is honoured up to ``max_retry_wait``. ``0`` never
            waits (for tests).
        max_retry_wait: The longest wait before a retry.
        per_host: How many requests may be in flight to one host at once.
        cache: Keep responses in an on-disk cache: ``True`` for the default folder
            (``$OBSIDIAN_INBOX_CACHE_DIR``, else the user cache folder), a folder, or
            ``False`` for none.
        cache_ttl: Seconds a cached response is served before it is fetched again.
        offline: Serve from the cache only; anything else fails with
            ``"not in the cache (offline)"``.
        transport: An :class:`httpx.BaseTransport` to send requests through (tests use
            one aimed at a local server, or :class:`httpx.MockTransport`).
        user_agent: The User-Agent header (default: ``obsidian-inbox/<version> (+<docs URL>)``).
        sleep: Called to wait before a retry (tests pass a recorder).
    """

    def __init__(
        self,
        *,
        timeout: float | httpx.Timeout = 20.0,
        deadline: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_decoded_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        retries: int = 2,
        retry_wait: float = 1.0,
        max_retry_wait: float = 20.0,
        per_host: int = 6,
        cache: bool | str | os.PathLike[str] = True,
        cache_ttl: float | None = 7 * 86400.0,
        offline: bool = False,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=min(10.0, timeout))
        )
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_decoded_bytes = max_decoded_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.retry_wait = retry_wait
        self.max_retry_wait = max_retry_wait
        self.per_host = per_host
        self.offline = offline
        self._sleep = sleep
        #: When this fetcher was made: cached responses older than this come from an earlier run.
        self.started_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=32)
        options: dict[str, Any] = {
            "headers": {"User-Agent": user_agent or default_user_agent(), "Accept": _ACCEPT},
            "timeout": self.timeout,
            "follow_redirects": False,
            "limits": limits,
        }
        self._transport = transport
        self._client_options = options
        # The clients are made on the first fetch (each loads the CA certificates, some
        # 30 ms): an offline run, or one whose pages are all cached, never makes them.
        self._clients: dict[bool, httpx.Client] = {}
        self._closed = False
        self._cache: _Cache | None = None
        if cache is not False:
            folder = default_cache_dir() if cache is True else Path(cache)
            self._cache = _Cache(folder / _CACHE_FILE, ttl=cache_ttl, max_bytes=max_decoded_bytes)
        self._lock = threading.Lock()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._flights = KeyedLocks()

    def __repr__(self) -> str:
        cache = self._cache.path if self._cache else None
        return f"Fetcher(cache={str(cache)!r}, offline={self.offline})"

    @property
    def cache_path(self) -> Path | None:
        """The cache's database file, or None when there is no cache."""
        return self._cache.path if self._cache else None

    def close(self) -> None:
        """Close the connections and the cache."""
        with self._lock:
            clients, self._clients, self._closed = self._clients, {}, True
        for client in clients.values():
            client.close()
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> Fetcher:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the public verb ------------------------------------------------------------

    def fetch(self, url: str, *, refresh: bool = False, allow_private: bool = True) -> FetchResult:
        """Return the resource at ``url``, from the cache when it holds it.

        Args:
            url: An ``http`` or ``https`` URL.
            refresh: Ignore (and replace) a cached copy; ignored when offline.
            allow_private: Connect to private, loopback, link-local and other non-public
                addresses (checked after DNS resolution, on every redirect); ``False``
                for URLs found in fetched content, which must not reach the local network.

        Raises:
            FetchError: The URL was refused or could not be fetched; ``transient`` tells
                whether a later attempt may succeed; an ``AddressRefusedError`` when
                ``allow_private`` is false and the URL leads to a non-public address.
        """
        error = _scheme_error(url)
        if error is not None:
            raise error
        if self.offline:  # nothing is fetched, so nothing is fetched twice: no lock
            return self._from_cache_only(url, allow_private=allow_private)
        with self._flights.hold(canonical_url(url)):
            if self._cache is not None and not refresh:
                cached = self._cache.get(url)
                if cached is not None and (allow_private or cached.public):
                    return cached
            result = self._fetch_with_retries(url, allow_private=allow_private)
            if self._cache is not None:
                self._cache.put(result, replace=refresh)
            return result

    def _from_cache_only(self, url: str, *, allow_private: bool) -> FetchResult:
        """:meth:`fetch` offline: the cached copy, if any."""
        cached = self._cache.get(url) if self._cache is not None else None
        if cached is None:
            raise NotCachedError(url, "not in the cache (offline)")
        if allow_private or cached.public:
            return cached
        private = next(a for a in cached.addresses if not is_public_address(a))
        host = urllib.parse.urlsplit(cached.final_url).hostname or private
        raise AddressRefusedError(url, _refusal(host, private) or "refused")

    # --- concurrency ----------------------------------------------------------------

    def _host_slot(self, url: httpx.URL) -> threading.BoundedSemaphore:
        host = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
        with self._lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.BoundedSemaphore(self.per_host)
            return slot

    # --- retries --------------------------------------------------------------------

    def _fetch_with_retries(self, url: str, *, allow_private: bool) -> FetchResult:
        deadline = time.monotonic() + self.deadline
        attempt = 0
        while True:
            try:
                return self._fetch_once(url, deadline, allow_private=allow_private)
            except _Retry as retry:
                error, asked = retry.error, retry.retry_after
                wait = self._wait(attempt, asked)
                left = deadline - time.monotonic()
                too_long = asked is not None and asked > min(self.max_retry_wait, left)
                if too_long:
                    reason = f"{error.reason} (the server asks to wait {_seconds(asked or 0)})"
                    raise FetchError(url, reason, transient=True) from error
                if attempt >= self.retries or wait >= left:
                    raise error from error.__cause__
                attempt += 1
                logger.info(
                    "%s: %s; retry %d of %d in %s",
                    url,
                    error.reason,
                    attempt,
                    self.retries,
                    _seconds(wait),
                )
                if wait > 0:
                    self._sleep(wait)

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if self.retry_wait <= 0:
            return 0.0
        backoff = self.retry_wait * 2.0**attempt * random.uniform(1.0, 1.5)  # noqa: S311 - jitter
        return min(self.max_retry_wait, max(backoff, retry_after or 0.0))

    # --- one attempt: redirects, status, body -------------------------------------

    def _timeout(self, deadline: float) -> httpx.Timeout:
        left = max(0.001, deadline - time.monotonic())

        def clamp(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=clamp(self.timeout.connect),
            read=clamp(self.timeout.read),
            write=clamp(self.timeout.write),
            pool=clamp(self.timeout.pool),
        )

    def _client(self, *, allow_private: bool) -> httpx.Client:
        """The client for a fetch: fetches that refuse private addresses get their own pool,
        so a connection opened for another fetch (to 127.0.0.1, say) is never reused by them.
        A transport given by the caller serves both."""
        key = allow_private or self._transport is not None
        with self._lock:
            if self._closed:
                raise RuntimeError("this Fetcher is closed")  # as httpx says of a closed client
            client = self._clients.get(key)
            if client is None:
                transport = self._transport
                if transport is None and not allow_private:
                    transport = _public_only_transport(self._client_options["limits"])
                client = self._clients[key] = httpx.Client(
                    transport=transport, **self._client_options
                )
            return client

    def _fetch_once(self, url: str, deadline: float, *, allow_private: bool) -> FetchResult:
        client = self._client(allow_private=allow_private)
        visited = [url]
        addresses: list[str] = []
        while True:
            timeout = self._timeout(deadline)
            try:
                request = client.build_request("GET", visited[-1], timeout=timeout)
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"not a valid URL: {exc}") from exc
            refused = None if allow_private else _literal_refusal(request.url.host)
            if refused is not None:
                raise AddressRefusedError(url, self._hop(refused, visited))
            with self._host_slot(request.url):
                if time.monotonic() >= deadline:
                    _fail(
                        FetchError(
                            url, f"timed out after {_seconds(self.deadline)}", transient=True
                        )
                    )
                try:
                    response = client.send(request, stream=True, follow_redirects=False)
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    _fail(self._translate(url, exc, timeout), cause=exc)
                except _Refused as exc:
                    raise AddressRefusedError(url, self._hop(exc.reason, visited)) from None
                address = _server_address(response)
                if address is not None:
                    addresses.append(address)
                try:
                    target = self._redirect_target(url, response, visited)
                    if target is None:
                        return self._read(url, response, visited, deadline, tuple(addresses))
                finally:
                    response.close()
            visited.append(target)

    @staticmethod
    def _hop(reason: str, visited: list[str]) -> str:
        """Say which redirect led to a refused address."""
        return f"{reason} (redirected to {visited[-1]})" if len(visited) > 1 else reason

    def _translate(
        self, url: str, exc: httpx.HTTPError | httpx.InvalidURL, timeout: httpx.Timeout
    ) -> FetchError:
        """Turn an httpx error into a FetchError that names the cause."""
        if isinstance(exc, httpx.TimeoutException):
            phase, seconds = {
                httpx.ConnectTimeout: ("connecting", timeout.connect),
                httpx.WriteTimeout: ("sending the request", timeout.write),
                httpx.PoolTimeout: ("waiting for a free connection", timeout.pool),
            }.get(type(exc), ("waiting for data", timeout.read))
            reason = f"timed out after {_seconds(seconds or self.deadline)} {phase}"
            return FetchError(url, reason, transient=True)
        if isinstance(exc, httpx.InvalidURL) or "location header" in str(exc).lower():
            return FetchError(url, f"refused a redirect to an invalid URL: {exc}")
        if isinstance(exc, httpx.DecodingError):
            return FetchError(url, f"cannot decode the response: {exc}")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return FetchError(url, f"refused: {exc}")
        if isinstance(exc, httpx.TransportError):
            what = "cannot connect" if isinstance(exc, httpx.ConnectError) else "connection failed"
            return FetchError(url, f"{what}: {str(exc) or type(exc).__name__}", transient=True)
        return FetchError(url, f"{type(exc).__name__}: {exc}")

    def _redirect_target(
        self, url: str, response: httpx.Response, visited: list[str]
    ) -> str | None:
        if not response.is_redirect:
            return None
        next_request = response.next_request  # httpx built it: is_redirect means a Location
        assert next_request is not None
        target = str(next_request.url.copy_with(fragment=None))
        location = response.headers.get("location", "")
        error = _scheme_error(
            location if ":" in location.split("/", 1)[0] else target, redirect=True
        )
        if error is not None:
            raise FetchError(url, error.reason)
        if target in visited:
            chain = " → ".join([*visited[visited.index(target) :], target])
            raise FetchError(url, f"redirect loop: {chain}")
        if len(visited) > self.max_redirects:
            raise FetchError(url, f"too many redirects (more than {self.max_redirects})")
        return target

    def _check_status(self, url: str, response: httpx.Response, redirected: bool) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        # The standard phrase: servers send odd ones ("NOT FOUND"), HTTP/2 none.
        phrase = httpx.codes.get_reason_phrase(status) or response.reason_phrase
        reason = f"{status} {phrase}".strip()
        if redirected:
            reason += f" at {response.url}"
        transient = status in {408, 425, 429} or (status >= 500 and status not in {501, 505})
        _fail(
            FetchError(url, reason, transient=transient),
            retry_after=_retry_after(response.headers.get("retry-after")),
        )

    def _read(
        self,
        url: str,
        response: httpx.Response,
        visited: list[str],
        deadline: float,
        addresses: tuple[str, ...],
    ) -> FetchResult:
        self._check_status(url, response, redirected=len(visited) > 1)
        media, charset = _media_type(response.headers.get("content-type", ""))
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(
                url,
                f"response larger than {_size(self.max_bytes)} "
                f"(Content-Length: {int(length):,} bytes)",
            )
        kind = _kind_of(media)
        body = bytearray()
        if kind != "attachment":
            encoding = response.headers.get("content-encoding", "identity")
            too_large = FetchError(
                url,
                f"response larger than {_size(self.max_decoded_bytes)} once decompressed "
                f"({encoding})",
            )
            decoder = _BoundedDecoder(encoding)
            chunks: Iterable[bytes] = response.iter_raw()
            if response.is_stream_consumed:  # made in memory (httpx.MockTransport): decoded
                chunks, decoder = [response.content], _BoundedDecoder("identity")
            sniffed_attachment = False
            try:
                for raw in chunks:
                    if response.num_bytes_downloaded > self.max_bytes:
                        raise FetchError(url, f"response larger than {_size(self.max_bytes)}")
                    try:
                        body += decoder.decode(raw, self.max_decoded_bytes - len(body))
                    except _TooLarge:
                        raise too_large from None
                    except zlib.error as exc:
                        raise FetchError(url, f"cannot decode the response: {exc}") from exc
                    if len(body) > self.max_decoded_bytes:
                        raise too_large
                    if time.monotonic() >= deadline:
                        reason = f"timed out after {_seconds(self.deadline)}"
                        _fail(FetchError(url, reason, transient=True))
                    if kind is None and len(body) >= _SNIFF_BYTES:
                        kind = _sniff(bytes(body[:_SNIFF_BYTES]))
                        if kind == "attachment":
                            sniffed_attachment = True
                            break
            except httpx.HTTPError as exc:
                _fail(self._translate(url, exc, self.timeout), cause=exc)
            if not sniffed_attachment:
                try:
                    body += decoder.flush(self.max_decoded_bytes - len(body))
                except _TooLarge:
                    raise too_large from None
                except zlib.error as exc:
                    raise FetchError(url, f"cannot decode the response: {exc}") from exc
            if kind is None:
                kind = _sniff(bytes(body[:_SNIFF_BYTES]))
        if kind == "attachment":
            body.clear()
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=response.status_code,
            kind=kind,
            content_type=media or "application/octet-stream",
            charset=charset,
            content=bytes(body),
            fetched_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
            redirects=tuple(visited[1:]),
            addresses=addresses,
        )
