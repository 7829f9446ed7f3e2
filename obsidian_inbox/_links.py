"""Mentions of existing notes become ``[[wikilinks]]`` (pure).

:class:`VaultLinker` finds the titles and aliases of a vault's notes in the Markdown
this library generates (a note's summary, content and scraped text; never the user's
own notes) and links them, by these rules:

- one multi-pattern search (Aho-Corasick, ``pyahocorasick``) over the case-folded
  text finds every title and alias at once, however many notes the vault has;
- whole words only (Unicode-aware), case-insensitive, except that an all-caps title
  (an acronym such as ``CRISPR``) matches only in capitals; typographic apostrophes
  match straight ones;
- the longest match wins (``Machine Learning Engineer`` over ``Machine Learning``);
- only the first mention of each note is linked (:attr:`LinkOptions.first_only`), and
  not at all when the text already links to it;
- never inside code, existing links, URLs, ``#tags``, headings, tables, HTML, math,
  ``%%comments%%`` or frontmatter, and never to the note itself;
- ``[[Title|text as written]]`` when the text differs from the title (case, alias);
  ``[[folder/Title]]``, the note's path, when several notes share its name, as
  Obsidian writes such links;
- titles too short or too common to mean a note are skipped (one letter, stop-words,
  numbers and dates, a configurable list).

Where a link may go is decided by markdown-it itself: each block with a mention (the
text between blank lines; or, when the text has constructs that span blank lines,
markdown-it's top-level paragraphs, lists and quotes) is parsed before and after the
links are put in, and a link is kept only if the block renders the same (links shown
as their text) and the link is read as a wikilink in a paragraph. Blocks of plain prose,
where a wikilink cannot be read as anything else, are not parsed (a property test
checks that markdown-it agrees).
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import ahocorasick
import attrs
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdformat_wikilink.mdit_wikilink_plugin import LINK_PATTERN, wikilink_plugin

from ._index import NoteInfo, VaultIndex, bulk
from ._markdown import FRONTMATTER_OPENING, front_matter_plugin, normalize_markdown
from ._naming import clean_file_stem
from ._note import Note, evolve

__all__ = ["DEFAULT_STOP_WORDS", "LinkOptions", "Mention", "VaultLinker", "link_note"]

logger = logging.getLogger(__name__)

#: Words never linked on their own, whatever notes the vault has (compared case-insensitively).
DEFAULT_STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just let me more most my myself no nor not now of off on once
    only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves also may might must shall via vs etc per
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_DEFAULT_ORIGINS: Mapping[str, str] = {
    "link": "Phone Shortcut",
    "note": "Phone Shortcut",
    "shortcut": "Phone Shortcut",
}
# Link targets cannot hold these (Obsidian's file names cannot either).
_BAD_TARGET = re.compile(r"[\[\]|#^\n\r]")
# The text shown for a link cannot hold these.
_BAD_DISPLAY = re.compile(r"[\[\]|\n\r]")
# Typographic apostrophes and odd spaces match their plain forms (one character each).
_FOLD = (("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u00a0", " "), ("\u202f", " "))
_FOLD_ANY = re.compile("[" + "".join(a for a, _ in _FOLD) + "]")
_NOT_BEFORE = frozenset("![#^\\/@&")
_ESCAPED_BEFORE = re.compile(r"\\[*~_][*~_\\]*\Z")
_ESCAPED_AFTER = re.compile(r"[*~_]*\\")
_NOT_AFTER = frozenset("]([")  # "[[x]](y)" and "[[x]][y]" would be Markdown links


def _folded_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(_fold_key(value) for value in values)


def _origins(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _folders(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(value.strip("/") + "/" for value in values if value.strip("/"))


@attrs.frozen(kw_only=True)
class LinkOptions:
    """How :class:`VaultLinker` links notes.

    Attributes:
        first_only: Link only the first mention of each note (the text already linking
            to a note counts as its first mention).
        min_length: Titles and aliases shorter than this many characters are skipped.
        stop_words: Titles and aliases equal to one of these are skipped (an all-caps
            one is not: it is matched in capitals only).
        skip: Further titles and aliases never to link (compared case-insensitively).
        skip_folders: Notes in these vault folders are never linked to (templates, say).
        aliases: Link mentions of aliases too.
        numbers: Link titles without a letter (numbers; dates such as daily notes).
        ambiguous: Link a name several notes share, by path, to the note nearest the
            vault's root (as Obsidian resolves such a name); otherwise leave it.
        connections_from_mentions: How many of the most-mentioned notes go to the
            connections section.
        unresolved_sources: Connect a feed or site with no note of its own anyway,
            with a link Obsidian creates the note for on click; otherwise leave it out.
        origins: The note connected for each capture kind that has no feed (``link``,
            ``note``, ``shortcut``), when the vault has a note of that name.
    """

    first_only: bool = True
    min_length: int = 2
    stop_words: frozenset[str] = attrs.field(default=DEFAULT_STOP_WORDS, converter=_folded_set)
    skip: frozenset[str] = attrs.field(default=frozenset(), converter=_folded_set)
    skip_folders: tuple[str, ...] = attrs.field(default=(), converter=_folders)
    aliases: bool = True
    numbers: bool = False
    ambiguous: bool = True
    connections_from_mentions: int = 5
    unresolved_sources: bool = True
    origins: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_ORIGINS), converter=_origins, hash=False
    )


@attrs.frozen
class Mention:
    """A mention of a vault note in a text.

    Attributes:
        text: The words as written.
        target: The link target: the note's title, or its path when its name is shared.
        path: The vault-relative path of the note mentioned.
        start: Where the mention starts in the text (a string index).
        end: Where it ends.
        line: Its line, from 1.
        column: Its column, from 1.
    """

    text: str
    target: str
    path: str
    start: int
    end: int
    line: int
    column: int

    def wikilink(self) -> str:
        """Return the link that replaces the mention: ``[[target]]`` or ``[[target|text]]``."""
        return _wikilink(self.target, self.text)


def _wikilink(target: str, text: str) -> str:
    return f"[[{target}]]" if text == target else f"[[{target}|{text}]]"


# --- names -----------------------------------------------------------------------------


def _fold(text: str) -> tuple[str, list[int] | None]:
    """Case-fold ``text``; return it and, when its length changed, each character's origin."""
    translated = text
    if _FOLD_ANY.search(text):
        for odd, plain in _FOLD:
            translated = translated.replace(odd, plain)
    folded = translated.casefold()
    if len(folded) == len(translated):
        return folded, None
    parts: list[str] = []
    origin: list[int] = []
    for position, char in enumerate(translated):
        piece = char.casefold()
        parts.append(piece)
        origin.extend([position] * len(piece))
    return "".join(parts), origin


def _fold_key(text: str) -> str:
    return _fold(unicodedata.normalize("NFC", text.strip()))[0]


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _is_acronym(name: str) -> bool:
    return name == name.upper() and name != name.lower()


class _Entry(NamedTuple):
    """One note a name may mean."""

    path: str
    is_title: bool
    exact: str | None  # an acronym: the text must be exactly this


class _Name(NamedTuple):
    folded: str
    word_start: bool
    word_end: bool
    entries: tuple[_Entry, ...]


_HAS_WORD = re.compile(r"[^\W_]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_ODD_NAME = re.compile(r"[\[\]|\n\r\u2019\u2018\u02bc\u00a0\u202f*~]|^_|_$")
# A name with an emphasis marker that could pair with one outside it once linked.
_MARKER_NAME = re.compile(r"[*~]|^_|_$")


# Most names: ASCII, a letter first, nothing odd. One regex call tells.
_SIMPLE_NAME = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9 ',.()+&:!?@/=-]*")


def _linkable_name(name: str, options: LinkOptions) -> str | None:
    """Return the case-folded form of a title or alias worth linking, or None."""
    if len(name) < options.min_length:
        return None
    if _SIMPLE_NAME.fullmatch(name):
        folded = name.lower()
        if folded in options.skip or (folded in options.stop_words and name.upper() != name):
            return None
        return folded
    if not (_HAS_LETTER if not options.numbers else _HAS_WORD).search(name):
        return None
    if _ODD_NAME.search(name):
        if _BAD_DISPLAY.search(name) or _MARKER_NAME.search(name):
            return None
        folded = _fold(name)[0]
    else:
        folded = name.casefold()
    if folded in options.skip or (folded in options.stop_words and not _is_acronym(name)):
        return None
    return folded


def _word_start(folded: str) -> bool:
    return folded[0].isalnum() or _is_word(folded[0])


def _word_end(folded: str) -> bool:
    return folded[-1].isalnum() or _is_word(folded[-1])


class _Matcher:
    """The names of some notes, found in a text by an Aho-Corasick automaton.

    With ``searched``, no automaton is built and each name is looked for on its own: for
    the few notes a run has just written, which change after every note, that costs
    less than building an automaton each time.
    """

    def __init__(
        self,
        infos: Iterable[NoteInfo],
        options: LinkOptions,
        *,
        table: dict[str, list[_Entry]] | None = None,
        previous: dict[str, _Name] | None = None,
        searched: bool = False,
    ) -> None:
        #: The notes each case-folded name may mean.
        self.table: dict[str, list[_Entry]] = {} if table is None else table
        self.searched = searched
        #: The paths of the notes whose names were entered here (not those of ``table``).
        self.paths: set[str] = set()
        with bulk():
            self._build(infos, options, previous or {})

    def updated(
        self, changed: frozenset[str], infos: Iterable[NoteInfo], options: LinkOptions
    ) -> _Matcher:
        """Return a matcher like this one with the notes at ``changed`` taken from ``infos``.

        Only the names of those notes are made again; the automaton is rebuilt from the
        names already known, without reading the other notes' titles and aliases again.
        """
        table: dict[str, list[_Entry]] = {}
        previous: dict[str, _Name] = {}
        for name in self.names:
            if any(entry.path in changed for entry in name.entries):
                kept = [entry for entry in name.entries if entry.path not in changed]
                if kept:
                    table[name.folded] = kept
            else:
                table[name.folded] = list(name.entries)
                previous[name.folded] = name
        matcher = _Matcher(infos, options, table=table, previous=previous, searched=self.searched)
        matcher.paths |= self.paths - changed
        return matcher

    def _build(
        self,
        infos: Iterable[NoteInfo],
        options: LinkOptions,
        previous: dict[str, _Name],
        *,
        extending: bool = False,
    ) -> None:
        """Enter the names of ``infos`` into the table; then make the names and the
        automaton (reusing ``previous`` names), or, ``extending``, add to them."""
        table = self.table
        skip_folders = options.skip_folders
        aliases = options.aliases
        simple = _SIMPLE_NAME.fullmatch
        skip, stop_words, min_length = options.skip, options.stop_words, options.min_length
        numbers = options.numbers
        touched: set[str] = set()

        def enter(name: str, path: str, is_title: bool) -> None:
            if simple(name) and len(name) >= min_length:  # the common case, inline
                folded = name.lower()
                if folded in skip or (folded in stop_words and name.upper() != name):
                    return
                exact = name if name.upper() == name else None
            elif not numbers and name.isascii() and not _HAS_LETTER.search(name):
                return  # a number or a date
            else:
                name = unicodedata.normalize("NFC", name.strip())
                found = _linkable_name(name, options)
                if found is None:
                    return
                folded, exact = found, (name if _is_acronym(name) else None)
            touched.add(folded)
            entries = table.get(folded)
            if entries is None:
                table[folded] = [_Entry(path, is_title, exact)]
            else:
                entries.append(_Entry(path, is_title, exact))

        for info in infos:
            path = info.path
            self.paths.add(path)
            if (skip_folders and path.startswith(skip_folders)) or _BAD_TARGET.search(path):
                continue
            enter(info.title, path, True)
            if aliases:
                for alias in info.aliases:
                    enter(alias, path, False)
        if extending:
            self._extend_names(touched)
            return
        # The automaton holds numbers (cheaper to store than objects); names[number].
        self.names = [
            previous[folded]
            if folded in previous and folded not in touched
            else _Name(folded, _word_start(folded), _word_end(folded), tuple(entries))
            for folded, entries in table.items()
        ]
        if self.searched:
            self.automaton: Any = None
            self.numbers = {folded: number for number, folded in enumerate(table)}
            return
        self.automaton = ahocorasick.Automaton()
        add = self.automaton.add_word
        for number, folded in enumerate(table):
            add(folded, number)
        if table:
            self.automaton.make_automaton()

    def extend(self, infos: Iterable[NoteInfo], options: LinkOptions) -> None:
        """Enter the names of notes new to this matcher, in place.

        Cheaper than :meth:`updated`, which makes every name again (in Python; the
        automaton, if any, is made again in C): a run adds its notes one at a time.
        """
        with bulk():
            self._build(infos, options, {}, extending=True)

    def _extend_names(self, touched: set[str]) -> None:
        added = False
        for folded in touched:
            entries = tuple(self.table[folded])
            number = self._number(folded)
            if number is None:
                number = len(self.names)
                self.names.append(_Name(folded, _word_start(folded), _word_end(folded), entries))
                if self.automaton is None:
                    self.numbers[folded] = number
                else:
                    self.automaton.add_word(folded, number)
                    added = True
            else:
                self.names[number] = self.names[number]._replace(entries=entries)
        if added:
            self.automaton.make_automaton()

    def _number(self, folded: str) -> int | None:
        if self.automaton is None:
            return self.numbers.get(folded)
        number: int | None = self.automaton.get(folded, None)
        return number

    def __len__(self) -> int:
        return len(self.names)

    def get(self, folded: str) -> _Name | None:
        number = self._number(folded) if self.names else None
        return None if number is None else self.names[number]

    def iter(self, folded: str) -> Iterator[tuple[int, int]]:
        """(index of the last character, name number) of every name in ``folded``."""
        if self.automaton is None:
            return self._search(folded)
        return self.automaton.iter(folded) if self.names else iter(())

    def _search(self, folded: str) -> Iterator[tuple[int, int]]:
        """:meth:`iter` without an automaton: every occurrence of each name, overlaps too."""
        names = self.names
        for number in [number for number, name in enumerate(names) if name.folded in folded]:
            key = names[number].folded
            last = len(key) - 1
            at = folded.find(key)
            while at >= 0:
                yield at + last, number
                at = folded.find(key, at + 1)


# --- the structure of a text -------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_FENCE = re.compile(r"(`{3,}|~{3,})([^\n]*)")
# Constructs that may span blank lines or change text far away, checked on the text
# with a newline put first: HTML blocks, fences that are indented or inside lists or
# quotes, and link reference definitions; also math blocks and comments (below).
_SPANS_BLOCKS = re.compile(
    r"""\n[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t>]+)*
        (?: <
          | (?<=[ \t>])(?:`{3}|~{3})
          | \[[^\]\n]+\]:
        )""",
    re.VERBOSE,
)
_HEADING_LINE = re.compile(r"[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t>]+)*#{1,6}(?:[ \t]|$)")
_INLINE_MATH = re.compile(r"\$(?=\S)[^$\n]*?(?<=\S)\$")
_COMMENT = re.compile(r"%%.*?(?:%%|\Z)", re.DOTALL)
_MATH_BLOCK = re.compile(r"\$\$.*?(?:\$\$|\Z)", re.DOTALL)
_EMBED_OR_LINK = re.compile(r"!?" + LINK_PATTERN.pattern)
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*:/{1,3}[^\s<>]*")
_WWW = re.compile(r"(?i)\bwww\.[^\s<>]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HASHTAG = re.compile(r"#(?<![\w&#/\\]#)[\w\-/]*[^\W\d][\w\-/]*")
# An HTML tag, comment or autolink (or what may be one): never prose.
_ANGLED = re.compile(r"<[A-Za-z/!?][^<>\n]*>")
# What is not prose inside a line, each with a string it cannot be found without.
_PROTECTED = (
    ("[[", _EMBED_OR_LINK),
    (":/", _URL),
    ("ww.", _WWW),
    ("@", _EMAIL),
    ("#", _HASHTAG),
    ("$", _INLINE_MATH),
    ("<", _ANGLED),
)


_FRONTMATTER_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def _frontmatter_end(text: str) -> int:
    opening = FRONTMATTER_OPENING.match(text)
    if opening is None or not opening.group().endswith("\n"):
        return 0
    match = _FRONTMATTER_CLOSING.search(text, opening.end())
    return match.end() if match else 0


def _fence_lines(text: str) -> Iterator[re.Match[str]]:
    """The lines that start with ``` or ~~~ (found with ``str.find``, faster than ``^``)."""
    for marker in ("```", "~~~"):
        position = text.find(marker)
        while position >= 0:
            if position == 0 or text[position - 1] == "\n":
                match = _FENCE.match(text, position)
                if match is not None:
                    yield match
            position = text.find(marker, text.find("\n", position) + 1 or len(text))


def _fences(text: str) -> list[tuple[int, int]]:
    """Top-level fenced code blocks: (start, end) of each, fences included."""
    regions: list[tuple[int, int]] = []
    if "```" not in text and "~~~" not in text:
        return regions
    opener: re.Match[str] | None = None
    for match in sorted(_fence_lines(text), key=lambda m: m.start()):
        marker, rest = match[1], match[2]
        if opener is None:
            if marker[0] == "`" and "`" in rest:
                continue  # inline code, not a fence
            opener = match
        elif marker[0] == opener[1][0] and len(marker) >= len(opener[1]) and not rest.strip():
            regions.append((opener.start(), match.end()))
            opener = None
    if opener is not None:
        regions.append((opener.start(), len(text)))
    return regions


@attrs.define
class _Candidate:
    start: int
    end: int
    name: _Name | None
    entries: list[_Entry]
    info: NoteInfo | None = None
    target: str = ""


_PROSE_BLOCKS = frozenset(
    {"paragraph_open", "bullet_list_open", "ordered_list_open", "blockquote_open"}
)
_REFERENCE = re.compile(r"^[ \t>]*\[[^\]\n]+\]:", re.MULTILINE)


def _merged(intervals: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, merged intervals: their starts and their ends."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [start for start, _ in merged], [end for _, end in merged]


@functools.cache
def _block_parser(tables: bool = True) -> MarkdownIt:
    """The parser of :func:`_parser`, reading blocks only (no inline parsing)."""
    md = MarkdownIt("commonmark").use(front_matter_plugin)
    if tables:
        md.enable("table")
    md.core.ruler.disable("inline")
    return md


class _Structure:
    """Where in a text links may go, and the blocks to check them in.

    A block is the text between blank lines, unless the text has constructs that may
    span blank lines (HTML blocks, fences in lists, ...): then the blocks are the
    top-level paragraphs, lists and quotes markdown-it finds. Frontmatter, fenced code,
    math blocks and comments are cut out either way, as is, in the second case,
    anything that is not prose.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.references = "]:" in text and bool(_REFERENCE.search(text))
        cuts: list[tuple[int, int]] = []
        self.frontmatter = _frontmatter_end(text)
        if self.frontmatter:
            cuts.append((0, self.frontmatter))
        cuts += _fences(text)
        self.tricky = bool("$$" in text or "%%" in text or _SPANS_BLOCKS.search("\n" + text))
        if self.tricky:
            cuts += self._not_prose(text)
        # Math and comments may sit inside a paragraph: no link in them, but they do
        # not end a block (the text around them is read with them).
        excluded = list(cuts)
        if "$$" in text:
            excluded += [(m.start(), m.end()) for m in _MATH_BLOCK.finditer(text)]
        if "%%" in text:
            excluded += [(m.start(), m.end()) for m in _COMMENT.finditer(text)]
        self.cut_starts, self.cut_ends = _merged(cuts)
        self.excluded_starts, self.excluded_ends = _merged(excluded)
        self._protected: dict[int, tuple[list[int], list[int]]] = {}
        self._newlines: list[int] | None = None
        self._last_block = (0, 0)

    @staticmethod
    def _not_prose(text: str) -> list[tuple[int, int]]:
        """Everything but the top-level paragraphs, lists and quotes, by markdown-it."""
        offsets = [0]
        for match in re.finditer("\n", text):
            offsets.append(match.end())
        offsets.append(len(text) + 1)
        cuts: list[tuple[int, int]] = []
        # Prose only if prose both with and without GFM tables (a table may or may not
        # interrupt a paragraph: without, "x\n| a |\n|---|\n---" is one setext heading).
        for tables in (True, False) if "|" in text else (True,):
            position = 0
            for token in _block_parser(tables).parse(text):
                if token.level != 0 or token.nesting < 0 or token.map is None:
                    continue
                start = offsets[min(token.map[0], len(offsets) - 1)]
                end = min(offsets[min(token.map[1], len(offsets) - 1)], len(text))
                if token.type in _PROSE_BLOCKS:
                    cuts.append((position, start))
                    position = max(position, end)
            cuts.append((position, len(text)))
        return [(start, end) for start, end in cuts if end > start]

    def excluded(self, start: int, end: int) -> bool:
        """Tell whether ``start:end`` overlaps frontmatter, code, math or a comment."""
        index = bisect.bisect_right(self.excluded_starts, end - 1) - 1
        return index >= 0 and self.excluded_ends[index] > start

    def block(self, start: int) -> tuple[int, int]:
        """The block around ``start``: between cuts, and (unless tricky) blank lines."""
        index = bisect.bisect_right(self.cut_ends, start)
        begin = self.cut_ends[index - 1] if index else 0
        end = self.cut_starts[index] if index < len(self.cut_starts) else len(self.text)
        if self.tricky:
            return begin, end
        last_begin, last_end = self._last_block
        if last_begin <= start < last_end and begin <= last_begin and last_end <= end:
            return self._last_block  # the same paragraph as the mention before: no rescan
        self._last_block = self._paragraph(start, begin, end)
        return self._last_block

    def _paragraph(self, start: int, begin: int, end: int) -> tuple[int, int]:
        """The lines around ``start`` between blank lines, within ``begin:end``."""
        text = self.text
        blank = _BLANK_LINES.search(text, start, end)
        if blank is not None:
            end = blank.start() + 1
        line_start = max(text.rfind("\n", begin, start) + 1, begin)
        while line_start > begin:  # back to the line after a blank one
            previous = max(text.rfind("\n", begin, line_start - 1) + 1, begin)
            if not text[previous : line_start - 1].strip(" \t"):
                return line_start, end
            line_start = previous
        return begin, end

    def _line(self, position: int) -> tuple[int, int]:
        if self._newlines is None:
            self._newlines = [match.start() for match in re.finditer("\n", self.text)]
        index = bisect.bisect_left(self._newlines, position)
        start = self._newlines[index - 1] + 1 if index else 0
        end = self._newlines[index] if index < len(self._newlines) else len(self.text)
        return start, end

    def _spans(self, line_start: int, line_end: int) -> tuple[list[int], list[int]]:
        """Spans of a line that are not prose (links, URLs, tags, math, HTML), merged."""
        spans = self._protected.get(line_start)
        if spans is None:
            line = self.text[line_start:line_end]
            found: list[tuple[int, int]] = []
            for trigger, pattern in _PROTECTED:
                if trigger in line:
                    found += [(m.start(), m.end()) for m in pattern.finditer(line)]
            spans = _merged([(line_start + a, line_start + b) for a, b in found])
            self._protected[line_start] = spans
        return spans

    def allows(self, start: int, end: int) -> bool:
        """Tell whether a mention at ``start:end`` is in prose (a first, cheap check)."""
        text = self.text
        # Right after a wikilink, what is read before the mention is the link's text: as if
        # unlinked ("A@A@" must not become "[[x|A@]][[x|A@]]" on a second run).
        before = start - 2 if start >= 2 and text.startswith("]]", start - 2) else start
        if before > 0 and text[before - 1] in _NOT_BEFORE:
            return False
        if end < len(text) and text[end] in _NOT_AFTER:
            return False
        # An escaped emphasis marker next to a link: mdformat would escape it differently
        # once the link splits the text around it ("\\*\\*x" -> "\\*\\*[[x]]" -> "**[[x]]").
        if _ESCAPED_BEFORE.search(text, max(0, start - 8), start) or _ESCAPED_AFTER.match(
            text, end
        ):
            return False
        if self.excluded(start, end):
            return False
        line_start, line_end = self._line(start)
        if end > line_end or _HEADING_LINE.match(text, line_start):
            return False
        if self.references and text.rfind("[", line_start, start) > text.rfind(
            "]", line_start, start
        ):
            return False  # "[...]" may be a link to a reference defined anywhere
        # found by bisection: a scan of the line's spans per mention was quadratic
        starts, ends = self._spans(line_start, line_end)
        index = bisect.bisect_right(starts, end - 1) - 1
        return not (index >= 0 and ends[index] > start)


# --- checking links with markdown-it ----------------------------------------------------


def _render_wikilink(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    content = tokens[idx].content[2:-2]
    return escapeHtml(content.split("|", 1)[-1])


@functools.cache
def _parser(tables: bool = True) -> MarkdownIt:
    """CommonMark with strikethrough, frontmatter, wikilinks and (or not) GFM tables.

    Whether a table may interrupt a paragraph differs between readers (mdformat's GFM
    says yes, Obsidian wants a blank line before it), so a block with a ``|`` must read
    the same both ways. Bare URLs are not parsed as links here; :class:`_Structure`
    keeps mentions out of them (linkify-it would cost more than the rest of the check).
    """
    md = MarkdownIt("commonmark").use(front_matter_plugin).use(wikilink_plugin)
    md.enable(["table", "strikethrough"] if tables else ["strikethrough"])
    md.add_render_rule("wikilink", _render_wikilink)
    return md


@functools.lru_cache(maxsize=256)
def _reading(block: str, tables: bool = True) -> tuple[str, int]:
    """How a block reads: its HTML with links shown as text, and its wikilinks in prose."""
    md = _parser(tables)
    tokens = md.parse(block)
    prose = sum(1 for _ in _prose_links(tokens))
    return md.renderer.render(tokens, md.options, {}), prose


def _replace(block: str, offset: int, links: Sequence[_Candidate]) -> str:
    parts: list[str] = []
    position = 0
    for link in links:
        parts.append(block[position : link.start - offset])
        parts.append(_wikilink(link.target, block[link.start - offset : link.end - offset]))
        position = link.end - offset
    parts.append(block[position:])
    return "".join(parts)


# Blocks where a wikilink put in place of a word cannot read as anything else, and
# cannot change how the rest reads: no brackets, code, HTML, tables, math, comments,
# entities or escapes; no line that underlines a heading or opens a fence; not indented
# code (no line indented four spaces). Emphasis markers (* _ ~) are fine away from the mention: a wikilink is one
# opaque token, and whether a marker opens or closes emphasis depends only on the
# characters right next to it.
_BLOCK_SYNTAX = re.compile(r"[`\[\]<\\|$]|%%|&#?\w+;|^ {0,3}(?:=+|-+|~~~)[ \t]*$", re.MULTILINE)
_EMPHASIS = frozenset("*_~")
_INDENTED = re.compile(r"^(?: {4}|[ ]{0,3}\t)", re.MULTILINE)  # maybe indented code


def _plain_block(block: str, offset: int, links: Sequence[_Candidate]) -> bool:
    if _BLOCK_SYNTAX.search(block) or _INDENTED.search(block):
        return False
    if any(marker in block for marker in _EMPHASIS):
        for link in links:
            start, end = link.start - offset, link.end - offset
            if any(c in _EMPHASIS for c in block[max(0, start - 1) : end + 1]):
                return False
    return True


def _prose_links(tokens: Sequence[Token]) -> Iterator[Token]:
    """The wikilinks of a parsed text that are in a paragraph and not inside a link.

    Not those with a literal ``*``, ``_`` or ``~`` right next to them either: mdformat
    escapes such a marker by what is next to it, so a link there could change how the
    text is written (emphasis around a link, ``**[[x]]**``, is fine).
    """
    for index, token in enumerate(tokens):
        if token.type != "inline" or index == 0 or tokens[index - 1].type != "paragraph_open":
            continue
        depth = 0
        children = token.children or []
        for position, child in enumerate(children):
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "wikilink" and depth == 0:
                before = children[position - 1] if position else None
                after = children[position + 1] if position + 1 < len(children) else None
                if (
                    before is not None
                    and before.type == "text"
                    and before.content[-1:] in _EMPHASIS
                ):
                    continue
                if after is not None and after.type == "text" and after.content[:1] in _EMPHASIS:
                    continue
                yield child


#: The most characters a block's candidates may have parsed one by one (see _link_block).
_MAX_ONE_BY_ONE = 1_000_000
_MARKER = re.compile(r"\[\[\ue000(\d+)\ue001\]\]")


def _in_prose(block: str, offset: int, candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The candidates that would be links in prose, found with one parse of the block.

    Each is replaced by a numbered placeholder link; those read as wikilinks in a
    paragraph (whatever tables are taken to be) are in prose.
    """
    parts: list[str] = []
    position = 0
    for number, candidate in enumerate(candidates):
        parts += [block[position : candidate.start - offset], f"[[\ue000{number}\ue001]]"]
        position = candidate.end - offset
    parts.append(block[position:])
    marked = "".join(parts)
    found: set[int] | None = None
    for tables in (True, False) if "|" in block else (True,):
        numbers = {
            int(match[1])
            for link in _prose_links(_parser(tables).parse(marked))
            if (match := _MARKER.fullmatch(link.content))
        }
        found = numbers if found is None else found & numbers
    return [c for number, c in enumerate(candidates) if found and number in found]


def _reads_the_same(block: str, offset: int, links: Sequence[_Candidate]) -> bool:
    if _plain_block(block, offset, links):
        return True
    linked = _replace(block, offset, links)
    for tables in (True, False) if "|" in block else (True,):
        html, prose = _reading(block, tables)
        new_html, new_prose = _reading(linked, tables)
        if new_prose != prose + len(links) or new_html != html:
            return False
    return True


# --- the linker -------------------------------------------------------------------------


class VaultLinker:
    """Links text to the notes of a vault index; the default linker of :func:`process_inbox`.

    Build it once and reuse it: it builds an Aho-Corasick automaton of every title and
    alias of the index on first use. Called as a :data:`Linker` (``linker(note,
    index)``), it follows the index it is given, taking in notes added or removed since
    (the notes a run writes) without rebuilding everything.

    Args:
        index: The vault index; or None to take it from the first call.
        options: The linking rules (default: :class:`LinkOptions`).
    """

    def __init__(self, index: VaultIndex | None = None, *, options: LinkOptions | None = None):
        self.options = options or LinkOptions()
        self._index: VaultIndex | None = None
        self._base: _Matcher | None = None
        self._base_version = 0
        self._overlay: _Matcher | None = None
        self._overlay_version = 0
        self._masked: frozenset[str] = frozenset()
        if index is not None:
            self._sync(index)

    # --- the index ------------------------------------------------------------------

    @property
    def index(self) -> VaultIndex:
        """The index linked against."""
        if self._index is None:
            raise ValueError("this VaultLinker has no index yet: pass one, or call it with one")
        return self._index

    def _sync(self, index: VaultIndex) -> None:
        if index is not self._index or self._base is None:
            self._index = index
            self._base = _Matcher(index, self.options)
            self._base_version = self._overlay_version = index.version
            self._overlay, self._masked = None, frozenset()
            return
        if index.version == self._overlay_version:
            return
        changed = index.changed_since(self._base_version)
        # The overlay takes in every change; the base is rebuilt when the overlay outgrows
        # about sqrt(2 x base) names, which keeps both costs small per note a run adds.
        if len(changed) > max(32, math.isqrt(2 * len(self._base))):
            present = [info for path in sorted(changed) if (info := index.get(path)) is not None]
            if len(present) == len(changed) and self._base.paths.isdisjoint(changed):
                self._base.extend(present, self.options)  # notes added: the usual case
            else:
                self._base = self._base.updated(changed, present, self.options)
            self._base_version = self._overlay_version = index.version
            self._overlay, self._masked = None, frozenset()
            return
        # Only the notes changed since the overlay was made are entered again.
        fresh = index.changed_since(self._overlay_version)
        present = [info for path in sorted(fresh) if (info := index.get(path)) is not None]
        if self._overlay is None:
            self._overlay = _Matcher(present, self.options, searched=True)
        elif len(present) == len(fresh) and self._overlay.paths.isdisjoint(fresh):
            self._overlay.extend(present, self.options)  # notes added: the usual case
        else:
            self._overlay = self._overlay.updated(fresh, present, self.options)
        self._masked = changed
        self._overlay_version = index.version

    def _matchers(self) -> Iterator[tuple[_Matcher, frozenset[str]]]:
        if self._base is None:
            self.index  # noqa: B018 - raises the error that says what is missing
        assert self._base is not None
        yield self._base, self._masked
        if self._overlay is not None:
            yield self._overlay, frozenset()

    def target(self, info: NoteInfo) -> str:
        """Return the link target of a note: its title, or its path when other notes share its name."""
        if len(self.index.by_title(info.title)) <= 1:
            return info.title
        return unicodedata.normalize("NFC", info.path.removesuffix(".md"))

    def lookup(self, name: str, *, exclude: Iterable[str] = ()) -> NoteInfo | None:
        """Return the note a name (a title or an alias, any case) means, or None.

        None too when the name is several notes' alias, or the note is in ``exclude``.
        """
        text = unicodedata.normalize("NFC", name.strip())
        folded = _fold_key(text)
        entries: list[_Entry] = []
        for matcher, masked in self._matchers():
            found = matcher.get(folded)
            if found is not None:
                entries += [e for e in found.entries if e.path not in masked]
        entries = [e for e in entries if e.exact is None or e.exact == text]
        return self._choose(entries, frozenset(exclude))

    def _choose(self, entries: Sequence[_Entry], exclude: frozenset[str]) -> NoteInfo | None:
        if not entries or any(e.path in exclude for e in entries):
            return None  # no note, or a mention of the note itself
        titles = {e.path for e in entries if e.is_title}
        paths = titles or {e.path for e in entries}
        if len(paths) > 1 and not (titles and self.options.ambiguous):
            return None
        return self.index.get(min(paths, key=lambda p: (p.count("/"), p)))

    # --- finding mentions -----------------------------------------------------------

    def _candidates(self, text: str, exclude: frozenset[str]) -> list[_Candidate]:
        folded, origin = _fold(text)
        found: dict[tuple[int, int], _Candidate] = {}
        length = len(text)
        for matcher, masked in self._matchers():
            names = matcher.names
            for last, number in matcher.iter(folded):
                name = names[number]
                first = last - len(name.folded) + 1
                if origin is None:
                    start, end = first, last + 1
                else:
                    start, end = origin[first], origin[last] + 1
                    if (first and origin[first - 1] == start) or (
                        last + 1 < len(origin) and origin[last + 1] == origin[last]
                    ):
                        continue  # starts or ends inside a character that case-folds to several
                if name.word_start and start and _is_word(text[start - 1]):
                    continue
                if name.word_end and end < length and _is_word(text[end]):
                    continue
                written = text[start:end]
                entries = [
                    e
                    for e in name.entries
                    if e.path not in masked and (e.exact is None or e.exact == written)
                ]
                if not entries:
                    continue
                candidate = found.get((start, end))
                if candidate is None:
                    found[(start, end)] = _Candidate(start, end, name, entries)
                else:
                    candidate.entries += entries
        candidates = sorted(found.values(), key=lambda c: (c.start, c.end))
        for candidate in candidates:
            candidate.info = self._choose(candidate.entries, exclude)
            if candidate.info is not None:
                candidate.target = self.target(candidate.info)
        return candidates

    def _link(
        self,
        text: str,
        *,
        exclude: frozenset[str],
        linked: set[str],
        first_only: bool,
        found: list[tuple[int, str]] | None = None,
        passes: int = 3,
    ) -> tuple[str, list[Mention]]:
        if not text:
            return text, []
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        candidates = self._candidates(text, exclude)
        if not candidates:
            return text, []
        structure = _Structure(text)
        candidates = [c for c in candidates if structure.allows(c.start, c.end)]
        candidates = _longest_first(candidates)
        if found is not None:
            found += [(c.start, c.info.path) for c in candidates if c.info is not None]
        accepted: list[_Candidate] = []
        blocks: dict[tuple[int, int], list[_Candidate]] = {}
        for candidate in candidates:
            if candidate.info is not None:
                blocks.setdefault(structure.block(candidate.start), []).append(candidate)
        refused = False
        for (begin, end), members in sorted(blocks.items()):
            kept, refused_here = self._link_block(
                text[begin:end], begin, members, linked, first_only
            )
            accepted += kept
            refused = refused or refused_here
        lines = _Lines(text)
        mentions = [_mention(text, c, lines) for c in accepted]
        if not accepted:
            return text, mentions
        result = _replace(text, 0, accepted)
        if refused and passes > 1:
            # A refused link may read well now that its neighbours are links
            # ("**x**y" -> "**x**[[y]]"): link until nothing more can be, so that
            # linking the result again changes nothing.
            result, more = self._link(
                result, exclude=exclude, linked=linked, first_only=first_only, passes=passes - 1
            )
            mentions = sorted(
                [*mentions, *_shifted(more, accepted, text, lines)], key=lambda m: m.start
            )
        return result, mentions

    def _link_block(
        self,
        block: str,
        offset: int,
        candidates: list[_Candidate],
        linked: set[str],
        first_only: bool,
    ) -> tuple[list[_Candidate], bool]:
        """Link what can be linked in a block; return the links and whether any was refused."""
        chosen: list[_Candidate] = []
        seen = set(linked)
        for candidate in candidates:
            assert candidate.info is not None
            if first_only and candidate.info.path in seen:
                continue
            chosen.append(candidate)
            seen.add(candidate.info.path)
        if not chosen:
            return [], False
        refused = False
        if not _reads_the_same(block, offset, chosen):
            # Some link would not read as one (in code, say). Find, with one parse, the
            # mentions in prose; then link those, or else add them one at a time.
            refused = True
            candidates = _in_prose(block, offset, candidates)
            chosen = []
            seen = set(linked)
            for candidate in candidates:
                assert candidate.info is not None
                if not (first_only and candidate.info.path in seen):
                    chosen.append(candidate)
                    seen.add(candidate.info.path)
            if chosen and not _reads_the_same(block, offset, chosen):
                chosen = []
                seen = set(linked)
                # One parse of the block per candidate: on a long block with many
                # candidates (10^3 "<x>" took minutes), link nothing in it rather than
                # trying (the same is decided again next time: linking stays idempotent).
                if len(candidates) * len(block) > _MAX_ONE_BY_ONE:
                    candidates = []
                for candidate in candidates:
                    assert candidate.info is not None
                    if first_only and candidate.info.path in seen:
                        continue
                    if _reads_the_same(block, offset, [*chosen, candidate]):
                        chosen.append(candidate)
                        seen.add(candidate.info.path)
        linked.update(c.info.path for c in chosen if c.info is not None)
        return chosen, refused

    def link_text(self, text: str, *, exclude: Iterable[str] = ()) -> tuple[str, list[Mention]]:
        """Link the mentions of vault notes in a Markdown text.

        Args:
            text: Markdown (``\\r\\n`` newlines become ``\\n``).
            exclude: Paths of notes never to link to (the note the text belongs to).

        Returns:
            The text with links, and the mentions linked (positions in the given text).
        """
        linked = {path for _, path in self._existing_links(text)}
        return self._link(
            text, exclude=frozenset(exclude), linked=linked, first_only=self.options.first_only
        )

    def find_mentions(self, text: str, *, exclude: Iterable[str] = ()) -> list[Mention]:
        """Return every unlinked mention of a vault note in a Markdown text; change nothing.

        Args:
            text: Markdown (``\\r\\n`` newlines count as ``\\n`` in positions).
            exclude: Paths of notes not to report (the note the text belongs to).
        """
        return self._link(text, exclude=frozenset(exclude), linked=set(), first_only=False)[1]

    def _existing_links(self, text: str) -> list[tuple[int, str]]:
        """Where the text already links to a vault note: (position, note path)."""
        found: list[tuple[int, str]] = []
        if "[[" in text:
            for match in LINK_PATTERN.finditer(text):
                info = self.index.resolve(match[0][2:-2].split("|", 1)[0])
                if info is not None:
                    found.append((match.start(), info.path))
        return found

    # --- notes ----------------------------------------------------------------------

    def __call__(self, note: Note, index: VaultIndex) -> Note:
        """Link ``note`` against ``index``: the :data:`Linker` interface of :func:`process_inbox`."""
        self._sync(index)
        return self.link_note(note)

    def link_note(self, note: Note) -> Note:
        """Link a note's summary, content and scraped text, and fill in its connections.

        The note's own entries in the index (same capture or URL) are never linked to.
        A field whose links would not survive the Markdown normalisation of the note
        model is left as it was.
        """
        exclude = frozenset(
            info.path
            for info in [
                *(self.index.by_capture_id(note.capture_id) if note.capture_id else ()),
                *(self.index.by_url(note.url) if note.url else ()),
            ]
        )
        texts = [note.summary, note.content, *(source.text for source in note.sources)]
        existing = [self._existing_links(text) for text in texts]
        linked = {path for found in existing for _, path in found}
        counts: Counter[str] = Counter()  # mentions per note, in the order of the first
        results = []
        for text, found in zip(texts, existing, strict=True):
            result = self._link(
                text,
                exclude=exclude,
                linked=linked,
                first_only=self.options.first_only,
                found=found,
            )[0]
            results.append(result)
            counts.update(path for _, path in sorted(found))
        summary, content, *scraped = results
        changes: dict[str, Any] = {
            "connections": self.connections(note, counts=counts, exclude=exclude)
        }
        for field, before, after in (
            ("summary", note.summary, summary),
            ("content", note.content, content),
        ):
            if after != before and _kept(after, field):
                changes[field] = after
        sources = [
            evolve(source, text=text)
            if text != source.text and _kept(text, "text of a source")
            else source
            for source, text in zip(note.sources, scraped, strict=True)
        ]
        if sources != list(note.sources):
            changes["sources"] = sources
        return evolve(note, **changes)  # one new note

    def connections(
        self,
        note: Note,
        *,
        counts: Mapping[str, int] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[str]:
        """Return the link targets of a note's connections section.

        In order: the note's present connections (a feed name from the capture), its
        origin (the feed it came from, or the note named in :attr:`LinkOptions.origins`
        for its capture kind), the sites it was scraped from, its authors, and the notes
        it mentions most (``counts``: mentions per note path). Feeds and sites resolve to
        the vault note of that title or alias, or else (with
        :attr:`LinkOptions.unresolved_sources`) stay as a link Obsidian makes a note for
        on click; origins, authors and mentioned notes are connected only when the vault
        has a note for them.
        """
        excluded = frozenset(exclude)
        result: list[str] = []
        seen: set[str] = set()

        def add(target: str) -> None:
            key = target.casefold()
            if target and key not in seen:
                seen.add(key)
                result.append(target)

        def named(name: str, *, hub: bool) -> None:
            name = " ".join(name.split())
            if not name:
                return
            info = self.index.resolve(name) if not _BAD_TARGET.search(name) else None
            info = info or self.lookup(name, exclude=excluded)
            if info is not None:
                if info.path not in excluded:
                    add(self.target(info))
            elif hub and self.options.unresolved_sources:
                add(clean_file_stem(name))

        for target in note.connections:
            named(target, hub=True)
        feeds = [s.site for s in note.sources if s.kind == "feed" and s.site]
        for feed in feeds:
            named(feed, hub=True)
        if not feeds and not note.connections:
            kind = _capture_kind(note.original_file)
            origin = self.options.origins.get(kind) if kind else None
            if origin:
                named(origin, hub=False)
        for source in note.sources:
            if source.kind != "feed" and source.site:
                named(source.site, hub=True)
        for source in note.sources:
            for author in _authors(source.author):
                info = self.lookup(author, exclude=excluded)
                if info is not None:
                    add(self.target(info))
        if counts:
            first_seen = {path: order for order, path in enumerate(counts)}
            ranked = sorted(
                (path for path, count in counts.items() if count > 0 and path not in excluded),
                key=lambda path: (-counts[path], first_seen[path]),
            )
            for path in ranked[: self.options.connections_from_mentions]:
                info = self.index.get(path)
                if info is not None:
                    add(self.target(info))
        return result


def _kept(text: str, field: str) -> bool:
    """Tell whether the note model keeps a linked Markdown field as it is.

    The model puts Markdown in mdformat's canonical form; a field whose links that
    would change (or that mdformat cannot format) stays as it was.
    """
    try:
        return normalize_markdown(text) == text
    except Exception:  # a formatter bug must not cost the note
        logger.warning("could not keep the links of a note's %s", field, exc_info=True)
        return False


class _Lines:
    """Line numbers of positions in a text, each found in O(log n) (10^5 mentions on one
    line took quadratic time with ``str.count``)."""

    def __init__(self, text: str) -> None:
        self.newlines = [match.start() for match in re.finditer("\n", text)]

    def line(self, position: int) -> tuple[int, int]:
        """The 1-based line and column of ``position``."""
        index = bisect.bisect_left(self.newlines, position)
        line_start = self.newlines[index - 1] + 1 if index else 0
        return index + 1, position - line_start + 1


def _mention(text: str, candidate: _Candidate, lines: _Lines) -> Mention:
    line, column = lines.line(candidate.start)
    return Mention(
        text=text[candidate.start : candidate.end],
        target=candidate.target,
        path=candidate.info.path if candidate.info is not None else "",
        start=candidate.start,
        end=candidate.end,
        line=line,
        column=column,
    )


def _shifted(
    mentions: list[Mention], links: list[_Candidate], text: str, lines: _Lines
) -> list[Mention]:
    """Mentions found in ``text`` once ``links`` were put in, placed in ``text`` itself."""
    ends: list[int] = []  # where each link ends in the linked text
    shifts: list[int] = []  # how much longer the linked text is up to there
    shift = 0
    for link in links:
        shift += len(_wikilink(link.target, text[link.start : link.end])) - (link.end - link.start)
        ends.append(link.end + shift)
        shifts.append(shift)
    result = []
    for mention in mentions:
        index = bisect.bisect_right(ends, mention.start)
        moved = shifts[index - 1] if index else 0
        start, end = mention.start - moved, mention.end - moved
        line, column = lines.line(start)
        result.append(attrs.evolve(mention, start=start, end=end, line=line, column=column))
    return result


def _longest_first(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the longest of overlapping mentions (the earliest of equally long ones)."""
    kept: list[_Candidate] = []
    starts: list[int] = []
    for candidate in sorted(candidates, key=lambda c: (c.start - c.end, c.start)):
        index = bisect.bisect_right(starts, candidate.start)
        if index > 0 and kept[index - 1].end > candidate.start:
            continue
        if index < len(kept) and kept[index].start < candidate.end:
            continue
        kept.insert(index, candidate)
        starts.insert(index, candidate.start)
    return kept


_CAPTURE_KIND = re.compile(r"^\d{8}[_-]?(?:\d{6})?_([A-Za-z]+)_")
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|&|\band\b)\s*")


def _capture_kind(file_name: str) -> str:
    match = _CAPTURE_KIND.match(file_name)
    return match[1].lower() if match else ""


def _authors(author: str) -> list[str]:
    """The names in an author field: as a whole first ("Turing, Alan"), then split up."""
    author = " ".join(author.split())
    if not author:
        return []
    names = [author]
    for part in _AUTHOR_SPLIT.split(author):
        names += [name.strip() for name in part.split(",")] if "," in part else [part.strip()]
    return list(dict.fromkeys(name for name in names if name))


def link_note(note: Note, index: VaultIndex, *, options: LinkOptions | None = None) -> Note:
    """Link a note against a vault index (see :class:`VaultLinker`, which reuses its automaton).

    >>> index = VaultIndex([NoteInfo("Areas/Gradient Descent.md", "Gradient Descent")])
    >>> note = Note(title="Optimisers", content="Plain gradient descent, and `gradient descent` in code.")
    >>> print(link_note(note, index).content)
    Plain [[Gradient Descent|gradient descent]], and `gradient descent` in code.
    """
    return VaultLinker(index, options=options).link_note(note)
