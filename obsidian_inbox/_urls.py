"""URL helpers (pure): canonical form for identity, and finding URLs in text."""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterator

from courlan import normalize_url
from linkify_it import LinkifyIt

from ._markdown import remember_short_texts

__all__ = ["canonical_url", "find_urls", "is_web_url"]

# Query parameters that only track where a click came from (courlan drops utm_* and the
# common click ids itself; these are the ones it keeps).
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid"}
)


@remember_short_texts(8192, max_chars=2048)  # asked several times of each URL a capture names
def is_web_url(url: str) -> bool:
    """Tell whether ``url`` is an absolute ``http``/``https`` URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        return False


@functools.lru_cache(maxsize=8192)
def canonical_url(url: str) -> str:
    """Return the form of ``url`` used to tell whether two captures name the same page.

    The scheme and host are lower-cased, default ports dropped, the fragment removed,
    and tracking parameters (``utm_*``, ``fbclid``, ``gclid`` and the like) removed. A
    string that is not an ``http``/``https`` URL is returned stripped but otherwise as is.

    >>> canonical_url("HTTPS://Example.COM:443/a/?utm_source=rss&id=3#top")
    'https://example.com/a/?id=3'
    """
    url = url.strip()
    if not is_web_url(url):
        return url
    try:
        normalized = normalize_url(url)
    except ValueError:  # pragma: no cover - courlan refuses very odd URLs
        normalized = url
    parts = urllib.parse.urlsplit(normalized)
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(urllib.parse.unquote_plus(pair.partition("=")[0]))
    )
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, "")
    )


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING or key.startswith("utm_")


@functools.cache
def _linkify() -> LinkifyIt:
    return LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})


def find_urls(text: str) -> list[str]:
    """Return the ``http``/``https`` URLs written in ``text``, in order, without repeats.

    Trailing punctuation is not part of a URL; balanced parentheses are (as linkify-it
    decides, the library markdown-it uses).
    """
    if "://" not in text:
        return []
    seen: set[str] = set()
    urls: list[str] = []
    for url in _links(text):
        if is_web_url(url) and url not in seen:
            seen.add(url)
            urls.append(url)
    return urls


def _links(text: str) -> Iterator[str]:
    """The links linkify-it's ``match`` finds, in linear time.

    ``LinkifyIt.match`` checks every ``scheme:`` in the text, each check reading to the
    end of its link, and only then drops those inside an earlier link: quadratic on
    ``http://a.b/http://a.b/…`` (10^4 of them took minutes). Here a scheme inside the
    link just found is not checked at all; the links are the same.
    """
    linkify = _linkify()
    end = 0
    for hit in _schema_hits(text):
        start = hit.start(0) + len(hit.group(1))
        if start < end:
            continue
        length = linkify.test_schema_at(text, hit.group(2), hit.end(0))
        if length:
            end = hit.end(0) + length
            yield text[start:end]  # linkify-it's url for a link with a scheme: the text itself


#: linkify-it's schemas that end in ":" (the other is "//"), found just before a ":".
_SCHEMA_BEFORE_COLON = re.compile(r"(?:https?|ftp|mailto)\Z", re.IGNORECASE)


def _schema_hits(text: str) -> Iterator[re.Match[str]]:
    """What ``_schema_search().finditer(text)`` gives, trying only where a schema is.

    A hit is one character (or the text's start) and then a schema, and every schema
    ends in ``:`` or is ``//``; so a hit can only start one character before a schema
    found just before a ``:`` or at a ``//``. Trying those few places is a few times
    faster than scanning every character with linkify-it's long pattern.
    """
    schemas: set[int] = set()  # where a schema begins
    at = text.find(":")
    while at >= 0:
        if (schema := _SCHEMA_BEFORE_COLON.search(text, max(0, at - 6), at)) is not None:
            schemas.add(schema.start())
        at = text.find(":", at + 1)
    at = text.find("//")
    while at >= 0:
        schemas.add(at)
        at = text.find("//", at + 1)
    pattern = _schema_search()
    end = 0
    for start in sorted({max(0, schema - 1) for schema in schemas}):
        if start >= end and (hit := pattern.match(text, start)) is not None:
            yield hit
            end = hit.end()


@functools.cache
def _schema_search() -> re.Pattern[str]:
    return re.compile(_linkify().re["schema_search"], flags=re.IGNORECASE)
