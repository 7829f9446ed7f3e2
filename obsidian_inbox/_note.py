"""The note model: :class:`Note` and the :class:`Source` it was scraped from (pure).

Both are frozen ``attrs`` classes. Converters put every field in its canonical form
(text on one line, Markdown as ``mdformat`` writes it, valid tags, whole-second
timestamps), so a note always renders to Markdown and reads back equal to itself.
Each pipeline step returns a new note made with :func:`evolve`, which is
:func:`attrs.evolve` converting and validating only the fields that change.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

import attrs

from ._markdown import normalize_markdown, one_line
from ._tags import clean_tags

__all__ = ["KNOWN_KEYS", "Note", "Source", "SourceKind", "evolve"]

SourceKind = Literal["feed", "article", "attachment"]
_SOURCE_KINDS = ("feed", "article", "attachment")

#: Frontmatter keys the :class:`Note` model owns, in the order they are written.
KNOWN_KEYS = (
    "type",
    "category",
    "created",
    "modified",
    "tags",
    "status",
    "source",
    "original_file",
    "url",
    "capture_id",
    "captured",
    "fetched_at",
    "status_reason",
)


def _text(value: object) -> str:
    return "" if value is None else one_line(str(value))


def _markdown(value: object) -> str:
    return "" if value is None else normalize_markdown(str(value))


def _timestamp(value: object) -> dt.datetime | None:
    """Accept a datetime, a date (midnight) or an ISO string; drop sub-second precision."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise TypeError(f"expected a date-time, got {value!r}")


def _published(value: object) -> dt.date | dt.datetime | None:
    """Accept a date, a datetime or an ISO string; a bare date stays a date."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if "T" in text or " " in text or ":" in text:
            value = dt.datetime.fromisoformat(text)
        else:
            return dt.date.fromisoformat(text)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date, got {value!r}")


def _link_target(value: object) -> str:
    target = one_line(str(value))
    if target.startswith("[[") and target.endswith("]]"):
        target = target[2:-2].strip()
    return target


def _connections(values: Iterable[object] | None) -> tuple[str, ...]:
    seen: set[str] = set()
    result: list[str] = []
    for value in values or ():
        target = _link_target(value)
        if target and target not in seen:
            seen.add(target)
            result.append(target)
    return tuple(result)


def _check_connections(_: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for target in value:
        if any(char in target for char in "[]|"):
            raise ValueError(f"connection {target!r}: a link target cannot contain [, ] or |")


def _plain(value: Any) -> Any:
    """Deep-copy a YAML-safe value, turning tuples into lists (as YAML reads them back)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        # NaN equals nothing, not even itself: the note would never read back as equal,
        # and verify_rendered would refuse to write it. Kept as YAML's spelling, as text.
        return ".nan"
    return value


def _properties(value: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, Any]:
    items = value.items() if isinstance(value, Mapping) else (value or ())
    return {str(key): _plain(item) for key, item in items}


def _check_properties(_: object, attribute: attrs.Attribute[Any], value: dict[str, Any]) -> None:
    clash = [key for key in value if key in KNOWN_KEYS]
    if clash:
        raise ValueError(f"properties {clash}: these keys are Note fields; set the fields instead")


def _sources(values: Iterable[Source] | None) -> tuple[Source, ...]:
    return tuple(values or ())


def _sections(values: Iterable[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    sections = ((_text(heading), _markdown(body)) for heading, body in values or ())
    # A text before the first heading that formats to nothing (an unused "[x]: url") is no section.
    return tuple(section for section in sections if section != ("", ""))


def _not_empty(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


_SPACE = re.compile(r"\s")


def _no_space(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if _SPACE.search(value):
        raise ValueError(f"{attribute.name} {value!r} must not contain whitespace")


@attrs.frozen(kw_only=True)
class Source:
    """A web resource a note was enriched from: a feed item, an article page, a file.

    Attributes:
        url: The URL as captured (or as the feed named it).
        kind: ``"feed"``, ``"article"`` or ``"attachment"`` (a PDF or other non-page).
        title: The resource's own title.
        author: Its author, when known.
        site: The site or feed name.
        published: When it was published (a date, or a date-time when known).
        fetched_at: When it was fetched; None when it was not (offline, or it failed).
        error: Why fetching or extracting it failed, when it did.
        text: Its main text as Markdown.
    """

    url: str = attrs.field(converter=_text, validator=[_not_empty, _no_space])
    kind: SourceKind = attrs.field(default="article", validator=attrs.validators.in_(_SOURCE_KINDS))
    title: str = attrs.field(default="", converter=_text)
    author: str = attrs.field(default="", converter=_text)
    site: str = attrs.field(default="", converter=_text)
    published: dt.date | dt.datetime | None = attrs.field(default=None, converter=_published)
    fetched_at: dt.datetime | None = attrs.field(default=None, converter=_timestamp)
    error: str = attrs.field(default="", converter=_text)
    text: str = attrs.field(default="", converter=_markdown, repr=False)


@attrs.frozen(kw_only=True)
class Note:
    """A note on its way from the inbox to the vault.

    The frontmatter keys and sections follow the notes the older inbox process wrote:
    ``type``, ``category``, ``created``, ``modified``, ``tags``, ``status``, ``source``
    and ``original_file``; then the provenance keys ``url`` (canonical), ``capture_id``,
    ``captured`` and ``fetched_at``. The body has ``# <title>``, ``## summary``,
    ``## content``, one ``## Scraped from <url>`` per source and ``## connections``.

    Attributes:
        title: The note's title (also its file name, cleaned).
        type: The ``type`` property (``"note"``).
        category: A category such as ``"development"``.
        created: When the capture was made.
        modified: When obsidian-inbox last wrote the note.
        tags: Valid Obsidian tags, without ``#``.
        status: ``"draft"``, or ``"partial"`` when enrichment fell short.
        source: The ``source`` property: which process made the note.
        original_file: The capture's file name.
        url: The canonical URL the capture is about, if it is about one.
        capture_id: A stable identifier of the capture.
        captured: When the capture was made (with seconds, as its file name says).
        fetched_at: When its sources were last fetched.
        status_reason: Why the status is ``"partial"``.
        properties: Further frontmatter properties (a user's own), in their order.
        summary: A short summary (Markdown).
        content: The capture's own text (Markdown).
        sources: What the note was scraped from.
        connections: Link targets for the ``## connections`` section.
        extra_sections: Further ``##`` sections found when reading a note, as (heading, body).
    """

    title: str = attrs.field(converter=_text, validator=_not_empty)
    type: str = attrs.field(default="note", converter=_text)
    category: str = attrs.field(default="", converter=_text)
    created: dt.datetime | None = attrs.field(default=None, converter=_timestamp)
    modified: dt.datetime | None = attrs.field(default=None, converter=_timestamp)
    tags: tuple[str, ...] = attrs.field(default=(), converter=clean_tags)
    status: str = attrs.field(default="draft", converter=_text)
    source: str = attrs.field(default="inbox_processing", converter=_text)
    original_file: str = attrs.field(default="", converter=_text)
    url: str = attrs.field(default="", converter=_text, validator=_no_space)
    capture_id: str = attrs.field(default="", converter=_text)
    captured: dt.datetime | None = attrs.field(default=None, converter=_timestamp)
    fetched_at: dt.datetime | None = attrs.field(default=None, converter=_timestamp)
    status_reason: str = attrs.field(default="", converter=_text)
    properties: dict[str, Any] = attrs.field(
        factory=dict, converter=_properties, validator=_check_properties, hash=False
    )
    summary: str = attrs.field(default="", converter=_markdown, repr=False)
    content: str = attrs.field(default="", converter=_markdown, repr=False)
    sources: tuple[Source, ...] = attrs.field(default=(), converter=_sources, repr=False)
    connections: tuple[str, ...] = attrs.field(
        default=(), converter=_connections, validator=_check_connections
    )
    extra_sections: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_sections, repr=False
    )

    def to_markdown(self) -> str:
        """Render the note as Markdown with YAML frontmatter, formatted by mdformat."""
        from ._render import render_note

        return render_note(self)

    @classmethod
    def from_markdown(cls, text: str) -> Note:
        """Read a note from Markdown, as written by :meth:`to_markdown` or edited since.

        Raises:
            NoteFormatError: The frontmatter is not valid YAML or the note has no title.
        """
        from ._render import parse_note

        return parse_note(text)

    def _repr_markdown_(self) -> str:
        """Show the note in Jupyter as Obsidian would (frontmatter as a table)."""
        from ._display import note_markdown

        return note_markdown(self)


_Model = TypeVar("_Model", Note, Source)


_FIELDS: dict[type, tuple[attrs.Attribute[Any], ...]] = {
    cls: tuple(attrs.fields(cls)) for cls in (Note, Source)
}


def evolve(instance: _Model, **changes: Any) -> _Model:
    """Return a copy of a :class:`Note` or :class:`Source` with ``changes``, as
    :func:`attrs.evolve` does, but converting and validating only the fields that change.

    The others are in canonical form already (every converter gives a fixed point), so
    running their converters again, as :func:`attrs.evolve` does, would change nothing:
    it cost a fifth of the CPU time of making a note. tests/test_note.py checks that
    both give equal results.

    Raises:
        TypeError: A name in ``changes`` is no field.
        ValueError: A changed value is invalid (as the class's validators say).
    """
    cls = type(instance)
    new = object.__new__(cls)
    for field in _FIELDS[cls]:
        name = field.name
        if name in changes:
            value = changes.pop(name)
            converter: Any = field.converter  # plain functions here, not attrs.Converter
            if converter is not None:
                value = converter(value)
            if field.validator is not None:
                field.validator(new, field, value)
        else:
            value = getattr(instance, name)
        object.__setattr__(new, name, value)
    if changes:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(changes))}")
    return new
