"""Note ⇄ Markdown with YAML frontmatter (pure).

:func:`render_note` writes the frontmatter with ``python-frontmatter`` (a real YAML
emitter, keys in the model's order, then the user's own keys) and formats the whole
note with ``mdformat`` and the plugins that keep frontmatter, GFM and ``[[wikilinks]]``
intact. :func:`parse_note` reads it back with ``markdown-it-py``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler
from markdown_it.token import Token

from ._errors import NoteFormatError, RenderError
from ._markdown import (
    block_parser,
    format_line,
    inline_plain_text,
    is_plain_inline,
    is_plain_markdown,
    parse_inline,
)
from ._note import KNOWN_KEYS, Note, Source, _published, _timestamp, evolve

__all__ = ["parse_note", "render_note", "verify_rendered"]

_SourceField = tuple[str, str]
_SOURCE_LABELS = {"feed": "Feed item", "article": "Article", "attachment": "Attachment"}
_SOURCE_KEYS = ("kind", "title", "author", "site", "published", "fetched", "error")
_SCRAPED = "Scraped from "
_NEWLINES = re.compile(r"\r\n?")

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: What reading YAML may raise: its own errors, and those of the values it builds (a
#: ``2025-13-45`` date, a ``+25:00`` offset: ValueError) or of deep nesting.
YAML_ERRORS = (yaml.YAMLError, ValueError, OverflowError, RecursionError)
#: Frontmatter with more values than this, once its aliases are expanded, is refused: a
#: "billion laughs" of nested aliases would otherwise be copied and written out in full.
MAX_YAML_VALUES = 100_000
#: Frontmatter nested deeper than this is refused (a self-referencing alias is infinitely deep).
MAX_YAML_DEPTH = 100


def yaml_problem(data: object) -> str:
    """Return why loaded frontmatter is refused (too many values or too deep), or ``""``.

    >>> yaml_problem({"a": [1, [2]]})
    ''
    >>> loop: list[object] = []
    >>> loop.append(loop)
    >>> yaml_problem({"a": loop})
    'frontmatter nested more than 100 levels deep (a self-referencing alias?)'
    """
    budget = MAX_YAML_VALUES
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return f"frontmatter too large: over {MAX_YAML_VALUES:,} values once its aliases are expanded"
        if depth > MAX_YAML_DEPTH:
            return f"frontmatter nested more than {MAX_YAML_DEPTH} levels deep (a self-referencing alias?)"
        if isinstance(value, dict):
            stack += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, (list, tuple)):
            stack += [(item, depth + 1) for item in value]
    return ""


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe YAML dumper writing date-times as Obsidian does (``2025-09-18T11:49:49``)."""


def _represent_datetime(dumper: Any, value: dt.datetime) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


def _represent_none(dumper: Any, value: None) -> Any:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:null", ""
    )  # "category:" as Obsidian writes it


_Dumper.add_representer(dt.datetime, _represent_datetime)
_Dumper.add_representer(type(None), _represent_none)


_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_RESOLVE: Any = yaml.resolver.Resolver().resolve


#: Scalar events by (tag, value): the emitter only reads them, and keys and most values recur.
_SCALARS: dict[tuple[str, str], yaml.ScalarEvent] = {}


def _scalar(tag: str, value: str) -> yaml.ScalarEvent:
    event = _SCALARS.get((tag, value))
    if event is None:
        # As PyYAML's serializer: plain if it reads back with its tag, else quoted if need be.
        implicit = (
            tag == _RESOLVE(yaml.ScalarNode, value, (True, False)),
            tag == _RESOLVE(yaml.ScalarNode, value, (False, True)),
        )
        event = yaml.ScalarEvent(None, tag, implicit, value)
        if len(_SCALARS) >= 4096:
            _SCALARS.clear()
        _SCALARS[tag, value] = event
    return event


def _simple_events(metadata: dict[str, object]) -> list[yaml.Event] | None:
    """Return the events :class:`_Dumper` would emit for ``metadata`` (block style), if
    every key is text and every value is text, empty, a date-time or a list of text (as a
    note's own properties are); otherwise None."""
    events: list[yaml.Event] = [
        yaml.StreamStartEvent(),
        yaml.DocumentStartEvent(explicit=False),
        yaml.MappingStartEvent(None, _MAP, True, flow_style=False),
    ]
    for key, value in metadata.items():
        if type(key) is not str:
            return None
        events.append(_scalar(_STR, key))
        if type(value) is str:
            events.append(_scalar(_STR, value))
        elif value is None:
            events.append(_scalar(_NULL, ""))
        elif type(value) is dt.datetime:
            events.append(_scalar(_TIMESTAMP, value.isoformat()))
        elif type(value) is list and all(type(item) is str for item in value):
            events.append(yaml.SequenceStartEvent(None, _SEQ, True, flow_style=False))
            events += [_scalar(_STR, item) for item in value]
            events.append(yaml.SequenceEndEvent())
        else:
            return None
    events += [yaml.MappingEndEvent(), yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    return events


#: What :func:`render_note` asks the YAML handler for.
_RENDER_OPTIONS: dict[str, Any] = {
    "Dumper": _Dumper,
    "sort_keys": False,
    "width": 2**31 - 1,
    "default_flow_style": False,
    "allow_unicode": True,
}


class _YAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, trimming only newlines from the YAML it makes
    (``str.strip`` also took a no-break space that ended the last value: found by fuzzing).

    For the frontmatter :func:`render_note` writes, of text, dates and lists of text, the
    events PyYAML's representer and serializer would make are given to its emitter
    directly: the same YAML (tests/test_render.py checks) in a third of the time, as the
    emitter no longer calls back into Python twice for every value.
    """

    def export(self, metadata: dict[str, object], **kwargs: Any) -> str:
        kwargs.setdefault("default_flow_style", False)
        kwargs.setdefault("allow_unicode", True)
        if kwargs == _RENDER_OPTIONS and (events := _simple_events(metadata)) is not None:
            text = yaml.emit(events, Dumper=_Dumper, allow_unicode=True, width=kwargs["width"])
            return str(text).rstrip("\n")
        return str(yaml.dump(metadata, **kwargs)).rstrip("\n")


_HANDLER = _YAMLHandler()


def _iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _frontmatter(note: Note) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "type": note.type or None,
        "category": note.category or None,
        "created": note.created,
        "modified": note.modified,
        "tags": list(note.tags),
        "status": note.status or None,
        "source": note.source or None,
        "original_file": note.original_file or None,
    }
    optional = {
        "url": note.url,
        "capture_id": note.capture_id,
        "captured": note.captured,
        "fetched_at": note.fetched_at,
        "status_reason": note.status_reason,
    }
    meta.update({key: value for key, value in optional.items() if value})
    meta.update(note.properties)
    return meta


def _source_section(source: Source) -> str:
    fields: list[_SourceField] = [
        ("kind", source.kind),
        ("title", source.title),
        ("author", source.author),
        ("site", source.site),
        ("published", _iso(source.published)),
        ("fetched", _iso(source.fetched_at)),
        ("error", source.error),
    ]
    callout = "warning" if source.error else "info"
    lines = [
        format_line(f"## {_SCRAPED}", source.url),
        "",
        f"> [!{callout}] {_SOURCE_LABELS[source.kind]}",
        ">",
    ]
    lines += ["> " + format_line(f"- {key}: ", value) for key, value in fields if value]
    if source.text:
        lines += ["", source.text]
    return "\n".join(lines)


def render_note(note: Note) -> str:
    """Render ``note`` as Markdown with YAML frontmatter, in mdformat's canonical form.

    >>> print(render_note(Note(title="Hello", tags=["a b"], summary="Hi *there*")))
    ---
    type: note
    category:
    created:
    modified:
    tags:
    - a-b
    status: draft
    source: inbox_processing
    original_file:
    ---
    <BLANKLINE>
    # Hello
    <BLANKLINE>
    ## summary
    <BLANKLINE>
    Hi *there*
    <BLANKLINE>
    ## content
    <BLANKLINE>
    ## connections
    <BLANKLINE>
    """
    parts = [format_line("# ", note.title)]
    parts += [body for heading, body in note.extra_sections if not heading and body]
    parts += ["## summary", note.summary, "## content", note.content]
    parts += [_source_section(source) for source in note.sources]
    for heading, body in note.extra_sections:
        if heading:
            parts += [format_line("## ", heading), body]
    parts.append("## connections")
    parts.append("\n".join(f"- [[{target}]]" for target in note.connections))
    post = frontmatter.Post("\n\n".join(part for part in parts if part))
    post.metadata = _frontmatter(note)
    text = frontmatter.dumps(
        post, handler=_HANDLER, Dumper=_Dumper, sort_keys=False, width=2**31 - 1
    )  # = _RENDER_OPTIONS
    # Every part is already in mdformat's canonical form, so the joined note is too
    # (tests/test_render.py checks that formatting it again changes nothing).
    return text + "\n"


# --- reading -----------------------------------------------------------------------


def _load_yaml(source: str, path: Path | str | None) -> dict[str, Any]:
    try:
        data = yaml.load(source, Loader=_BaseLoader)  # noqa: S506 - a safe loader (CSafeLoader when available)
    except YAML_ERRORS as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (frontmatter line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
        raise NoteFormatError(f"invalid YAML frontmatter{where}: {problem}", path=path) from exc
    if data is None:
        return {}
    problem = yaml_problem(data)
    if problem:
        raise NoteFormatError(problem, path=path)
    if not isinstance(data, dict):
        raise NoteFormatError(
            f"frontmatter is a {type(data).__name__}, not a mapping of properties", path=path
        )
    return {str(key): value for key, value in data.items()}


def _lenient(converter: Any, value: Any) -> Any:
    try:
        return converter(value)
    except (TypeError, ValueError):
        return None


def _heading_positions(tokens: Sequence[Token]) -> list[tuple[int, str, int, int, str]]:
    """Return (token index, tag, first line, line after, text) of top-level h1/h2 headings."""
    heads = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.tag in {"h1", "h2"}:
            assert token.map is not None
            text = inline_plain_text(parse_inline(tokens[index + 1].content)).strip()
            heads.append((index, token.tag, token.map[0], token.map[1], text))
    return heads


def _top_blocks(tokens: Sequence[Token]) -> tuple[list[int], list[int]]:
    """The first lines and indexes of the top-level blocks, for :func:`bisect` (in line order)."""
    starts: list[int] = []
    indexes: list[int] = []
    for index, token in enumerate(tokens):
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            starts.append(token.map[0])
            indexes.append(index)
    return starts, indexes


def _source_from_section(
    url: str,
    tokens: Sequence[Token],
    top: tuple[list[int], list[int]],
    lines: list[str],
    start: int,
    end: int,
) -> Source:
    fields: dict[str, str] = {}
    text_start = start
    # The section's first block, found by bisection: a scan of every token per section
    # took quadratic time on notes with thousands of sources.
    position = bisect.bisect_left(top[0], start)
    first = None
    if position < len(top[0]) and top[0][position] < end:
        first = top[1][position], tokens[top[1][position]]
    if first is not None and first[1].type == "blockquote_open":
        index, opener = first
        assert opener.map is not None
        text_start = opener.map[1]
        for position in range(index + 1, len(tokens)):  # not tokens[index + 1 :]: a copy each
            token = tokens[position]
            if token.type == "blockquote_close" and token.level == 0:
                break
            if token.type == "inline" and token.level >= 3:  # inside a list item
                key, sep, value = inline_plain_text(parse_inline(token.content)).partition(": ")
                if sep and key in _SOURCE_KEYS:
                    fields[key] = value
    kind = fields.get("kind", "article")
    return Source(
        url=url,
        kind=kind if kind in _SOURCE_LABELS else "article",  # type: ignore[arg-type]
        title=fields.get("title", ""),
        author=fields.get("author", ""),
        site=fields.get("site", ""),
        published=_lenient(_published, fields.get("published")),
        fetched_at=_lenient(_timestamp, fields.get("fetched")),
        error=fields.get("error", ""),
        text="\n".join(lines[text_start:end]),
    )


def _connections(tokens: Sequence[Token], start: int, end: int) -> list[str]:
    targets: list[str] = []
    inside = False
    for token in tokens:
        if token.map is not None and token.level == 0:
            inside = start <= token.map[0] < end
        if inside and token.type == "inline":
            for child in parse_inline(token.content):
                if child.type == "wikilink":
                    targets.append(child.content[2:-2].split("|", 1)[0])
    return targets


def parse_note(text: str, *, path: Path | str | None = None, title: str | None = None) -> Note:
    """Read a note from Markdown, as :func:`render_note` writes it or as a user edited it.

    Unknown frontmatter keys go to :attr:`Note.properties`, unknown ``##`` sections to
    :attr:`Note.extra_sections`. Values of known keys that do not fit (a ``created``
    that is not a date) are dropped.

    Args:
        text: The note's Markdown.
        path: The note's file, named in errors.
        title: The title to use when the note has no ``# heading`` (e.g. its file name).

    Raises:
        NoteFormatError: The frontmatter is not valid YAML, or the note has no title.
    """
    text = _NEWLINES.sub("\n", text.removeprefix("\ufeff"))
    tokens = block_parser().parse(text)
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    if tokens and tokens[0].type == "front_matter":
        meta = _load_yaml(tokens[0].content, path)
    known = {key: meta.pop(key) for key in KNOWN_KEYS if key in meta}
    heads = _heading_positions(tokens)
    note_title = title
    body_start = (
        tokens[0].map[1] if tokens and tokens[0].type == "front_matter" and tokens[0].map else 0
    )
    before_title = ""
    if heads and heads[0][1] == "h1":
        note_title = heads[0][4]
        before_title = "\n".join(lines[body_start : heads[0][2]]).strip("\n")
        body_start = heads[0][3]
        heads = heads[1:]
    if not note_title:
        raise NoteFormatError("the note has no '# title' heading", path=path)
    # An empty "## " names no section: it stays in the text around it, as a sub-heading.
    heads = [head for head in heads if head[4]]

    sections: dict[str, str] = {}
    sources: list[Source] = []
    extra: list[tuple[str, str]] = []
    connections: list[str] | None = None
    top: tuple[list[int], list[int]] | None = None
    preamble_end = heads[0][2] if heads else len(lines)
    after_title = "\n".join(lines[body_start:preamble_end]).strip("\n")
    preamble = "\n\n".join(part for part in (before_title, after_title) if part.strip())
    if preamble.strip():
        extra.append(("", preamble))
    # render_note writes the connections last: of two "## connections", the last is ours.
    last_connections = max(
        (i for i, head in enumerate(heads) if head[4].casefold() == "connections"), default=-1
    )
    for position, (_, _, first, after, heading) in enumerate(heads):
        end = heads[position + 1][2] if position + 1 < len(heads) else len(lines)
        body = "\n".join(lines[after:end]).strip("\n")
        name = heading.casefold()
        if name in {"summary", "content"} and name not in sections:
            sections[name] = body
        elif position == last_connections:
            connections = _connections(tokens, first, end)
        elif heading.startswith(_SCRAPED) and _is_source_url(heading[len(_SCRAPED) :].strip()):
            url = heading[len(_SCRAPED) :].strip()
            if top is None:
                top = _top_blocks(tokens)
            sources.append(_source_from_section(url, tokens, top, lines, after, end))
        else:
            extra.append((heading, body))

    fields: dict[str, Any] = {}
    for key, value in known.items():
        converter = _KNOWN_CONVERTERS.get(key)
        fields[key] = _lenient(converter, value) if converter else value
    if isinstance(fields.get("url"), str):
        fields["url"] = fields["url"].replace(" ", "%20")
    fields = {key: value for key, value in fields.items() if _fits(key, value)}
    try:
        return Note(
            title=note_title,
            **fields,
            properties=meta,
            summary=sections.get("summary", ""),
            content=sections.get("content", ""),
            sources=sources,
            connections=connections or (),
            extra_sections=extra,
        )
    except (TypeError, ValueError) as exc:
        raise NoteFormatError(f"not a note: {exc}", path=path) from exc


def _is_source_url(text: str) -> bool:
    """Tell whether ``text`` (after "Scraped from") can be a source's URL: one word, not empty."""
    return bool(text) and not any(char.isspace() for char in text)


def _fits(key: str, value: Any) -> bool:
    """Tell whether a known frontmatter value is accepted by the :class:`Note` field ``key``."""
    try:
        evolve(_EMPTY, **{key: value})
    except (TypeError, ValueError):
        return False
    return True


_EMPTY = Note(title="x")


_KNOWN_CONVERTERS: dict[str, Any] = {
    "created": _timestamp,
    "modified": _timestamp,
    "captured": _timestamp,
    "fetched_at": _timestamp,
}


# --- verifying ---------------------------------------------------------------------


def _is_plain(note: Note) -> bool:
    """Tell whether every part of ``note`` is plain text, whose rendering is exact by construction."""
    texts = [note.summary, note.content, *(body for _, body in note.extra_sections)]
    texts += [source.text for source in note.sources]
    lines = [note.title, *(heading for heading, _ in note.extra_sections)]
    for source in note.sources:
        lines += [source.url, source.title, source.author, source.site, source.error]
    return all(not text or is_plain_markdown(text) for text in texts) and all(
        not line or is_plain_inline(line) for line in lines
    )


def _simple_yaml(value: object) -> bool:
    """Tell whether PyYAML's safe dump and load give ``value`` back by design (no floats, no odd text)."""
    if value is None or isinstance(value, (bool, int, dt.date)):
        return True
    if isinstance(value, str):
        return len(value) < 1024 and value.isprintable()
    if isinstance(value, list):
        return all(_simple_yaml(item) for item in value)
    return False


def verify_rendered(note: Note, text: str) -> None:
    """Check that ``text`` (from :func:`render_note`) reads back as ``note``.

    The frontmatter is re-read and compared unless it holds only values PyYAML keeps by
    design (text, numbers without fractions, dates, lists of those); the body is re-parsed
    with markdown-it unless every part of the note is plain prose, whose rendering is exact
    by construction. Both shortcuts are property-tested against the full check.

    Raises:
        RenderError: Something would be lost or changed.
    """
    end = text.find("\n---\n", 4)
    if not text.startswith("---\n") or end < 0:
        raise RenderError(f"{note.title!r}: the rendered note has no frontmatter block")
    expected = _frontmatter(note)
    simple = all(key.isprintable() and _simple_yaml(value) for key, value in expected.items())
    try:
        meta = expected if simple else _load_yaml(text[4:end], None)
    except NoteFormatError as exc:
        raise RenderError(f"{note.title!r}: the frontmatter does not read back: {exc}") from exc
    if meta != expected or list(meta) != list(expected):
        lost = sorted({*meta, *expected} - {k for k in meta if meta.get(k) == expected.get(k)})
        raise RenderError(
            f"{note.title!r}: the frontmatter would change {', '.join(lost)}; not written"
        )
    if _is_plain(note):
        return
    try:
        again = parse_note(text)
    except NoteFormatError as exc:
        raise RenderError(f"{note.title!r}: the rendered note does not read back: {exc}") from exc
    if again != note:
        differing = [
            f.name for f in attrs.fields(Note) if getattr(again, f.name) != getattr(note, f.name)
        ]
        raise RenderError(
            f"{note.title!r}: the rendered note would lose {', '.join(differing)}; not written"
        )
