"""The vault index: every note's title, aliases, tags and identity (I/O, cached).

Each note is read once; what was learned is cached in the vault's state file keyed by
path, size and modification time, so a later run reads only the notes that changed.
Notes the user deleted or renamed drop out.

A warm scan of a large vault is dominated by one ``stat`` per note, so the cache is
compared as plain tuples and an entry's JSON is decoded only when the entry is used.
A note changed within :data:`RACY_SECONDS` of being read may change again without its
size or time changing (coarse file-system clocks), so it is re-read on the next scan,
as git treats "racily clean" files.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import os
import re
import sqlite3
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import yaml

from ._note import Note
from ._state import IndexRow, State
from ._tags import clean_tag
from ._urls import canonical_url, is_web_url

__all__ = [
    "RACY_SECONDS",
    "TEMP_SUFFIX",
    "NoteInfo",
    "ScanResult",
    "VaultIndex",
    "bulk",
    "read_note_info",
    "read_note_text",
    "scan_vault",
    "split_frontmatter",
]

logger = logging.getLogger(__name__)

#: Temporary files obsidian-inbox writes end with this (and start with a dot).
TEMP_SUFFIX = ".oi-tmp"
#: A note modified this recently before a scan is re-read by the next scan.
RACY_SECONDS = 2.0
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONTMATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_FENCED = re.compile(
    r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL
)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
# _tags.HASHTAG with the "#" first, so the regex engine can jump from one "#" to the
# next instead of trying the look-behind at every character (same matches: tested).
_BODY_TAG = re.compile(r"#(?<![\w&#/\\]#)([\w\-/]*[^\W\d][\w\-/]*)")
_TAG_SPLIT = re.compile(r"[,\s]+")
_ALIAS_SPLIT = re.compile(r"\s*,\s*")


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while many acyclic objects are made.

    Building the index of a large vault makes hundreds of thousands of small objects;
    each burst of them would set off a collection that walks all the others, which
    costs more than the building. Reference counting still frees everything.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@attrs.frozen
class NoteInfo:
    """What the index knows about one note.

    Attributes:
        path: Vault-relative path with ``/`` separators.
        title: The note's title: its file name without ``.md``.
        url: The canonical ``url`` from its frontmatter, if any.
        capture_id: The ``capture_id`` from its frontmatter, if any.
        aliases: Its ``aliases``.
        tags: Its tags, from the frontmatter and the body.
        error: Why its frontmatter could not be read, if it could not.
    """

    path: str
    title: str
    url: str = ""
    capture_id: str = ""
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    error: str = ""

    def to_data(self) -> dict[str, Any]:
        """Return the JSON-able data cached for this note (the path is the key)."""
        return {
            "url": self.url,
            "capture_id": self.capture_id,
            "aliases": list(self.aliases),
            "tags": list(self.tags),
            "error": self.error,
        }

    @classmethod
    def from_note(cls, path: str, note: Note) -> NoteInfo:
        """Build the entry of a note this library has just written to ``path``."""
        aliases = note.properties.get("aliases", note.properties.get("alias"))
        return cls(
            path=path,
            title=_title_of(path),
            url=note.url,
            capture_id=note.capture_id,
            aliases=_strings(aliases),
            tags=note.tags,
        )

    @classmethod
    def from_data(cls, path: str, data: Mapping[str, Any]) -> NoteInfo:
        """Rebuild an entry from :meth:`to_data` (missing keys mean empty values)."""
        return cls(
            path=path,
            title=_title_of(path),
            url=data.get("url", ""),
            capture_id=data.get("capture_id", ""),
            aliases=tuple(data.get("aliases", ())),
            tags=tuple(data.get("tags", ())),
            error=data.get("error", ""),
        )


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encode(info: NoteInfo) -> str:
    """The cached JSON of an entry (as :meth:`NoteInfo.to_data`, empty fields left out)."""
    data: dict[str, Any] = {}
    if info.url:
        data["url"] = info.url
    if info.capture_id:
        data["capture_id"] = info.capture_id
    if info.aliases:
        data["aliases"] = list(info.aliases)
    if info.tags:
        data["tags"] = list(info.tags)
    if info.error:
        data["error"] = info.error
    return _JSON(data) if data else "{}"


def _decode(path: str, data: str) -> NoteInfo:
    if data == "{}":
        return NoteInfo(path, _title_of(path))
    try:
        loaded = json.loads(data)
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict):  # a damaged cache entry: the note is re-read next scan
        return NoteInfo(path, _title_of(path), error="damaged index cache entry")
    return NoteInfo.from_data(path, loaded)


def _title_of(path: str) -> str:
    return unicodedata.normalize("NFC", path.rsplit("/", 1)[-1].removesuffix(".md"))


def _name_key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (list, tuple)):
        return tuple(str(item).strip() for item in value if item is not None and str(item).strip())
    return (str(value),)


def _aliases(value: object) -> tuple[str, ...]:
    """Aliases as Obsidian reads them: a list, or a string of comma-separated aliases."""
    if isinstance(value, str):
        value = _ALIAS_SPLIT.split(value)
    seen: set[str] = set()
    result: list[str] = []
    for alias in _strings(value):
        alias = unicodedata.normalize("NFC", alias)
        if alias not in seen:
            seen.add(alias)
            result.append(alias)
    return tuple(result)


@functools.lru_cache(maxsize=1 << 14)
def _tag(raw: str) -> str | None:
    return clean_tag(raw)


def _tags(*groups: Iterable[object]) -> tuple[str, ...]:
    """Valid tags, de-duplicated case-insensitively (first spelling wins), as ``clean_tags``."""
    seen: set[str] = set()
    result: list[str] = []
    for group in groups:
        for item in group:
            if item is None:
                continue
            tag = _tag(str(item))
            if tag is not None and tag.casefold() not in seen:
                seen.add(tag.casefold())
                result.append(tag)
    return tuple(result)


def _frontmatter_tags(value: object) -> Iterable[object]:
    """Tags as Obsidian reads them: a list, or a string of tags separated by commas or spaces."""
    if value is None:
        return ()
    if isinstance(value, str):
        return _TAG_SPLIT.split(value)
    if isinstance(value, (list, tuple)):
        return value
    return (value,)


def split_frontmatter(text: str) -> tuple[str | None, str]:
    """Split a note into its YAML frontmatter source (or None) and its body."""
    if not text.startswith(("---\n", "---\r\n")):
        return None, text
    start = text.index("\n") + 1
    end = _FRONTMATTER_END.search(text, start)
    if end is None:
        return None, text
    return text[start : end.start()], text[end.end() :]


# --- a fast path for simple frontmatter ------------------------------------------------
#
# Constructing Python objects dominates PyYAML's time, even with libyaml: most of a cold
# scan. Most frontmatter is a few "key: value" lines and lists of plain words, so such
# frontmatter is read directly; anything else (nesting, multi-line values, anchors, tags,
# values whose type YAML would resolve to something but a string) goes to PyYAML. The
# accepted subset is valid YAML, and for the keys the index uses it gives what PyYAML
# gives (tests/test_index.py checks both with Hypothesis).

_USED_KEYS = frozenset({"aliases", "alias", "tags", "tag", "url", "capture_id"})
_SIMPLE_KEY = re.compile(r"([A-Za-z_][\w-]*(?: [\w-]+)*):(?: +(\S.*?))? *")
_SIMPLE_ITEM = re.compile(r"( *)-(?: +(\S.*?))? *")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"')
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_FLOW_ITEM = re.compile(r""" *(?:"([^"\\]*)"|'((?:[^']|'')*)'|([^,\[\]{}"'#]*?)) *(,|$)""")
_PLAIN_BAD_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Words PyYAML resolves to booleans or null (any case, to be safe).
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"})
_NOT_SIMPLE = re.compile(r"[\t\x0b\x0c\x85\u2028\u2029\ufeff]|\r(?!\n)")


def _plain(text: str, *, used: bool, flow: bool = False) -> str | None:
    """Return a plain scalar's string value, or None when it is not plainly a string."""
    if not text or text[0] in _PLAIN_BAD_START or ": " in text or " #" in text:
        return None
    if text.endswith(":") or not text.isprintable() or (flow and any(c in text for c in ",[]{}")):
        return None
    if used and (not text[0].isalpha() or text.lower() in _YAML_WORDS):
        return None  # a number, date, boolean or null to YAML
    return text


def _quoted(text: str) -> str | None:
    match = _DOUBLE_QUOTED.fullmatch(text)
    if match and match[1].isprintable():
        return match[1]
    match = _SINGLE_QUOTED.fullmatch(text)
    if match and match[1].isprintable():
        return match[1].replace("''", "'")
    return None


def _scalar(text: str, *, used: bool) -> tuple[bool, object]:
    if text[0] in "\"'":
        value = _quoted(text)
        return value is not None, value
    if text[0] == "[":
        return _flow_list(text, used=used)
    value = _plain(text, used=used)
    return value is not None, value


def _flow_list(text: str, *, used: bool) -> tuple[bool, object]:
    if not text.endswith("]"):
        return False, None
    inner = text[1:-1]
    if not inner.strip():
        return True, []
    items: list[str] = []
    position = 0
    while position < len(inner):
        match = _FLOW_ITEM.match(inner, position)
        if match is None or match.end() == position:
            return False, None
        if match[1] is not None or match[2] is not None:
            value = match[1] if match[1] is not None else match[2].replace("''", "'")
            if not value.isprintable():
                return False, None
        else:
            plain = _plain(match[3], used=used, flow=True)
            if plain is None:
                return False, None
            value = plain
        items.append(value)
        position = match.end()
        if match[4] == "," and position >= len(inner):
            return False, None  # a trailing comma
    return True, items


def _simple_frontmatter(source: str) -> dict[str, Any] | None:
    """Read frontmatter in the simple subset described above, or return None."""
    if _NOT_SIMPLE.search(source):
        return None
    result: dict[str, Any] = {}
    blocks: list[tuple[str, list[object]]] = []
    items: list[object] | None = None
    indent: int | None = None
    used = False
    for line in source.split("\n"):
        line = line.removesuffix("\r")
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("-"):
            match = _SIMPLE_ITEM.fullmatch(line)
            if match is None or items is None:
                return None
            if indent is None:
                indent = len(match[1])
            elif len(match[1]) != indent:
                return None
            if match[2] is None:
                items.append(None)
                continue
            if match[2][0] == "[":
                return None
            ok, value = _scalar(match[2], used=used)
            if not ok:
                return None
            items.append(value)
            continue
        if line[0] == " ":
            return None  # a continuation line or a nested mapping
        match = _SIMPLE_KEY.fullmatch(line)
        if match is None:
            return None
        key = match[1]
        used = key.lower() in _USED_KEYS
        if match[2] is None:
            items, indent = [], None
            result[key] = items
            blocks.append((key, items))
            continue
        items = None
        text = match[2]
        if not used and text[0] not in _PLAIN_BAD_START and _plain(text, used=False) is not None:
            result[key] = text  # not a key the index reads: valid YAML is all that matters
            continue
        ok, value = _scalar(text, used=used)
        if not ok:
            return None
        result[key] = value
    for key, block in blocks:
        if result.get(key) is block and not block:
            result[key] = None  # "key:" with no items under it is null, as in YAML
    # Lower-case the keys as _yaml_frontmatter does: a repeated key keeps its first place.
    return {key.lower(): value for key, value in result.items()}


def _body_tags(body: str) -> list[str]:
    if "#" not in body:
        return []
    if "```" in body or "~~~" in body:
        body = _FENCED.sub("", body)
    if "`" in body:
        body = _INLINE_CODE.sub("", body)
    return _BODY_TAG.findall(body)


def _yaml_frontmatter(source: str) -> tuple[dict[str, Any], str]:
    """Read frontmatter with PyYAML: (properties with lower-case keys, error or "")."""
    try:
        loaded = yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        return {}, f"invalid YAML frontmatter: {getattr(exc, 'problem', None) or exc}"
    if isinstance(loaded, dict):
        # Obsidian reads its own keys whatever their case ("Aliases", "TAGS").
        return {str(key).lower(): value for key, value in loaded.items()}, ""
    if loaded is not None:
        return {}, "frontmatter is not a mapping of properties"
    return {}, ""


def read_note_info(path: str, data: bytes) -> NoteInfo:
    """Build the index entry of a note from its bytes (pure).

    Frontmatter that is not valid YAML (a template's ``{{date}}``, say) is tolerated:
    the entry then has no aliases or frontmatter tags, as in Obsidian, and says why in
    :attr:`NoteInfo.error`.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    source, body = split_frontmatter(text)
    meta: dict[str, Any] = {}
    error = ""
    if source is not None and source.strip():
        simple = _simple_frontmatter(source)
        if simple is not None:
            meta = simple
        else:
            meta, error = _yaml_frontmatter(source)
    url = meta.get("url")
    aliases = meta.get("aliases", meta.get("alias"))
    return NoteInfo(
        path=path,
        title=_title_of(path),
        url=canonical_url(url) if isinstance(url, str) and is_web_url(url) else "",
        capture_id=str(meta.get("capture_id") or ""),
        aliases=_aliases(aliases),
        tags=_tags(_frontmatter_tags(meta.get("tags", meta.get("tag"))), _body_tags(body)),
        error=error,
    )


def read_note_text(root: Path, path: str) -> str:
    """Return the text of the note at vault-relative ``path``: UTF-8, no BOM, ``\\n`` newlines.

    Raises:
        OSError: It cannot be read.
    """
    data = (root / path).read_bytes()
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@attrs.define
class _Tables:
    by_url: dict[str, list[str]] = attrs.field(factory=dict)
    by_capture: dict[str, list[str]] = attrs.field(factory=dict)
    by_name: dict[str, list[str]] = attrs.field(factory=dict)
    by_title: dict[str, list[str]] = attrs.field(factory=dict)

    def add(self, info: NoteInfo) -> None:
        if info.url:
            self.by_url.setdefault(info.url, []).append(info.path)
        if info.capture_id:
            self.by_capture.setdefault(info.capture_id, []).append(info.path)
        self.by_name.setdefault(_name_key(info.path), []).append(info.path)
        self.by_title.setdefault(info.title.casefold(), []).append(info.path)

    def remove(self, info: NoteInfo) -> None:
        for table, key in (
            (self.by_url, info.url),
            (self.by_capture, info.capture_id),
            (self.by_name, _name_key(info.path)),
            (self.by_title, info.title.casefold()),
        ):
            paths = table.get(key)
            if paths and info.path in paths:
                paths.remove(info.path)
                if not paths:
                    del table[key]


_LoadEntries = Callable[[list[str]], dict[str, "NoteInfo | str"]]


class VaultIndex:
    """An in-memory index of a vault's notes, with look-ups by identity, title and tag.

    After a scan, the entries of unchanged folders stay in the cache until the index is
    first used; entries are decoded on first use; the look-up tables are built on the
    first look-up.
    """

    def __init__(self, notes: Iterable[NoteInfo] = ()) -> None:
        self._notes: dict[str, NoteInfo | str] = {}
        self._pending: list[tuple[str, list[str]]] = []
        self._load: _LoadEntries | None = None
        self._tables: _Tables | None = None
        self._log: list[str] = []
        for info in notes:
            self.add(info)

    @classmethod
    def _from_scan(
        cls,
        entries: dict[str, NoteInfo | str],
        pending: list[tuple[str, list[str]]],
        load: _LoadEntries,
    ) -> VaultIndex:
        index = cls()
        index._notes = entries
        index._pending = pending
        index._load = load
        return index

    def _ready(self) -> dict[str, NoteInfo | str]:
        """The entries, with those still in the cache loaded."""
        if self._pending:
            assert self._load is not None
            pending, self._pending = self._pending, []
            with bulk():
                self._notes.update(self._load(_paths(pending)))
        return self._notes

    def __len__(self) -> int:
        return len(self._notes) + sum(len(parts) for _, parts in self._pending)

    def __iter__(self) -> Iterator[NoteInfo]:
        self._decode_all()
        return iter(cast("list[NoteInfo]", list(self._notes.values())))

    def __contains__(self, path: object) -> bool:
        return path in self._ready()

    def _decode_all(self) -> None:
        notes = self._ready()
        with bulk():
            for path, entry in notes.items():
                if isinstance(entry, str):
                    notes[path] = _decode(path, entry)

    def _info(self, path: str) -> NoteInfo:
        entry = self._ready()[path]
        if isinstance(entry, str):
            entry = self._notes[path] = _decode(path, entry)
        return entry

    def _lookups(self) -> _Tables:
        if self._tables is None:
            tables = _Tables()
            infos = list(self)
            with bulk():
                for info in infos:
                    tables.add(info)
            self._tables = tables
        return self._tables

    @property
    def version(self) -> int:
        """A number that grows each time an entry is added or removed."""
        return len(self._log)

    def changed_since(self, version: int) -> frozenset[str]:
        """Return the paths added, replaced or removed since :attr:`version` was ``version``."""
        return frozenset(self._log[version:])

    def get(self, path: str) -> NoteInfo | None:
        """Return the entry of the note at vault-relative ``path``."""
        return self._info(path) if path in self._ready() else None

    def add(self, info: NoteInfo) -> None:
        """Add (or replace) a note's entry."""
        if info.path in self._ready():
            self.remove(info.path)
        self._notes[info.path] = info
        if self._tables is not None:
            self._tables.add(info)
        self._log.append(info.path)

    def remove(self, path: str) -> None:
        """Drop a note's entry."""
        if path not in self._ready():
            return
        info = self._info(path)
        del self._notes[path]
        if self._tables is not None:
            self._tables.remove(info)
        self._log.append(path)

    def _infos(self, paths: Iterable[str]) -> list[NoteInfo]:
        return [self._info(path) for path in paths]

    def by_url(self, url: str) -> list[NoteInfo]:
        """Return the notes whose frontmatter ``url`` is ``url`` (compared canonically)."""
        return self._infos(self._lookups().by_url.get(canonical_url(url), ()))

    def by_capture_id(self, capture_id: str) -> list[NoteInfo]:
        """Return the notes made from the capture with this identifier."""
        return self._infos(self._lookups().by_capture.get(capture_id, ()))

    def by_title(self, title: str) -> list[NoteInfo]:
        """Return the notes with this title (file name), compared case-insensitively."""
        key = unicodedata.normalize("NFC", title).casefold()
        return self._infos(self._lookups().by_title.get(key, ()))

    def path_taken(self, path: str) -> bool:
        """Tell whether a note exists at ``path``, compared case-insensitively (as on macOS/Windows)."""
        return _name_key(path) in self._lookups().by_name

    def resolve(self, link: str) -> NoteInfo | None:
        """Return the note a ``[[link]]`` target leads to in Obsidian, or None.

        The ``#heading`` or ``#^block`` part is ignored. A target with a ``/`` is a
        vault path (``.md`` optional), or else the end of one; a plain name is a file
        name. When several notes match, Obsidian takes the one nearest the vault's
        root; so does this. Names compare case-insensitively.

        >>> index = VaultIndex([NoteInfo("A/Index.md", "Index"), NoteInfo("Index.md", "Index")])
        >>> index.resolve("Index#Overview").path
        'Index.md'
        >>> index.resolve("A/Index").path
        'A/Index.md'
        """
        target = unicodedata.normalize("NFC", link.split("#", 1)[0].strip()).lstrip("/")
        if not target:
            return None
        if target.lower().endswith(".md"):
            target = target[:-3]
        tables = self._lookups()
        name = target.rsplit("/", 1)[-1]
        paths = tables.by_title.get(name.casefold(), [])
        if "/" in target:
            wanted = _name_key(target + ".md")
            paths = [
                p for p in paths if _name_key(p) == wanted or _name_key(p).endswith("/" + wanted)
            ]
        if not paths:
            return None
        return self._info(min(paths, key=lambda p: (p.count("/"), p)))

    def tag_vocabulary(self) -> Counter[str]:
        """Return how often each tag spelling is used in the vault."""
        return Counter(tag for info in self for tag in info.tags)


@attrs.frozen
class ScanResult:
    """What a scan of the vault found."""

    index: VaultIndex
    read: int
    """How many notes were (re-)read; the others came from the cache."""
    temp_files: tuple[Path, ...]
    """Temporary files left by an interrupted run."""


def scan_vault(root: Path, state: State, *, skip: Iterable[str] = ()) -> ScanResult:
    """Index the vault at ``root``, re-reading only the notes that changed since ``state`` saw them.

    Folders whose name starts with ``.`` (``.obsidian``, ``.trash``, ...) are not indexed.

    Args:
        root: The vault folder.
        state: Where the previous scan was cached; updated unless read-only.
        skip: Vault-relative folders not to index (folders starting with ``.`` never are).

    Raises:
        OSError: The vault folder itself cannot be read. (A sub-folder that cannot be
            read keeps its notes as the cache knows them.)
    """
    with bulk():
        return _scan(root, state, frozenset(skip))


_DIR_FDS = os.scandir in os.supports_fd and os.open in os.supports_dir_fd
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


def _open_folder(name: str, parent: int | None) -> int | str:
    """A folder to list: a file descriptor where the system allows (each ``stat`` then
    resolves a name in its folder rather than a whole path), else its path."""
    return os.open(name, _OPEN_DIR, dir_fd=parent) if _DIR_FDS else name


def _cached(root: Path, state: State, paths: list[str]) -> dict[str, NoteInfo | str]:
    """The cached entries of ``paths`` (a note missing from the cache is read again)."""
    try:
        data = state.index_data()
    except sqlite3.ProgrammingError:  # closed since the scan
        if state.path is None:
            data = {}
        else:
            with State(state.path, read_only=True) as again:
                data = again.index_data()
    entries: dict[str, NoteInfo | str] = {}
    for path in paths:
        entry = data.get(path)
        if entry is not None:
            entries[path] = entry
            continue
        try:
            entries[path] = read_note_info(path, (root / path).read_bytes())
        except OSError as exc:
            logger.warning("cannot read note %s: %s", path, exc.strerror or exc)
    return entries


def _listing(files: list[tuple[str, int, int]]) -> str:
    return "\n".join([f"{name}\0{size}\0{mtime}" for name, size, mtime in files])


def _paths(pending: list[tuple[str, list[str]]]) -> list[str]:
    """The notes of unchanged folders, from their listing parts."""
    return [prefix + part.split("\0", 1)[0] for prefix, parts in pending for part in parts]


def _scan(root: Path, state: State, skipped: frozenset[str]) -> ScanResult:
    """Walk the vault; compare each folder's notes with the cache (one string per folder
    when nothing changed in it, else note by note); read what changed."""
    cached_folders = state.index_folders()
    # A cache without folder listings (first scan, or an older cache): compare note by note.
    all_rows = state.index_rows() if not cached_folders else None
    racy_after = time.time_ns() - int(RACY_SECONDS * 1e9)
    base = os.fspath(root)
    entries: dict[str, NoteInfo | str] = {}
    pending: list[tuple[str, list[str]]] = []  # unchanged folders: (prefix, listing parts)
    changed: list[IndexRow] = []
    removed: list[str] = []
    listings: dict[str, str] = {}
    seen: set[str] = set()
    temp_files: list[Path] = []
    read = 0

    def keep(prefix: str, exc: OSError) -> None:
        """A folder that cannot be read now: keep what the cache knows of it and below,
        so that its notes are still known (and never written a second time)."""
        logger.warning("cannot read folder %s: %s", root / prefix, exc.strerror or exc)
        for cached, listing in cached_folders.items():
            if cached.startswith(prefix) and cached not in seen:
                seen.add(cached)
                pending.append((cached, listing.split("\n") if listing else []))
        if all_rows is not None:
            for path in [path for path in all_rows if path.startswith(prefix)]:
                entries[path] = all_rows.pop(path)[2]

    stack: list[tuple[str, int | str]] = [("", _open_folder(os.fspath(root), None))]
    try:
        while stack:
            prefix, folder = stack.pop()
            parts: list[str] = []  # name NUL size NUL mtime of each note
            try:
                listing = os.scandir(folder)
            except OSError as exc:
                if isinstance(folder, int):
                    os.close(folder)
                if not prefix:
                    raise
                keep(prefix, exc)
                continue
            try:
                with listing:
                    for entry in listing:
                        name = entry.name
                        if name[0] == ".":
                            if name.endswith(TEMP_SUFFIX) and entry.is_file(follow_symlinks=False):
                                temp_files.append(root / (prefix + name))
                            continue
                        if name.endswith(".md") and entry.is_file(follow_symlinks=False):
                            try:
                                stat = entry.stat(follow_symlinks=False)
                            except OSError:  # deleted meanwhile
                                continue
                            parts.append(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}")
                        elif entry.is_dir(follow_symlinks=False):
                            relative = prefix + name
                            if relative in skipped:
                                continue
                            try:
                                sub = _open_folder(
                                    name if isinstance(folder, int) else entry.path,
                                    folder if isinstance(folder, int) else None,
                                )
                            except OSError as exc:
                                keep(relative + "/", exc)
                                continue
                            stack.append((relative + "/", sub))
            finally:
                if isinstance(folder, int):
                    os.close(folder)
            seen.add(prefix)
            if cached_folders.get(prefix) == "\n".join(parts):  # nothing changed here
                pending.append((prefix, parts))
                continue
            rows = all_rows if all_rows is not None else state.index_rows(prefix)
            stored: list[tuple[str, int, int]] = []
            for part in parts:
                name, size_text, mtime_text = part.split("\0")
                size, mtime = int(size_text), int(mtime_text)
                relative = prefix + name
                row = rows.pop(relative, None)
                if row is not None and row[1] == mtime and row[0] == size:
                    entries[relative] = row[2]
                    stored.append((name, size, mtime))
                    continue
                try:
                    with open(f"{base}/{relative}", "rb") as handle:  # noqa: PTH123 - no Path per note
                        data = handle.read()
                except OSError as exc:
                    logger.warning("cannot read note %s: %s", relative, exc.strerror or exc)
                    continue
                read += 1
                info = read_note_info(relative, data)
                entries[relative] = info
                kept = mtime if mtime < racy_after else -1  # re-read a racy note next time
                changed.append(IndexRow(relative, size, kept, _encode(info)))
                stored.append((name, size, kept))
            if all_rows is None:
                removed += rows
            listings[prefix] = _listing(stored)
    finally:  # interrupted: close the folders not listed yet
        for _, folder in stack:
            if isinstance(folder, int):
                os.close(folder)
    if all_rows is not None:
        removed += all_rows
    gone = [folder for folder in cached_folders if folder not in seen]
    for folder in gone:
        removed += state.index_rows(folder)
    if changed or removed or listings or gone:
        state.update_index(changed, removed, folders=listings, removed_folders=gone)
    return ScanResult(
        VaultIndex._from_scan(entries, pending, functools.partial(_cached, root, state)),
        read,
        tuple(temp_files),
    )
