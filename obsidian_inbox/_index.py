"""The vault index: every note's title, aliases, tags and identity (I/O, cached).

Each note is read once; what was learned is cached in the vault's state file keyed by
path, size and modification time, so a later run reads only the notes that changed.
Notes the user deleted or renamed drop out.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from ._note import Note
from ._state import IndexRow, State
from ._tags import HASHTAG, clean_tags
from ._urls import canonical_url, is_web_url

__all__ = ["TEMP_SUFFIX", "NoteInfo", "ScanResult", "VaultIndex", "read_note_info", "scan_vault"]

logger = logging.getLogger(__name__)

#: Temporary files obsidian-inbox writes end with this (and start with a dot).
TEMP_SUFFIX = ".oi-tmp"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONTMATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_FENCED = re.compile(
    r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL
)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)


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
    def from_data(cls, path: str, data: dict[str, Any]) -> NoteInfo:
        """Rebuild an entry from :meth:`to_data`."""
        return cls(
            path=path,
            title=_title_of(path),
            url=data.get("url", ""),
            capture_id=data.get("capture_id", ""),
            aliases=tuple(data.get("aliases", ())),
            tags=tuple(data.get("tags", ())),
            error=data.get("error", ""),
        )


def _title_of(path: str) -> str:
    return unicodedata.normalize("NFC", path.rsplit("/", 1)[-1].removesuffix(".md"))


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (list, tuple)):
        return tuple(str(item).strip() for item in value if item is not None and str(item).strip())
    return (str(value),)


def split_frontmatter(text: str) -> tuple[str | None, str]:
    """Split a note into its YAML frontmatter source (or None) and its body."""
    if not text.startswith(("---\n", "---\r\n")):
        return None, text
    start = text.index("\n") + 1
    end = _FRONTMATTER_END.search(text, start)
    if end is None:
        return None, text
    return text[start : end.start()], text[end.end() :]


def read_note_info(path: str, data: bytes) -> NoteInfo:
    """Build the index entry of a note from its bytes (pure)."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    source, body = split_frontmatter(text)
    meta: dict[str, Any] = {}
    error = ""
    if source is not None and source.strip():
        try:
            loaded = yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader (CSafeLoader when available)
        except yaml.YAMLError as exc:
            error = f"invalid YAML frontmatter: {getattr(exc, 'problem', None) or exc}"
        else:
            if isinstance(loaded, dict):
                meta = loaded
            elif loaded is not None:
                error = "frontmatter is not a mapping of properties"
    url = meta.get("url")
    body_tags = HASHTAG.findall(_INLINE_CODE.sub("", _FENCED.sub("", body)))
    return NoteInfo(
        path=path,
        title=_title_of(path),
        url=canonical_url(url) if isinstance(url, str) and is_web_url(url) else "",
        capture_id=str(meta.get("capture_id") or ""),
        aliases=_strings(meta.get("aliases", meta.get("alias"))),
        tags=clean_tags([*clean_tags(_strings(meta.get("tags", meta.get("tag")))), *body_tags]),
        error=error,
    )


class VaultIndex:
    """An in-memory index of a vault's notes, with look-ups by identity, title and tag."""

    def __init__(self, notes: Iterable[NoteInfo] = ()) -> None:
        self._notes: dict[str, NoteInfo] = {}
        self._by_url: dict[str, list[str]] = {}
        self._by_capture: dict[str, list[str]] = {}
        self._by_name: dict[str, list[str]] = {}
        for info in notes:
            self.add(info)

    def __len__(self) -> int:
        return len(self._notes)

    def __iter__(self) -> Iterator[NoteInfo]:
        return iter(self._notes.values())

    def __contains__(self, path: object) -> bool:
        return path in self._notes

    def get(self, path: str) -> NoteInfo | None:
        """Return the entry of the note at vault-relative ``path``."""
        return self._notes.get(path)

    def add(self, info: NoteInfo) -> None:
        """Add (or replace) a note's entry."""
        if info.path in self._notes:
            self.remove(info.path)
        self._notes[info.path] = info
        if info.url:
            self._by_url.setdefault(info.url, []).append(info.path)
        if info.capture_id:
            self._by_capture.setdefault(info.capture_id, []).append(info.path)
        self._by_name.setdefault(_name_key(info.path), []).append(info.path)

    def remove(self, path: str) -> None:
        """Drop a note's entry."""
        info = self._notes.pop(path, None)
        if info is None:
            return
        for table, key in (
            (self._by_url, info.url),
            (self._by_capture, info.capture_id),
            (self._by_name, _name_key(path)),
        ):
            paths = table.get(key)
            if paths and path in paths:
                paths.remove(path)
                if not paths:
                    del table[key]

    def by_url(self, url: str) -> list[NoteInfo]:
        """Return the notes whose frontmatter ``url`` is ``url`` (compared canonically)."""
        return [self._notes[p] for p in self._by_url.get(canonical_url(url), ())]

    def by_capture_id(self, capture_id: str) -> list[NoteInfo]:
        """Return the notes made from the capture with this identifier."""
        return [self._notes[p] for p in self._by_capture.get(capture_id, ())]

    def path_taken(self, path: str) -> bool:
        """Tell whether a note exists at ``path``, compared case-insensitively (as on macOS/Windows)."""
        return _name_key(path) in self._by_name

    def tag_vocabulary(self) -> Counter[str]:
        """Return how often each tag spelling is used in the vault."""
        return Counter(tag for info in self._notes.values() for tag in info.tags)


def _name_key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


@attrs.frozen
class ScanResult:
    """What a scan of the vault found."""

    index: VaultIndex
    read: int
    """How many notes were (re-)read; the others came from the cache."""
    temp_files: tuple[Path, ...]
    """Temporary files left by an interrupted run."""


def _walk(root: Path, skip: frozenset[str]) -> Iterator[tuple[str, os.DirEntry[str]]]:
    stack = [("", root)]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            logger.warning("cannot read folder %s: %s", folder, exc.strerror or exc)
            continue
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if entry.name.startswith("."):
                if entry.name.endswith(TEMP_SUFFIX) and entry.is_file(follow_symlinks=False):
                    yield relative, entry
                continue
            if entry.is_dir(follow_symlinks=False):
                if relative not in skip:
                    stack.append((relative + "/", Path(entry.path)))
            elif entry.name.endswith(".md") and entry.is_file(follow_symlinks=False):
                yield relative, entry


def scan_vault(root: Path, state: State, *, skip: Iterable[str] = ()) -> ScanResult:
    """Index the vault at ``root``, re-reading only the notes that changed since ``state`` saw them.

    Args:
        root: The vault folder.
        state: Where the previous scan was cached; updated unless read-only.
        skip: Vault-relative folders not to index (folders starting with ``.`` never are).
    """
    cached = state.index_rows()
    seen: set[str] = set()
    changed: list[IndexRow] = []
    infos: list[NoteInfo] = []
    temp_files: list[Path] = []
    read = 0
    for relative, entry in _walk(root, frozenset(skip)):
        if not relative.endswith(".md"):
            temp_files.append(Path(entry.path))
            continue
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        seen.add(relative)
        row = cached.get(relative)
        if row is not None and row.size == stat.st_size and row.mtime_ns == stat.st_mtime_ns:
            infos.append(NoteInfo.from_data(relative, row.data))
            continue
        try:
            with open(entry.path, "rb") as handle:  # noqa: PTH123 - a DirEntry path is a str; this is the hot loop
                data = handle.read()
        except OSError as exc:
            logger.warning("cannot read note %s: %s", relative, exc.strerror or exc)
            continue
        read += 1
        info = read_note_info(relative, data)
        infos.append(info)
        changed.append(IndexRow(relative, stat.st_size, stat.st_mtime_ns, info.to_data()))
    removed = [path for path in cached if path not in seen]
    if changed or removed:
        state.update_index(changed, removed)
    return ScanResult(VaultIndex(infos), read, tuple(temp_files))
