"""Capture files → :class:`~obsidian_inbox.Note` (pure, but for reading the file).

A capture is a small text file an automation dropped into the inbox, named like
``20250918_114949_rss_How_to_Become_a_Machine_Learning_Engineer__Step-by.txt``. The kinds
we know:

- ``rss``: ``RSS Feed: <site>``, ``Source: <feed url>``, ``Link: <article url>``, a blank
  line, the title, a blank line, the description;
- ``link``: ``Link: <url>`` (or a bare URL), then an optional title and comment;
- ``note``: a plain thought with ``#hashtags``;
- ``shortcut``: text naming several URLs;
- any of them may start with YAML frontmatter.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import hashlib
import html
import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Any

import attrs
import yaml
from charset_normalizer import from_bytes

from ._errors import InboxParseError
from ._markdown import clean_text, one_line
from ._note import KNOWN_KEYS, Note, Source
from ._render import YAML_ERRORS, yaml_problem
from ._tags import HASHTAG, clean_tags
from ._urls import canonical_url, find_urls, is_web_url

__all__ = [
    "DEFAULT_MAX_CAPTURE_BYTES",
    "CaptureKind",
    "decode_capture",
    "parse_capture",
    "parse_inbox_file",
    "read_capture",
]

#: Captures larger than this are refused (a capture is a thought or a link, not a book).
DEFAULT_MAX_CAPTURE_BYTES = 1_000_000
CaptureKind = str
_KINDS = ("rss", "link", "note", "shortcut")
_FILE_NAME = re.compile(
    r"^(?P<date>\d{8})[_-]?(?P<time>\d{6})?(?:_(?P<kind>[A-Za-z]+))?(?:_(?P<slug>.*))?$"
)
_HEADER = re.compile(
    r"^(?P<key>RSS Feed|Feed|Source|Link|URL|Title)\s*:\s*(?P<value>.*)$", re.IGNORECASE
)
# (?<!\s): tried once per run of whitespace, not at each of its characters (quadratic).
_BOILERPLATE = re.compile(
    r"(?<!\s)\s*(?:The post|This post|The article)\s.{1,400}?\s(?:appeared first on|was first published on)\s.{1,200}?\.?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_TAG_LIKE_HTML = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
_TITLE_MAX = 120


# --- decoding ----------------------------------------------------------------------


def decode_capture(data: bytes, *, path: Path | str | None = None) -> str:
    """Decode a capture's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or legacy text.

    Legacy single-byte encodings (windows-1252, latin-1, …) are detected with
    ``charset-normalizer``.

    Raises:
        InboxParseError: The bytes are empty, binary, or in no encoding we can tell.
    """
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InboxParseError(path, "empty capture: the file holds no text")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding), path)
            except UnicodeDecodeError as exc:
                raise InboxParseError(
                    path, f"not valid {encoding.upper()} despite its byte-order mark"
                ) from exc
    if b"\x00" in data:
        raise InboxParseError(
            path, "binary file: it contains NUL bytes, so it is not a text capture"
        )
    try:
        return _check_text(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        pass
    match = from_bytes(data).best()
    if match is None:
        raise InboxParseError(path, "cannot decode: the bytes are not text in any encoding we know")
    return _check_text(str(match), path)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _check_text(text: str, path: Path | str | None) -> str:
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > max(2, len(text) // 100):
        raise InboxParseError(path, f"binary file: {controls} control characters in {len(text)}")
    if not text.strip():
        raise InboxParseError(path, "empty capture: the file holds no text")
    return text


def parse_inbox_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_CAPTURE_BYTES,
    source: str = "inbox_processing",
) -> Note:
    """Read a capture file from the inbox and return the note it makes (not yet enriched).

    Args:
        path: The capture file.
        max_bytes: Refuse larger files.
        source: The ``source`` property of the note (which process made it).

    Raises:
        InboxParseError: The file is empty, binary, undecodable, too large, unreadable
            or its frontmatter is broken; the message names the file and the reason.
    """
    return read_capture(path, max_bytes=max_bytes, source=source)[0]


def read_capture(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_CAPTURE_BYTES,
    source: str = "inbox_processing",
) -> tuple[Note, os.stat_result]:
    """:func:`parse_inbox_file`, also returning the file's status as it was just before
    it was read (so that a change made while it was read shows as a change later)."""
    if not isinstance(path, Path):
        path = Path(path)
    try:
        stat, data = _read_up_to(path, max_bytes + 1)
    except IsADirectoryError as exc:
        raise InboxParseError(path, "is a folder, not a capture file") from exc
    except OSError as exc:
        raise InboxParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InboxParseError(
            path,
            f"too large: {stat.st_size:,} bytes, over the {max_bytes:,}-byte limit for a capture",
        )
    text = decode_capture(data, path=path)
    mtime = dt.datetime.fromtimestamp(stat.st_mtime).replace(microsecond=0)
    note = parse_capture(
        text,
        file_name=path.name,
        modified=mtime,
        capture_id=capture_id(path.name, data),
        path=path,
        source=source,
    )
    return note, stat


def _read_up_to(path: Path, limit: int) -> tuple[os.stat_result, bytes]:
    """Return the status of the file at ``path`` and its first ``limit`` bytes (with the
    operating system's calls: a capture is small, and Python's file objects cost more
    than reading it)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        stat = os.fstat(descriptor)
        if S_ISDIR(stat.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            # As much as the file says it holds, and one byte more to see its end (a buffer
            # of the whole limit, a megabyte, would be allocated and freed for every capture).
            wanted = min(limit - size, max(stat.st_size + 1 - size, 1 << 16))
            chunk = os.read(descriptor, wanted)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < wanted and size >= stat.st_size and S_ISREG(stat.st_mode):
                break  # all the file said it held, and no more came: no read to find its end
    finally:
        os.close(descriptor)
    return stat, b"".join(chunks)


def capture_id(file_name: str, data: bytes) -> str:
    """Return a stable identifier for a capture: a hash of its file name and bytes."""
    digest = hashlib.sha256(file_name.encode("utf-8", "surrogateescape") + b"\0" + data)
    return digest.hexdigest()[:16]


# --- parsing -----------------------------------------------------------------------


@attrs.frozen
class _FileName:
    created: dt.datetime | None
    kind: str
    slug: str


def _stem(file_name: str) -> str:
    """``Path(file_name).stem``, without making a path."""
    name = os.path.basename(file_name)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _parse_file_name(file_name: str) -> _FileName:
    stem = _stem(file_name)
    match = _FILE_NAME.match(stem)
    if not match:
        return _FileName(None, "", stem)
    created = None
    stamp = match["date"] + (match["time"] or "000000")
    try:
        created = _timestamp(stamp)
    except ValueError:
        return _FileName(None, "", stem)
    kind = (match["kind"] or "").lower()
    slug = match["slug"] or ""
    if kind and kind not in _KINDS:  # "20250918_114949_Some_title": no kind, all slug
        slug, kind = f"{match['kind']}_{slug}".strip("_"), ""
    return _FileName(created, kind, slug)


def _timestamp(stamp: str) -> dt.datetime:
    """``20250918114949`` → its date-time, as ``strptime(stamp, "%Y%m%d%H%M%S")`` reads it.

    The fields are read by position (a tenth of strptime's time); a stamp that gives no
    date-time so is left to strptime, which reads some odd ones its own way, or refuses.
    """
    if not stamp.isascii():  # int() reads any digits; strptime only ASCII ones
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")
    try:
        return dt.datetime(
            int(stamp[0:4]),
            int(stamp[4:6]),
            int(stamp[6:8]),
            int(stamp[8:10]),
            int(stamp[10:12]),
            int(stamp[12:14]),
        )
    except ValueError:
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")


def _unescape(text: str) -> str:
    """Decode HTML entities, also doubly encoded ones (``&amp;#8217;``)."""
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _as_markdown(text: str) -> str:
    """Plain capture text → Markdown: entities decoded, anything tag-like escaped."""
    return _TAG_LIKE_HTML.sub(r"\\<", _unescape(text))


def _split_frontmatter(text: str, path: Path | str | None) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for index in range(1, len(lines)):
        if lines[index].strip() in {"---", "..."}:
            source = "\n".join(lines[1:index])
            try:
                data = yaml.safe_load(source)
            except YAML_ERRORS as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 2 if mark is not None else None
                problem = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
                raise InboxParseError(
                    path,
                    f"invalid YAML frontmatter: {problem}",
                    line=line,
                ) from exc
            if data is None:
                data = {}
            problem = yaml_problem(data)
            if problem:
                raise InboxParseError(path, problem, line=2)
            if not isinstance(data, Mapping):
                raise InboxParseError(path, "frontmatter is not a mapping of properties", line=2)
            return {str(key): value for key, value in data.items()}, "\n".join(lines[index + 1 :])
    return {}, text


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _looks_like_title(paragraph: str) -> bool:
    if "\n" in paragraph or len(paragraph) > _TITLE_MAX or find_urls(paragraph):
        return False
    if HASHTAG.search(paragraph):
        return False
    stripped = paragraph.strip()
    if stripped[:1].islower():  # "worth watching again": a comment, not a title
        return False
    return not stripped.endswith((".", "!")) or stripped.endswith("...")


# #tags standing apart from the sentence: after its end, or on a line of their own.
_TRAILING_TAGS = re.compile(
    r"(?:(?<=[.!?…])|(?<=^)|(?<=\n))(?:[ \t]*#[\w\-/]+)+[ \t]*$", re.MULTILINE
)


def _first_sentence(text: str, limit: int = 80) -> str:
    """A title from prose: its first sentence; #tags standing apart dropped, inline ones kept as words."""
    text = one_line(_TRAILING_TAGS.sub("", text))
    text = HASHTAG.sub(lambda m: m.group(1), text)
    for url in find_urls(text):
        text = text.replace(url, "")
    text = one_line(text)
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(" :")
    if len(sentence) <= limit:
        return sentence.rstrip(".")
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-—") + "…"


def _title_from_slug(slug: str) -> str:
    return one_line(re.sub(r"_+", " ", slug))


def _title_from_url(url: str) -> str:
    path = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    words = re.sub(r"[-_+]+", " ", re.sub(r"\.[a-z0-9]{2,5}$", "", path))
    words = one_line(words)
    return words[:1].upper() + words[1:] if words else url


def parse_capture(
    text: str,
    *,
    file_name: str,
    modified: dt.datetime | None = None,
    capture_id: str = "",
    path: Path | str | None = None,
    source: str = "inbox_processing",
) -> Note:
    """Parse a capture's text into a note (pure).

    Args:
        text: The decoded capture.
        file_name: Its file name: the timestamp, kind and slug in it are used.
        modified: When the file was last changed: the note's date when the name has none.
        capture_id: The capture's stable identifier.
        path: The file, named in errors.
        source: The ``source`` property of the note (which process made it).

    Raises:
        InboxParseError: The capture holds no text, or its frontmatter is broken.
    """
    text = clean_text(text.removeprefix("\ufeff"))
    if not text.strip():
        raise InboxParseError(path, "empty capture: the file holds no text")
    name = _parse_file_name(file_name)
    properties, body = _split_frontmatter(text, path)
    lines = body.strip("\n").split("\n")

    headers: dict[str, str] = {}
    header_end = 0
    for index, line in enumerate(lines):
        match = _HEADER.match(line.strip())
        if not match:
            break
        key = match["key"].lower().replace("url", "link").replace("rss feed", "feed")
        headers.setdefault(key, match["value"].strip())
        header_end = index + 1
    rest = _paragraphs(lines[header_end:])

    explicit_title = one_line(str(properties.pop("title", "") or headers.get("title", "")))
    link = _no_spaces(headers.get("link", ""))
    feed_url = _no_spaces(headers.get("source", ""))
    feed_name = headers.get("feed", "")
    kind = name.kind or ("rss" if feed_name or feed_url else "")

    title = explicit_title
    description = ""
    if kind == "rss" or (headers and "link" in headers):
        if not title and rest and (len(rest) > 1 or kind == "rss" or _looks_like_title(rest[0])):
            title = one_line(_unescape(rest[0]))
            rest = rest[1:]
        description = "\n\n".join(rest)
        kind = kind or "link"
    urls_in_text = find_urls(body)
    if not kind:
        kind = "link" if len(urls_in_text) == 1 else ("shortcut" if urls_in_text else "note")

    description = _BOILERPLATE.sub("", _unescape(description)).strip()
    content_lines = lines[:header_end] + ([""] if header_end else [])
    if title and header_end:
        content_lines += [title, ""]
    content_lines += [description] if header_end else ["\n\n".join(rest)]
    content = "\n".join(content_lines)
    if not header_end:
        content = _BOILERPLATE.sub("", _unescape(content)).strip()

    urls: list[str] = []
    if is_web_url(link):
        urls.append(link)
    urls += [url for url in urls_in_text if url not in urls and url != feed_url]
    if not title:
        title = _guess_title(kind, rest, name, urls, body)
    hashtags = [m.group(1) for m in HASHTAG.finditer(_unescape(body))]
    tags = clean_tags([*clean_tags(properties.pop("tags", None)), *hashtags])

    sources: list[Source] = []
    if is_web_url(feed_url):
        sources.append(Source(url=feed_url, kind="feed", site=_unescape(feed_name)))
    sources += [Source(url=url, kind="article") for url in urls]
    single_url = link if is_web_url(link) else (urls[0] if len(urls) == 1 else "")
    status_reason = ""
    if "link" in headers and not link:
        status_reason = 'the "Link:" line is empty'
    elif link and not is_web_url(link):
        status_reason = f"the link {link!r} is not an http(s) URL"

    known = {key: properties.pop(key) for key in KNOWN_KEYS if key in properties}
    created = name.created or modified
    return Note(
        title=title,
        type=known.get("type") or "note",
        category=known.get("category") or "",
        created=created,
        tags=tags,
        status="partial" if status_reason else "draft",
        source=known.get("source") or source,
        original_file=file_name,
        url=canonical_url(single_url) if single_url else "",
        capture_id=capture_id,
        captured=created,
        status_reason=status_reason,
        properties=properties,
        summary=_as_markdown(lead_sentences(description) if kind == "rss" else ""),
        content=_as_markdown(content),
        sources=sources,
        connections=[_link_target(_unescape(feed_name))] if feed_name else [],
    )


_SPACE = re.compile(r"\s")


def _no_spaces(url: str) -> str:
    """Percent-encode the spaces of a URL as written (``Link: https://a.b/x y``): a URL has none.

    >>> _no_spaces("https://a.example/x y")
    'https://a.example/x%20y'
    """
    return _SPACE.sub(lambda match: urllib.parse.quote(match[0]), url)


def _link_target(name: str) -> str:
    """Make a name usable as a ``[[link]]`` target: ``|``, ``[`` and ``]`` would break the link.

    >>> _link_target("craigslist SF bay area | apts/housing [new]")
    'craigslist SF bay area - apts/housing (new)'
    """
    return re.sub(r"\s*\|\s*", " - ", name).replace("[", "(").replace("]", ")")


def _guess_title(
    kind: str, paragraphs: list[str], name: _FileName, urls: list[str], body: str
) -> str:
    """A title for a capture that has none: its first line or sentence, its file name, its URL."""
    candidates = [p for p in paragraphs if one_line(p)]
    if candidates and kind in {"note", "shortcut"}:
        first = _first_sentence(_unescape(candidates[0].split("\n", 1)[0]))
        if first:
            return first
    from_url = _title_from_url(urls[0]) if urls else ""
    if len(from_url) >= 8 or (from_url and not _title_from_slug(name.slug)):
        return from_url
    if _title_from_slug(name.slug):
        return _title_from_slug(name.slug)
    first_line = _first_sentence(_unescape(body))
    if first_line:
        return first_line
    stamp = name.created.strftime("%Y-%m-%d %H%M%S") if name.created else "capture"
    return f"Untitled {stamp}"


def lead_sentences(text: str, *, limit: int = 300) -> str:
    """Return the first sentences of ``text`` that fit in ``limit`` characters.

    The cut falls on a sentence boundary when one exists within the limit, else on a
    word boundary with an ellipsis.
    """
    text = one_line(text)
    if len(text) <= limit:
        return text
    sentences = _SENTENCE_END.split(text)
    result = ""
    for sentence in sentences:
        candidate = f"{result} {sentence}".strip()
        if len(candidate) > limit:
            break
        result = candidate
    if result:
        return result
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:-—") + "…"
