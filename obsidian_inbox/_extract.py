"""Feeds and article pages → clean values (pure: bytes or str in, values out).

- :func:`decode_html`: a page's bytes → text (HTTP charset, ``<meta>``, detection).
- :func:`parse_feed` and :func:`find_item`: a feed's bytes → its items → the item a
  capture is about (by its link compared canonically, else by its title).
- :func:`extract_article`: a page's HTML → its main text as Markdown (no menus,
  sidebars, cookie banners, footers, comments, newsletter or share boxes) and its
  metadata (title, author, date, site, description, tags, canonical URL, image), with
  thin or bot-check pages detected and a recall-oriented retry.
- :func:`html_to_markdown`: an HTML fragment (a feed item's content) → Markdown.

Markdown produced here holds no raw HTML and no link that is not ``http``, ``https`` or
``mailto``.
"""

from __future__ import annotations

import calendar
import codecs
import datetime as dt
import email.utils
import functools
import io
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import feedparser
from charset_normalizer import from_bytes
from lxml import etree
from lxml.html import HtmlElement, fromstring
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from ._errors import FeedError
from ._inbox import _BOILERPLATE, _unescape, lead_sentences
from ._markdown import one_line, parser, plain_prose_text, wikilink_text
from ._urls import canonical_url, is_web_url

__all__ = [
    "Article",
    "Feed",
    "FeedItem",
    "clean_description",
    "decode_html",
    "extract_article",
    "find_item",
    "html_to_markdown",
    "is_generic_title",
    "lead_text",
    "parse_date",
    "parse_feed",
    "plain_text",
    "title_key",
    "word_count",
]

logger = logging.getLogger(__name__)

# --- decoding ---------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# What browsers do (WHATWG Encoding): these labels mean windows-1252.
_AS_WINDOWS_1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})
#: The charsets a page may declare (the WHATWG Encoding Standard's, and close relatives
#: servers name): anything else is ignored, never used to decode: not ``zlib``, ``hex``
#: or ``rot13`` (not text encodings: decoding raised), nor ``utf-7`` (the old XSS
#: trick), ``unicode_escape`` or ``punycode``, which browsers never apply either.
_DECLARABLE = frozenset(
    codecs.lookup(label).name
    for label in (
        "utf-8", "cp866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5",
        "iso-8859-6", "iso-8859-7", "iso-8859-8", "iso-8859-10", "iso-8859-11",
        "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u",
        "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253",
        "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "gbk", "gb2312", "gb18030",
        "big5", "big5hkscs", "euc-jp", "iso-2022-jp", "shift_jis", "cp932", "euc-kr",
        "cp949", "tis-620", "latin-1", "ascii", "utf-16", "utf-16-le", "utf-16-be",
        "utf-32", "utf-32-le", "utf-32-be",
    )
)  # fmt: skip
_PRESCAN_BYTES = 4096
_DETECT_BYTES = 2048
#: The encodings a web page can be in (the WHATWG Encoding Standard's, less the rare Mac
#: ones): detection picks among these only, never DOS code pages or ``mac_turkish``.
_WEB_ENCODINGS = [
    "utf_8",
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "cp874",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_5",
    "iso8859_6",
    "iso8859_7",
    "iso8859_8",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "koi8_r",
    "koi8_u",
    "cp866",
    "gb18030",
    "big5",
    "euc_jp",
    "iso2022_jp",
    "shift_jis",
    "euc_kr",
]


def _codec(label: str | None) -> str | None:
    """Return the Python codec for a charset label, or None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    if name not in _DECLARABLE:
        return None
    if name in _AS_WINDOWS_1252:
        return "cp1252"
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a <meta> naming UTF-16 in an ASCII-compatible page means UTF-8
    return name


def decode_html(data: bytes, *, http_charset: str | None = None) -> str:
    """Decode a web page: BOM, then the HTTP charset, then ``<meta charset>``, then detection.

    A declared charset is used only if the bytes decode with it; labels meaning
    ISO-8859-1 or ASCII are read as windows-1252, as browsers do, and bytes that are
    valid UTF-8 are read as UTF-8 even when the server labels them otherwise (a common
    misconfiguration). Detection is ``charset-normalizer``'s.

    >>> decode_html('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">caf\\xe9 \\x92'.encode("latin-1"))[-6:]
    'café ’'
    >>> decode_html(b"<meta charset=utf-8>caf\\xc3\\xa9", http_charset="iso-8859-1")
    '<meta charset=utf-8>café'
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    meta = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    declared = _codec(http_charset)
    if declared is not None and declared != "utf-8" and not data.isascii():
        try:
            return data.decode("utf-8")  # valid UTF-8 beats a server's legacy label
        except UnicodeDecodeError:
            pass
    for codec in (declared, _codec(meta.group(1).decode("ascii")) if meta else None):
        if codec is not None:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Detection needs text to go on: on a short page, windows-1252 (what browsers assume
    # for undeclared Western pages) is the better bet. UTF-16 without a BOM is not HTML.
    encoding = _detect(data[:200_000]) if len(data) >= _DETECT_BYTES else "cp1252"
    return data.decode(encoding, errors="replace")


def _detect(data: bytes) -> str:
    """Guess the encoding of a page that declares none (or a wrong one).

    ``charset-normalizer`` ranks candidates it cannot tell apart arbitrarily: a mostly
    English page with a few accents comes out as windows-1250 or cp775 ("naïve" read as
    "naďve"). Windows-1252, what browsers assume for Western pages, wins when it reads the
    bytes (nearly) as well as the best candidate.
    """
    results = from_bytes(data, cp_isolation=_WEB_ENCODINGS)
    best = results.best()
    if best is None:
        return "cp1252"
    western = next((m for m in results if "cp1252" in m.could_be_from_charset), None)
    if (
        western is not None
        and western.chaos <= best.chaos + 0.01
        and western.coherence >= best.coherence - 0.05
    ):
        return "cp1252"
    return best.encoding


# --- Markdown helpers -------------------------------------------------------------

_WORD = re.compile(r"\w+")
_BAD_LINK = re.compile(r"\[([^\]\n]*)\]\((?!https?:|mailto:|#)[^)\n]*\)")


@functools.lru_cache(maxsize=16)  # enrichment asks for the same note's text several times
def plain_text(markdown: str) -> str:
    """Return the text of ``markdown`` with its syntax removed (links become their text).

    >>> plain_text("## Hi\\n\\nSee [the *docs*](https://x.example), [[Notes|notes]] and `code`.")
    'Hi\\nSee the docs, notes and code.'
    """
    fast = plain_prose_text(markdown)
    return fast if fast is not None else _parsed_plain_text(markdown)


def _parsed_plain_text(markdown: str) -> str:
    """:func:`plain_text` the slow way, through markdown-it: for any Markdown."""
    parts: list[str] = []
    for token in parser().parse(markdown):
        if token.type == "inline":
            parts.extend(
                child.content
                if child.type in {"text", "code_inline", "html_inline"}
                else wikilink_text(child.content)
                if child.type == "wikilink"
                else " "
                if child.type in {"softbreak", "hardbreak"}
                else ""
                for child in token.children or ()
            )
            parts.append("\n")
        elif token.type in {"fence", "code_block"}:
            parts.append(token.content)
    return re.sub(r"\n{2,}", "\n", "".join(parts)).strip()


def word_count(text: str) -> int:
    """Return how many words ``text`` holds."""
    return len(_WORD.findall(text))


def _has_raw_html(markdown: str) -> bool:
    for token in parser().parse(markdown):
        if token.type == "html_block" or any(
            child.type == "html_inline" for child in token.children or ()
        ):
            return True
    return False


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
_TAG_START = re.compile(r"(?<!\\)<(?=[A-Za-z/!?])")


def _escape_raw_html(markdown: str) -> str:
    """Escape anything Markdown would read as raw HTML (outside code)."""
    if not _TAG_START.search(markdown) or not _has_raw_html(markdown):
        return markdown
    lines = markdown.split("\n")
    fence = ""
    for number, line in enumerate(lines):
        opener = _FENCE_LINE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = ""
            continue
        if opener:
            fence = opener.group(1)
            continue
        parts = []
        position = 0
        for match in _CODE_SPAN.finditer(line):
            parts.append(_TAG_START.sub(r"\\<", line[position : match.start()]))
            parts.append(match.group(0))
            position = match.end()
        parts.append(_TAG_START.sub(r"\\<", line[position:]))
        lines[number] = "".join(parts)
    escaped = "\n".join(lines)
    return escaped if not _has_raw_html(escaped) else re.sub(r"(?<!\\)<", r"\\<", escaped)


def _safe_markdown(markdown: str) -> str:
    """Drop links whose target is not http(s) or mailto (keeping their text); escape raw HTML."""
    return _escape_raw_html(_BAD_LINK.sub(r"\1", markdown))


def clean_description(text: str, *, html: bool = True) -> str:
    """Return a description as one line of plain text, without feed boilerplate.

    A trailing "The post … appeared first on …" is removed; when ``html``, tags are
    dropped and entities decoded first.

    >>> clean_description("<p>Great read&#8230;</p><p>The post <a href='x'>T</a> appeared first on <a href='y'>S</a>.</p>")
    'Great read…'
    """
    if html:
        text = _unescape(_text_of_html(text, separator=" ") if "<" in text else text)
    return one_line(_BOILERPLATE.sub("", one_line(text)))


def _text_of_html(fragment: str, *, separator: str = "\n") -> str:
    try:
        root = fromstring(f"<div>{fragment}</div>")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", fragment)
    for element in root.iter("script", "style"):
        element.drop_tree()
    for element in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6"):
        element.tail = separator + (element.tail or "")
    return str(root.text_content())


def _sanitise(tree: HtmlElement) -> None:
    """Remove scripts, and links that lead nowhere or to anything but http(s) and mailto, in place."""
    for element in list(tree.iter("script", "noscript", "template")):
        if element.get("type", "").lower() not in {"application/ld+json"}:
            element.drop_tree()
    for element in list(tree.iter("a", "area")):
        href = (element.get("href") or "").strip()
        scheme = urllib.parse.urlsplit(href).scheme.lower() if ":" in href else ""
        if not href or (scheme and scheme not in {"http", "https", "mailto"}):
            element.drop_tag()  # keep the link's text, lose the link


_EXTRACT_OPTIONS: Mapping[str, Any] = {
    "include_comments": False,
    "include_formatting": True,
    "include_links": True,
    "include_tables": True,
    "include_images": False,
}


def html_to_markdown(fragment: str, *, base_url: str | None = None) -> str:
    """Turn an HTML fragment (a feed item's content) into clean Markdown.

    Scripts and ``javascript:`` links are dropped; headings, lists, links, tables and code
    are kept. A fragment trafilatura cannot read is kept as plain text.

    >>> html_to_markdown("<p>It&#8217;s <em>fine</em>.</p><script>x()</script>")
    'It’s *fine*.'
    """
    if not fragment.strip():
        return ""
    try:
        tree = fromstring(f"<html><body><article>{fragment}</article></body></html>")
    except (etree.ParserError, ValueError):
        tree = None
    markdown = ""
    if tree is not None:
        _sanitise(tree)
        document = bare_extraction(tree, url=base_url, favor_recall=True, **_EXTRACT_OPTIONS)
        markdown = getattr(document, "text", None) or ""
    if not markdown.strip():
        text = _unescape(_text_of_html(fragment))
        markdown = "\n\n".join(one_line(line) for line in text.split("\n") if line.strip())
        markdown = re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", markdown)
    return _safe_markdown(markdown).strip()


# --- dates and titles -------------------------------------------------------------


def parse_date(value: object) -> dt.date | dt.datetime | None:
    """Read a date as pages and feeds write it: ISO 8601 (also with ``Z``) or RFC 2822.

    >>> parse_date("2025-09-01T08:00:00Z")
    datetime.datetime(2025, 9, 1, 8, 0, tzinfo=datetime.timezone.utc)
    >>> parse_date("2025-09-01")
    datetime.date(2025, 9, 1)
    >>> parse_date("Mon, 15 Sep 2025 14:00:00 +0000").isoformat()
    '2025-09-15T14:00:00+00:00'
    >>> parse_date("yesterday") is None
    True
    """
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    iso = re.sub(r"(?<=\d)Z$", "+00:00", text.replace(" ", "T", 1) if "T" not in text else text)
    iso = re.sub(r"(\.\d{1,6})\d*", r"\1", iso)  # Python 3.10 reads at most 6 digits
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        return dt.datetime.fromisoformat(iso).replace(microsecond=0)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).replace(microsecond=0)
    except (TypeError, ValueError, IndexError):
        return None


_GENERIC_TITLES = frozenset(
    {
        "",
        "youtube",
        "just a moment",
        "attention required",
        "attention required cloudflare",
        "access denied",
        "forbidden",
        "403 forbidden",
        "404 not found",
        "not found",
        "page not found",
        "error",
        "home",
        "homepage",
        "untitled",
        "untitled document",
        "sign in",
        "log in",
        "login",
        "x",
        "twitter",
        "facebook",
        "instagram",
        "linkedin",
        "medium",
        "reddit",
        "substack",
        "please wait",
        "security check",
        "one moment please",
        "loading",
        "robot check",
        "captcha",
    }
)


def title_key(title: str) -> str:
    """Return the form titles are compared in: words only, any case, entities decoded."""
    return " ".join(_WORD.findall(_unescape(title).casefold()))


def is_generic_title(title: str, *, site: str = "") -> bool:
    """Tell whether ``title`` says nothing about the page ("YouTube", "Just a moment…", the site's name).

    >>> is_generic_title("Just a moment...")
    True
    >>> is_generic_title("How to Become a Machine Learning Engineer")
    False
    """
    key = title_key(title)
    return key in _GENERIC_TITLES or (bool(site) and key == title_key(site))


_CHALLENGE = re.compile(
    r"just a moment|attention required|checking (?:your|if the site connection is) "
    r"(?:browser|secure)|verify(?:ing)? (?:that )?you are (?:a )?human|are you a robot"
    r"|enable javascript and cookies to continue|ddos protection by|cf-browser-verification"
    r"|please complete the security check|access to this page has been denied",
    re.IGNORECASE,
)


# --- articles ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Article:
    """What a web page holds: its main text as Markdown and its metadata.

    Attributes:
        url: The page's canonical URL (``<link rel=canonical>``, ``og:url``), if it names one.
        title: Its title (a generic one such as "YouTube" is left empty).
        author: Its author.
        published: When it was published: the page's own metadata
            (``article:published_time``, JSON-LD, ``<time datetime>``) first.
        site: The site's name.
        description: The author's description (``og:description``, ``<meta name=description>``).
        tags: Its keywords and categories, as the page writes them.
        image: The URL of its main image.
        text: The main text as Markdown (the title heading removed).
        problem: Why the text is not to be trusted (a bot check, too little text); empty
            when it is fine.
    """

    url: str = ""
    title: str = ""
    author: str = ""
    published: dt.date | dt.datetime | None = None
    site: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    image: str = ""
    text: str = attrs.field(default="", repr=False)
    problem: str = ""


def _meta(tree: HtmlElement, *names: str) -> list[str]:
    values: list[str] = []
    for element in tree.iter("meta"):
        key = (
            element.get("property") or element.get("name") or element.get("itemprop") or ""
        ).lower()
        content = (element.get("content") or "").strip()
        if key in names and content:
            values.append(content)
    return values


def _json_ld(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Yield every JSON-LD object of the page (nested ``@graph`` and lists included)."""

    def walk(value: object) -> Iterator[dict[str, Any]]:
        if isinstance(value, list):
            for item in value:
                yield from walk(item)
        elif isinstance(value, dict):
            yield value
            yield from walk(value.get("@graph"))

    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            try:
                yield from walk(json.loads(script.text))
            except ValueError:
                continue


#: Publication dates outside these years are taken for mistakes (or hostile input) and
#: dropped: no web page or feed is older, and year 9999 is no date to file a note by.
_FIRST_YEAR = 1990


def _plausible(value: dt.date | dt.datetime | None) -> dt.date | dt.datetime | None:
    """Return a publication date if it is plausible: from 1990 to a year from now, else None."""
    if value is None:
        return None
    try:
        day = value.astimezone(dt.timezone.utc).date() if isinstance(value, dt.datetime) else value
    except (OverflowError, ValueError):  # 9999-12-31T23:00-12:00 is out of range in UTC
        return None
    latest = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=366)
    if day.year < _FIRST_YEAR or day > latest:
        return None
    return value


def _page_date(tree: HtmlElement, ld: list[dict[str, Any]]) -> dt.date | dt.datetime | None:
    candidates = _meta(
        tree,
        "article:published_time",
        "datepublished",
        "og:published_time",
        "publish-date",
        "pubdate",
        "publishdate",
        "dc.date.issued",
        "parsely-pub-date",
        "sailthru.date",
    )
    candidates += [str(item["datePublished"]) for item in ld if item.get("datePublished")]
    for element in tree.iter("time"):
        value = element.get("datetime")
        classes = (element.get("class") or "").lower()
        if value and (
            element.get("pubdate") is not None
            or (element.get("itemprop") or "").lower() == "datepublished"
            or "publish" in classes
        ):
            candidates.append(value)
    for value in candidates:
        parsed = _plausible(parse_date(value))
        if parsed is not None:
            return parsed
    return None


def _page_tags(tree: HtmlElement, ld: list[dict[str, Any]]) -> list[str]:
    tags = _meta(tree, "article:tag", "article:section")
    for value in _meta(tree, "keywords", "news_keywords"):
        tags += value.split(",")
    for item in ld:
        for key in ("keywords", "articleSection"):
            found = item.get(key)
            if isinstance(found, str):
                tags += found.split(",")
            elif isinstance(found, list):
                tags += [str(v) for v in found if isinstance(v, (str, int))]
    for element in tree.iter("a"):
        if "tag" in (element.get("rel") or "").lower().split():
            tags.append(element.text_content())
    return [one_line(tag) for tag in tags if one_line(tag)]


_CHIP_LINE = re.compile(
    r"^(?:\[[^\]\n]+\]\([^)\s]*/(?:tag|tags|category|categories|topic|topics)/[^)\s]*\)[\s,·|]*)+$"
)


def _tidy_text(markdown: str, title: str) -> str:
    """Remove the title heading and lines made only of tag/category links."""
    lines = markdown.strip().split("\n")
    key = title_key(title)
    kept: list[str] = []
    title_seen = False
    for line in lines:
        stripped = line.strip()
        if _CHIP_LINE.match(stripped):
            continue
        if (
            not title_seen
            and key
            and stripped.startswith("#")
            and title_key(stripped.lstrip("#")) == key
        ):
            title_seen = True
            continue
        kept.append(line)
    return _safe_markdown(re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip())


def _strip_site(title: str, site: str) -> str:
    if site:
        for separator in (" | ", " - ", " — ", " – ", " · ", " :: "):
            suffix = separator + site
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].strip()
    return title


#: Fewer words than this, where the page promises an article, is a thin extraction.
THIN_WORDS = 60


def extract_article(page: str, *, url: str | None = None) -> Article:
    """Extract a page's main text (Markdown) and metadata.

    Comments, menus, sidebars, cookie banners, footers, newsletter and share boxes are
    left out. When the text is thin (fewer than :data:`THIN_WORDS` words where the page
    describes itself as an article) the extraction is retried favouring recall; a
    bot-check page ("Just a moment…") yields no text. Either is reported in
    :attr:`Article.problem`.

    Args:
        page: The page's HTML, decoded (see :func:`decode_html`).
        url: The URL it was fetched from (resolves relative links).
    """
    try:
        tree = load_html(page)
    except (TypeError, ValueError, etree.ParserError):
        tree = None
    if tree is None:
        return Article(problem="not an HTML page")
    _sanitise(tree)
    ld = list(_json_ld(tree))
    published = _page_date(tree, ld)
    page_tags = _page_tags(tree, ld)
    head_title = (tree.findtext(".//title") or "").strip()
    body_start = one_line(tree.text_content()[:3000]) if tree.find("body") is not None else ""

    try:
        document = bare_extraction(tree, url=url, with_metadata=True, **_EXTRACT_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - trafilatura fails oddly on odd pages; the capture matters more
        logger.warning("trafilatura failed on %s: %s", url, exc)
        document = None

    def field(name: str) -> str:
        value = getattr(document, name, None) if document is not None else None
        return one_line(_unescape(str(value))) if value else ""

    site = field("sitename")
    title = _strip_site(field("title") or one_line(head_title), site)
    description = clean_description(field("description"))
    text = _tidy_text(getattr(document, "text", None) or "", title)

    problem = ""
    if _CHALLENGE.search(head_title) or (
        word_count(text) < THIN_WORDS and _CHALLENGE.search(body_start)
    ):
        problem = f"the site answered with a bot check (“{one_line(head_title) or 'no title'}”), not the page"
        text = title = ""
    else:
        promised = (
            word_count(description) >= 12
            or (field("pagetype") or "").lower() == "article"
            or any("Article" in str(item.get("@type", "")) for item in ld)
        )
        if word_count(text) < THIN_WORDS and (promised or word_count(text) < 10):
            try:
                recall = bare_extraction(tree, url=url, favor_recall=True, **_EXTRACT_OPTIONS)
            except Exception as exc:  # noqa: BLE001 - as above
                logger.warning("trafilatura (recall) failed on %s: %s", url, exc)
                recall = None
            retry = _tidy_text(getattr(recall, "text", None) or "", title)
            if word_count(retry) > word_count(text):
                text = retry
            if word_count(text) < THIN_WORDS and promised:
                problem = f"the page gave too little text ({word_count(text)} words)"
            elif not text:
                problem = "the page has no main text"

    categories = [
        *(getattr(document, "categories", None) or ()),
        *(getattr(document, "tags", None) or ()),
    ]
    tags: list[str] = []
    for tag in [*page_tags, *(one_line(part) for c in categories for part in str(c).split(","))]:
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    canonical = field("url")
    return Article(
        url=canonical if is_web_url(canonical) else "",
        title="" if is_generic_title(title, site=site) else title,
        author=field("author"),
        published=published or _plausible(parse_date(field("date"))),
        site=site,
        description=description,
        tags=tuple(tags),
        image=field("image") if is_web_url(field("image")) else "",
        text=text,
        problem=problem,
    )


# --- feeds ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FeedItem:
    """One entry of a feed, as the feed gives it (HTML kept until asked for as Markdown).

    Attributes:
        title: Its title, entities decoded and tags removed.
        link: Its link (absolute).
        guid: Its ``guid``/``id``.
        author: Its author.
        published: When it was published (or last updated).
        categories: Its categories, as the feed writes them.
        summary_html: Its description or summary (HTML).
        content_html: Its full content (``content:encoded`` or Atom ``content``), if any.
    """

    title: str = ""
    link: str = ""
    guid: str = ""
    author: str = ""
    published: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    summary_html: str = attrs.field(default="", repr=False)
    content_html: str = attrs.field(default="", repr=False)

    @property
    def summary(self) -> str:
        """The description as one line of plain text, boilerplate removed."""
        return clean_description(self.summary_html)

    def content_markdown(self) -> str:
        """Return the full content as Markdown (the summary when the feed has no content).

        A closing "The post … appeared first on …" paragraph is dropped.
        """
        markdown = html_to_markdown(
            self.content_html or self.summary_html, base_url=self.link or None
        )
        head, _, last = markdown.rpartition("\n\n")
        # The boilerplate is one short paragraph (and plain_text is not linear in time).
        if last and len(last) <= 2000 and not _BOILERPLATE.sub("", plain_text(last)).strip():
            markdown = head
        return markdown.strip()


@attrs.frozen(kw_only=True)
class Feed:
    """A parsed feed.

    Attributes:
        title: The feed's title (usually the site's name).
        link: The site it belongs to.
        format: feedparser's name for its format (``rss20``, ``atom10``, ``rss10``…).
        encoding: The character encoding it was read in.
        items: Its entries.
        problem: What was wrong with it, when feedparser could still read it.
    """

    title: str = ""
    link: str = ""
    format: str = ""
    encoding: str = ""
    items: tuple[FeedItem, ...] = ()
    problem: str = ""


def _text_field(detail: Mapping[str, Any] | None, value: object) -> str:
    """A feed text field as plain text: HTML ones (Atom ``type="html"``) lose their tags."""
    text = str(value or "")
    if detail and str(detail.get("type", "")).endswith("html") and "<" in text:
        text = _text_of_html(text, separator=" ")
    return one_line(_unescape(text))


def _struct_time(entry: Mapping[str, Any], *keys: str) -> dt.datetime | None:
    for key in keys:
        if dict.__contains__(entry, key) and entry[key]:
            try:
                when = dt.datetime.fromtimestamp(calendar.timegm(entry[key]), tz=dt.timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
            # feedparser reads "01 Jan 0000 ... +1400" as the year 1400: check the year.
            if _plausible(when) is not None:
                return when
    return None


def _item(entry: Mapping[str, Any]) -> FeedItem:
    author = entry.get("author_detail", {}).get("name") or entry.get("author") or ""
    content = entry.get("content") or []
    html_content = next(
        (c.get("value", "") for c in content if "html" in str(c.get("type", ""))),
        content[0].get("value", "") if content else "",
    )
    link = str(entry.get("link") or "")
    guid = str(entry.get("id") or "")
    if not is_web_url(link) and is_web_url(guid):
        link = guid
    return FeedItem(
        title=_text_field(entry.get("title_detail"), entry.get("title")),
        link=link,
        guid=guid,
        author=one_line(_unescape(str(author))),
        published=_struct_time(entry, "published_parsed", "updated_parsed", "created_parsed"),
        categories=tuple(
            one_line(_unescape(str(tag.get("term") or tag.get("label") or "")))
            for tag in entry.get("tags") or ()
            if tag.get("term") or tag.get("label")
        ),
        summary_html=str(entry.get("summary") or ""),
        content_html=str(html_content or ""),
    )


# An entity declaration, its quoted value possibly holding ">".
_ENTITY_DECLARATION = re.compile(rb"""<!ENTITY\b(?:[^>"']|"[^"]*"|'[^']*')*>?""")
# Where the prolog ends: the first element (not "<?" or "<!").
_FIRST_ELEMENT = re.compile(rb"<[^?!]")
# XML encodings that are not ASCII-compatible, by their first bytes (XML 1.0, appendix F).
_WIDE_XML = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\0\0\0", "utf-32-le"),
    (b"\0\0\0<", "utf-32-be"),
    (b"<\0?\0", "utf-16-le"),
    (b"\0<\0?", "utf-16-be"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)
_XML_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?(\s+encoding\s*=\s*["']([^"']*)["'])""")
_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")


_CHARACTER_ENTITY = re.compile(rb"""\s+%?\s*([^\s"']+)\s+(["'])(&#(?:x[0-9a-fA-F]+|[0-9]+);)\2""")
_ENTITY_NAME = re.compile(rb"""\s+%?\s*([^\s"']+)""")
_REFERENCE = re.compile(rb"&([A-Za-z_:][\w.:-]*);")
_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _without_entities(body: bytes) -> tuple[bytes, bool]:
    """Remove the entity declarations of a feed's DOCTYPE; say whether it was re-encoded.

    Feeds never need their own entities, and they are how "billion laughs" and
    quadratic blow-ups (a 600 kB feed expanding to 50 MB) and external entities (XXE)
    get in. feedparser removes only declarations that start a line, so ours go first.
    A reference to a removed entity is kept as text (``&a;``), except that an entity
    standing for one character (``<!ENTITY nbsp "&#160;">``) becomes that character's
    reference, so the feed stays well-formed and parses strictly (and fast). A feed in
    UTF-16, UTF-32 or EBCDIC is re-encoded as UTF-8 first, so its declarations show.
    """
    reencoded = False
    for signature, codec in _WIDE_XML:
        if body.startswith(signature):
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                break
            body = _XML_ENCODING.sub(rb'\1"utf-8"', text.lstrip("\ufeff").encode("utf-8"))
            reencoded = True
            break
    first = _FIRST_ELEMENT.search(body)
    end = first.start() if first else len(body)
    if b"<!ENTITY" not in body[:end]:
        return body, reencoded
    declared: dict[bytes, bytes] = {}
    for declaration in _ENTITY_DECLARATION.findall(body[:end]):
        inner = declaration[len(b"<!ENTITY") :]
        character = _CHARACTER_ENTITY.match(inner)
        name = _ENTITY_NAME.match(inner)
        if character is not None:
            declared.setdefault(character.group(1), character.group(3))
        elif name is not None:
            declared.setdefault(name.group(1), b"&amp;" + name.group(1) + b";")

    def replace(reference: re.Match[bytes]) -> bytes:
        name = reference.group(1)
        if name in _PREDEFINED:
            return reference.group(0)
        return declared.get(name, reference.group(0))

    head = _ENTITY_DECLARATION.sub(b"", body[:end])
    return head + _REFERENCE.sub(replace, body[end:]), reencoded


def parse_feed(body: bytes, *, url: str = "", headers: Mapping[str, str] | None = None) -> Feed:
    """Parse a feed's bytes (RSS 0.9x/1.0/2.0 or Atom) with feedparser, never from a string.

    Args:
        body: The feed as fetched.
        url: Where it was fetched from (resolves relative links; named in errors).
        headers: The response headers (``Content-Type`` gives the charset).

    Raises:
        FeedError: The bytes are not a feed (an HTML page, broken XML with no entries).
    """
    # Without a Content-Type, feedparser would assume ISO-8859-1 for a feed that declares no
    # encoding (RFC 3023); application/xml lets it read the XML declaration and BOM.
    response_headers = {
        "content-location": url,
        "content-type": "application/xml",
        **{key.lower(): value for key, value in (headers or {}).items()},
    }
    body, reencoded = _without_entities(body)
    media, _, params = response_headers["content-type"].partition(";")
    charset = next(
        (v.strip().strip("\"'") for k, _, v in (p.partition("=") for p in params.split(";"))
         if k.strip().lower() == "charset"),
        "",
    )  # fmt: skip
    if reencoded:  # UTF-8 now, whatever the server said
        charset = "utf-8"
    elif charset and _codec(charset) is None:  # "zlib", "undefined": feedparser would raise
        charset = ""
    response_headers["content-type"] = (media.strip() or "application/xml") + (
        f"; charset={charset}" if charset else ""
    )
    declared = _XML_DECLARED_ENCODING.match(body)
    if declared and _codec(declared.group(2).decode("ascii", "replace")) is None:
        body = body[: declared.start(1)] + body[declared.end(1) :]
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    except (UnicodeError, LookupError) as exc:  # an encoding feedparser cannot handle
        raise FeedError(url, f"not a feed (cannot decode it: {exc})") from exc
    problem = ""
    if parsed.get("bozo"):
        problem = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
    if not parsed.get("version") and not parsed.get("entries"):
        if re.search(rb"<html\b", body[:2048], re.IGNORECASE):
            raise FeedError(url, "not a feed (an HTML page)")
        raise FeedError(url, f"not a feed ({problem or 'no entries'})")
    feed = parsed.get("feed", {})
    return Feed(
        title=_text_field(feed.get("title_detail"), feed.get("title")),
        link=str(feed.get("link") or ""),
        format=str(parsed.get("version") or ""),
        encoding=str(parsed.get("encoding") or ""),
        items=tuple(_item(entry) for entry in parsed.get("entries", ())),
        problem=problem,
    )


def find_item(feed: Feed, *, link: str = "", title: str = "") -> FeedItem | None:
    """Return the item a capture is about: by its link compared canonically, else by its title.

    Tracking parameters (``utm_*`` and the like), fragments and the letter case of the
    host do not matter; titles are compared without case, punctuation or entities.
    """
    if link and is_web_url(link):
        wanted = canonical_url(link)
        for item in feed.items:
            # canonical_url is cached, and leaves anything but a web URL as it is.
            if wanted in (canonical_url(item.link), canonical_url(item.guid)):
                return item
    key = title_key(title)
    if key:
        for item in feed.items:
            if title_key(item.title) == key:
                return item
    return None


def lead_text(text_markdown: str, *, limit: int = 300) -> str:
    """Return the lead sentences of Markdown text (prose only), cut at a sentence boundary."""
    head = text_markdown[: max(8 * limit, 4000)]  # the lead is at the start; parse only that
    paragraphs = [p for p in _prose_only(head) if word_count(p) >= 8]
    return lead_sentences(" ".join(paragraphs[:3]), limit=limit) if paragraphs else ""


def _prose_only(markdown: str) -> list[str]:
    """Return the plain text of top-level paragraphs (no headings, lists, tables, quotes, code)."""
    paragraphs: list[str] = []
    depth = 0
    previous = ""
    for token in parser().parse(markdown):
        opened, previous = previous, token.type
        if token.type in {"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"}:
            depth += 1
        elif token.type in {
            "bullet_list_close",
            "ordered_list_close",
            "blockquote_close",
            "table_close",
        }:
            depth -= 1
        elif token.type == "inline" and depth == 0 and opened == "paragraph_open":
            text = "".join(
                child.content
                if child.type in {"text", "code_inline"}
                else " "
                if child.type in {"softbreak", "hardbreak"}
                else ""
                for child in token.children or ()
            )
            paragraphs.append(one_line(text))
    return paragraphs
