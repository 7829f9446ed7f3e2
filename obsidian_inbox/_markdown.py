"""Markdown normalisation shared by the note model and the renderer (pure).

Every Markdown field of a :class:`~obsidian_inbox.Note` is kept in the exact form
``mdformat`` (with the GFM and wikilink plugins) gives it, adjusted so that it can sit
under one of the note's own ``##`` sections without changing the note's structure:

- top-level ``#``/``##`` headings are demoted to ``###`` (deeper ones shift with them);
- reference-style links become inline links (mdformat would move their definitions to
  the end of the whole note, out of their section);
- a body that would swallow the next section (an unclosed ``<!--``, ``<pre>`` or
  ``<script>`` block) is fenced as code, so its text is kept but cannot break the note.

Because the stored form is a fixed point of the formatter, rendering a note and reading
it back gives the same note.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

import mdformat
import mdformat.plugins
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdformat_wikilink.mdit_wikilink_plugin import wikilink_plugin
from mdit_py_plugins.front_matter import front_matter_plugin as _front_matter_plugin

__all__ = [
    "BODY_EXTENSIONS",
    "DOCUMENT_EXTENSIONS",
    "MDFORMAT_OPTIONS",
    "block_parser",
    "clean_text",
    "escape_inline",
    "format_document",
    "format_line",
    "inline_plain_text",
    "is_plain_inline",
    "is_plain_markdown",
    "normalize_markdown",
    "one_line",
    "parse_inline",
    "parser",
    "plain_prose_text",
    "remember_short_texts",
    "wikilink_text",
]

logger = logging.getLogger(__name__)

_PLUGIN_NAME = "obsidian_inbox_sections"
_FRONTMATTER_PLUGIN_NAME = "obsidian_inbox_frontmatter"
MDFORMAT_OPTIONS: Mapping[str, Any] = {"number": True, "wrap": "keep"}
#: mdformat extensions for a section body: GFM, wikilinks, and our section rules.
BODY_EXTENSIONS = ("gfm", "wikilink", _PLUGIN_NAME)
#: mdformat extensions for a whole note: the YAML is kept verbatim (mdformat-frontmatter
#: re-emits it through ruamel.yaml, which rounds some floats: found by our property tests).
DOCUMENT_EXTENSIONS = (_FRONTMATTER_PLUGIN_NAME, "gfm", "wikilink")
_LINE_EXTENSIONS = ("gfm", "wikilink")
_SECTION_LEVEL = 3  # the shallowest heading a section body may hold

#: How frontmatter opens: ``---`` alone on the first line.
FRONTMATTER_OPENING = re.compile(r"---[ \t]*(?:\n|$)")


def front_matter_plugin(md: MarkdownIt) -> None:
    """mdit-py-plugins' frontmatter, opened only as Obsidian opens it: by ``---`` alone
    on the first line (the plugin also takes ``---text``, which Obsidian reads as text)."""
    _front_matter_plugin(md)
    (lenient,) = [rule.fn for rule in md.block.ruler.__rules__ if rule.name == "front_matter"]

    def strict(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        return bool(FRONTMATTER_OPENING.match(state.src)) and lenient(state, start, end, silent)

    md.block.ruler.at(
        "front_matter", strict, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )


# Control characters other than tab and newline never belong in a note.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_NEWLINES = re.compile(r"\r\n?")
_WHITESPACE = re.compile(r"\s+")
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def clean_text(text: str) -> str:
    """Return ``text`` in NFC with ``\\n`` newlines and no control characters."""
    text = _NEWLINES.sub("\n", text)
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


_NOT_ONE_LINE = re.compile(r"[^\S ]|  |^ | $|[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def remember_short_texts(
    maxsize: int, *, max_chars: int = 512
) -> Callable[[Callable[Concatenate[str, _P], _R]], Callable[Concatenate[str, _P], _R]]:
    """Remember a pure function's results for texts of at most ``max_chars`` characters
    (:func:`functools.lru_cache`): a capture asks the same of the same text many times,
    but a long text would only fill the cache."""

    def decorate(
        function: Callable[Concatenate[str, _P], _R],
    ) -> Callable[Concatenate[str, _P], _R]:
        remembered: Any = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def call(text: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            if len(text) > max_chars:
                return function(text, *args, **kwargs)
            result: _R = remembered(text, *args, **kwargs)
            return result

        return call

    return decorate


# The note model runs its converters on every field of every note made: thirty times a capture.
@remember_short_texts(8192)
def one_line(text: str) -> str:
    """Return ``text`` cleaned, with runs of whitespace collapsed to single spaces."""
    if not _NOT_ONE_LINE.search(text) and unicodedata.is_normalized("NFC", text):
        return text  # already clean: the common case, made cheap
    return _WHITESPACE.sub(" ", clean_text(text)).strip()


def escape_inline(text: str) -> str:
    """Escape every ASCII punctuation character so ``text`` reads back literally.

    CommonMark lets any ASCII punctuation be backslash-escaped; mdformat then drops the
    escapes that are not needed, so the final Markdown stays readable.
    """
    return _ASCII_PUNCTUATION.sub(r"\\\1", text)


def _demote_and_inline(state: StateCore) -> None:
    """Core rule: demote shallow top-level headings and turn reference links inline."""
    levels = [int(t.tag[1]) for t in state.tokens if t.type == "heading_open" and t.level == 0]
    shift = max(0, _SECTION_LEVEL - min(levels)) if levels else 0
    for token in state.tokens:
        if shift and token.type in {"heading_open", "heading_close"} and token.level == 0:
            level = min(6, int(token.tag[1]) + shift)
            token.tag = f"h{level}"
            token.markup = "#" * level
        if token.type == "inline" and token.children:
            _inline_references(token.children)
    # Every link is inline now: forget the definitions, so that mdformat neither writes
    # them at the end nor escapes text that merely looks like a reference to them.
    state.env.get("references", {}).clear()


def _inline_references(children: Iterable[Token]) -> None:
    for child in children:
        if child.type in {"link_open", "image"}:
            child.meta.pop("label", None)
        if child.children:
            _inline_references(child.children)


class _SectionPlugin:
    """mdformat parser extension applying :func:`_demote_and_inline`."""

    CHANGES_AST = True
    RENDERERS: Mapping[str, Any] = {}

    @staticmethod
    def update_mdit(mdit: MarkdownIt) -> None:
        mdit.core.ruler.push("obsidian_inbox_sections", _demote_and_inline)


class _VerbatimFrontmatterPlugin:
    """mdformat parser extension that recognises frontmatter and writes it back unchanged."""

    CHANGES_AST = False

    @staticmethod
    def update_mdit(mdit: MarkdownIt) -> None:
        mdit.use(front_matter_plugin)

    @staticmethod
    def _render(node: Any, context: Any) -> str:
        return f"{node.markup}\n{node.content}\n{node.markup}"

    RENDERERS: Mapping[str, Any] = {"front_matter": _render}


def _register_plugin() -> None:
    extensions: Any = mdformat.plugins.PARSER_EXTENSIONS
    extensions.setdefault(_PLUGIN_NAME, _SectionPlugin)
    extensions.setdefault(_FRONTMATTER_PLUGIN_NAME, _VerbatimFrontmatterPlugin)


_register_plugin()


@functools.cache
def parser() -> MarkdownIt:
    """Return the markdown-it parser used to read notes (CommonMark, frontmatter, wikilinks)."""
    return MarkdownIt("commonmark").use(front_matter_plugin).use(wikilink_plugin)


@functools.cache
def block_parser() -> MarkdownIt:
    """Return :func:`parser` without inline parsing: the block structure only, twice as fast.

    Use :func:`parse_inline` on the few inline tokens whose content matters.
    """
    md = MarkdownIt("commonmark").use(front_matter_plugin).use(wikilink_plugin)
    md.core.ruler.disable("inline")
    return md


def parse_inline(source: str) -> list[Token]:
    """Return the inline tokens of one inline ``source`` (a heading's or a paragraph's text)."""
    tokens = parser().parseInline(source)
    return list(tokens[0].children or ()) if tokens else []


def _format(text: str, extensions: Iterable[str]) -> str:
    return mdformat.text(text, options=MDFORMAT_OPTIONS, extensions=extensions)


def _closes_cleanly(body: str) -> bool:
    """Tell whether a heading placed after ``body`` is still read as a heading."""
    tokens = parser().parse(body + "\n\n# obsidian-inbox-sentinel\n")
    return any(
        t.type == "inline" and t.content == "obsidian-inbox-sentinel" and t.level == 1
        for t in tokens
    )


def _as_code_block(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


# --- the plain-text fast path ----------------------------------------------------------
#
# mdformat costs about a millisecond per call; most captures are plain prose with URLs and
# #tags, which mdformat leaves exactly as written (apart from blank-line runs). For text
# that provably holds no Markdown syntax, the canonical form is computed directly. The
# predicate is conservative, and tests/test_markdown.py checks with Hypothesis that the fast
# result equals mdformat's wherever the predicate accepts a text.

_NOT_PLAIN = re.compile(
    r"""
    [^\w .,;:?!'"()\-/%@+=\#&\u00a1-\U0010ffff]   # outside the safe set: tab * ` ~ < > [ ] | \ { } $ ^
    | [\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff\ufffc-\uffff]  # odd spaces, format chars
    | \ {2}                          # a run of spaces
    | (?<![^\W_])_ | _(?![^\W_])     # an underscore that is not inside a word
    | _(?=(?i:www\.|https?:|ftp:|mailto:))  # or that an autolink could start after
    | \#(?!\w)                       # a "#" that does not start a tag
    | &\#?\w+;                       # something shaped like an HTML entity
    """,
    re.VERBOSE,
)
_BAD_LINE_START = re.compile(r"[-+*>=|:!]|\d{1,9}[.)](?:\s|$)")


# Rendering a note asks for its title and its sources' fields, and checking it asks again.
@remember_short_texts(8192)
def is_plain_inline(text: str) -> bool:
    """Tell whether mdformat leaves ``text`` unchanged in the middle of a line."""
    return text == text.strip() and not _NOT_PLAIN.search(text)


def is_plain_markdown(text: str) -> bool:
    """Tell whether ``text`` is plain prose: paragraphs, simple lists, URLs, #tags, [[links]]."""
    return _plain_blocks(text) is not None


#: The blocks of texts seen lately (None: not plain prose), by text: a note's texts are
#: normalised when it is made, then checked and read again as it is enriched and written.
_blocks_cache: dict[str, list[str] | None] = {}


def _plain_blocks(text: str) -> list[str] | None:
    """:func:`_plain_paragraphs`, remembered."""
    try:
        return _blocks_cache[text]
    except KeyError:
        pass
    blocks = _plain_paragraphs(text)
    _remember_blocks(text, blocks)
    return blocks


def _remember_blocks(text: str, blocks: list[str] | None) -> None:
    if len(_blocks_cache) >= _CACHE_LIMIT:
        _blocks_cache.clear()
    _blocks_cache[text] = blocks


# A [[wikilink]] or ![[embed]] that the mdformat-wikilink plugin keeps verbatim: after a
# space or an opening bracket or quote (glued to a URL, the autolink takes it), no "[" in
# the shown text (the plugin then reads it twice) and no "(" or "[" after it (that makes it
# a Markdown link); all found by the property tests.
_WIKILINK = re.compile(r"(?:(?<=[\s(\"'“‘])|^)!?\[\[[^\[|\]\n]+(?:\|[^\[\]\n]+)?\]\](?![(\[])")
# What stands for a wikilink when the rest of a line is checked: a symbol, not a word
# character, so the rules about what may sit next to it stay strict.
_LINK_STAND_IN = "\u2603"


def _plain_line(line: str) -> bool:
    if not line or line != line.strip():
        return False
    if "[[" in line:
        line = _WIKILINK.sub(_LINK_STAND_IN, line)
    return not _BAD_LINE_START.match(line) and not _NOT_PLAIN.search(line)


def _plain_paragraphs(text: str) -> list[str] | None:
    """Return the blocks of ``text`` as mdformat writes them if it is plain prose, else None.

    Plain prose is paragraphs of plain lines and simple tight ``- `` lists of plain items
    (a list may directly follow its paragraph's last line; mdformat puts a blank line there).
    """
    blocks: list[str] = []
    block: list[str] = []
    previous_was_list = False

    def close() -> bool:
        nonlocal previous_was_list
        if not block:
            return True
        items = [index for index, line in enumerate(block) if line.startswith("- ")]
        if not items:
            blocks.append("\n".join(block))
            previous_was_list = False
            return True
        first = items[0]
        # The items must run to the end of the block (no lazy continuation lines), and a
        # list must not follow another one (they would merge into one loose list).
        if items != list(range(first, len(block))) or (first == 0 and previous_was_list):
            return False
        if not all(_plain_line(line[2:]) for line in block[first:]):
            return False
        if first:
            blocks.append("\n".join(block[:first]))
        blocks.append("\n".join(block[first:]))
        previous_was_list = True
        return True

    for line in text.split("\n"):
        if not line.strip():
            if not close():
                return None
            block = []
            continue
        if not (line.startswith("- ") or _plain_line(line)):
            return None
        block.append(line)
    if not close():
        return None
    return blocks


def plain_prose_text(text: str) -> str | None:
    """Return the text of plain-prose Markdown without its syntax, or None if it is not plain.

    What ``markdown-it`` would give, one line per paragraph or list item, for the texts
    :func:`is_plain_markdown` accepts (tests/test_markdown.py checks that they agree),
    without parsing: a ``[[Target|shown]]`` link becomes ``shown``.

    >>> plain_prose_text("See [[Notes|the notes]]\\nand more.\\n\\n- one\\n- two")
    'See the notes and more.\\none\\ntwo'
    >>> plain_prose_text("*emphasis*") is None
    True
    """
    blocks = _plain_blocks(text)
    if blocks is None:
        return None
    lines: list[str] = []
    for block in blocks:
        if block.startswith("- "):
            lines += [item[2:] for item in block.split("\n")]
        else:
            lines.append(block.replace("\n", " "))
    result = "\n".join(lines)
    if "[[" in result:
        # An embed keeps its "!": markdown-it reads it as text before the link.
        result = _WIKILINK.sub(lambda m: m[0][: m[0].index("[")] + wikilink_text(m[0]), result)
    return result.strip()


def wikilink_text(link: str) -> str:
    """``[[Target|shown]]`` → ``shown``; ``[[Target]]`` → ``Target``, as Obsidian shows them."""
    target, _, shown = link.removeprefix("!").removeprefix("[[").removesuffix("]]").partition("|")
    return shown or target


_CACHE_LIMIT = 4096
_cache: dict[str, str] = {}
_cache_lock = threading.Lock()


def normalize_markdown(text: str) -> str:
    """Return the canonical form of a Markdown body (see the module docstring).

    The result is a fixed point: ``normalize_markdown(normalize_markdown(x))`` is
    ``normalize_markdown(x)``. An empty or blank body gives ``""``. Results are cached,
    so re-validating a note that is already canonical costs a dictionary look-up.
    """
    with _cache_lock:
        cached = _cache.get(text)
    if cached is not None:
        return cached
    # A body read back from a note differs from its canonical form by the blank lines
    # around it, which _normalize strips first: look the stripped text up too.
    stripped = clean_text(text).strip("\n")
    with _cache_lock:
        cached = _cache.get(stripped)
    result = cached if cached is not None else _normalize(stripped)
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[text] = result
        _cache[result] = result
    return result


def _normalize(text: str) -> str:
    text = clean_text(text).strip("\n")
    if not text.strip():
        return ""
    paragraphs = _plain_paragraphs(text)
    if paragraphs is not None:
        result = "\n\n".join(paragraphs)
        _remember_blocks(result, paragraphs)  # the blocks of the result are the same
        return result
    return _normalize_slowly(text)


def _normalize_slowly(text: str) -> str:
    try:
        result = _format(text + "\n", BODY_EXTENSIONS)
        for _ in range(3):
            again = _format(result, BODY_EXTENSIONS)
            if again == result:
                break
            result = again
        else:  # mdformat did not settle
            raise _Unformattable
        result = result.strip("\n")
        if not _closes_cleanly(result):
            raise _Unformattable
    except Exception:  # mdformat or a plugin failed (e.g. "- [ ]\n  text" in mdformat-gfm)
        logger.debug("keeping Markdown verbatim, as code: mdformat cannot format it", exc_info=True)
        result = _format(_as_code_block(text) + "\n", BODY_EXTENSIONS).strip("\n")
    return result


class _Unformattable(Exception):
    """mdformat gives no canonical form for a text."""


@functools.lru_cache(maxsize=4096)
def format_line(prefix: str, value: str) -> str:
    """Return the canonical Markdown line ``prefix`` + ``value``, with ``value`` read literally.

    ``prefix`` is Markdown (``"# "``, ``"- title: "``); ``value`` is plain text that must
    read back unchanged, so it is escaped where needed.
    """
    if is_plain_inline(value):
        return prefix + value
    return _format(prefix + escape_inline(value) + "\n", _LINE_EXTENSIONS).rstrip("\n")


def format_document(text: str) -> str:
    """Format a whole note (frontmatter included) with mdformat."""
    return _format(text, DOCUMENT_EXTENSIONS)


def inline_plain_text(children: Iterable[Token] | None) -> str:
    """Return the literal text of inline tokens (escapes resolved, markup kept as written)."""
    parts: list[str] = []
    for child in children or ():
        if child.type in {"text", "wikilink", "html_inline"}:
            parts.append(child.content)
        elif child.type == "code_inline":
            parts.append(child.markup + child.content + child.markup)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.children:
            parts.append(inline_plain_text(child.children))
        elif child.markup:
            parts.append(child.markup)
    return "".join(parts)
