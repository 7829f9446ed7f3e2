"""Settings of a run, and the vault's configuration file ``.obsidian-inbox.toml``.

:class:`Settings` holds where captures are, where notes go and the run's limits. Its
values come, in increasing priority, from the defaults, from the vault's TOML file and
from the command line; :func:`load_settings` reads the file (with :mod:`tomllib`) and
checks every value, so a mistake is reported once, up front, naming the file, the key
and the reason.

The file's keys are the attributes of :class:`Settings`, except ``[tags]``, which fills
``tag_rules``::

    inbox = "Inbox"
    notes_folder = "Notes"
    file_name = "{created:%Y-%m-%d} {title}"

    [category_folders]
    development = "Notes/Development"

    [[category_rules]]
    category = "development"
    keywords = ["python", "git"]
    sites = ["github.com"]

    [tags]
    python = ["python", "pip"]
    reading = { sites = ["longreads.com"] }
"""

from __future__ import annotations

import difflib
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import attrs

from ._errors import ConfigError
from ._inbox import DEFAULT_MAX_CAPTURE_BYTES
from ._markdown import one_line
from ._naming import DEFAULT_NAME_TEMPLATE, check_name_template
from ._tags import clean_tag

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["CONFIG_FILE", "Origin", "ResolvedSettings", "Settings", "load_settings", "resolve"]

#: The configuration file's name, in the vault's top folder.
CONFIG_FILE = ".obsidian-inbox.toml"

#: Where a setting's value came from.
Origin = Literal["default", "file", "flag"]

SummaryBackend = Literal["default", "llm"]
_RULE_KEYS = ("category", "keywords", "sites")
_TAG_RULE_KEYS = ("keywords", "sites")


# --- checking values -----------------------------------------------------------------
#
# Each converter takes the raw value (from TOML or from Python) and returns it in its
# canonical form, or raises ConfigError naming the key. Settings' own converters use
# them too, so a Settings built in Python is checked like one read from a file.


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), type(value).__name__)


def _string(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"expected a string, got {_kind(value)} ({value!r})", key=key)
    return value


def _number(
    key: str, value: object, *, minimum: float = 0, integer: bool = False, positive: bool = False
) -> float:
    wanted = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"expected {wanted}, got {_kind(value)} ({value!r})", key=key)
    if integer and not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {value!r}", key=key)
    if not math.isfinite(value):
        raise ConfigError(f"must be a finite number, got {value!r}", key=key)
    if value < minimum or (positive and value <= 0):
        bound = f"greater than {minimum:g}" if positive else f"at least {minimum:g}"
        raise ConfigError(f"must be {bound}, got {value!r}", key=key)
    return value


def _seconds(key: str, value: object, *, positive: bool = False) -> float:
    return float(_number(key, value, positive=positive))


def _count(key: str, value: object) -> int:
    return int(_number(key, value, minimum=1, integer=True))


def _folder(key: str, value: object, *, inside_vault: bool) -> str:
    text = _string(key, value).strip().replace("\\", "/")
    if not inside_vault:
        if not text:
            raise ConfigError("must not be empty", key=key)
        return text
    path = PurePosixPath(text)
    if path.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise ConfigError(f"must be a folder inside the vault, got {value!r}", key=key)
    if ".." in path.parts:
        raise ConfigError(f"must not leave the vault with '..', got {value!r}", key=key)
    text = path.as_posix()
    return "" if text == "." else text


def _non_empty(key: str, value: object) -> str:
    text = one_line(_string(key, value))
    if not text:
        raise ConfigError("must not be empty", key=key)
    return text


def _template(value: object) -> str:
    text = _string("file_name", value)
    try:
        check_name_template(text)
    except ValueError as exc:
        raise ConfigError(str(exc), key="file_name") from exc
    return text


def _summary(value: object) -> SummaryBackend:
    text = _string("summary", value)
    if text == "default":
        return "default"
    if text == "llm":
        return "llm"
    raise ConfigError(f'must be "default" or "llm", got {text!r}', key="summary")


def _url(value: object) -> str:
    text = _string("llm_url", value).strip()
    if text and not text.startswith(("http://", "https://")):
        raise ConfigError(f"must be an http:// or https:// URL, got {text!r}", key="llm_url")
    return text


def _words(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"expected an array of strings, got {_kind(value)}", key=key)
    words = []
    for item in value:
        word = one_line(_string(key, item)).casefold()
        if not word:
            raise ConfigError("holds an empty string", key=key)
        words.append(word)
    return tuple(words)


def _unknown(key: str, given: str, known: tuple[str, ...]) -> ConfigError:
    close = difflib.get_close_matches(given, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
    return ConfigError(f"unknown key{hint}", key=key)


def _table(key: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a table, got {_kind(value)}", key=key)
    return value


def _category_folders(value: object) -> dict[str, str]:
    folders = {}
    for category, folder in _table("category_folders", value).items():
        key = f"category_folders.{category}"
        name = one_line(str(category))
        if not name:
            raise ConfigError("a category name must not be empty", key=key)
        folders[name] = _folder(key, folder, inside_vault=True)
    return folders


def _category_rules(value: object) -> tuple[dict[str, Any], ...]:
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(
            f"expected an array of tables ([[category_rules]]), got {_kind(value)}",
            key="category_rules",
        )
    rules = []
    for number, raw in enumerate(value, start=1):
        key = f"category_rules[{number}]"
        table = _table(key, raw)
        for name in table:
            if name not in _RULE_KEYS:
                raise _unknown(f"{key}.{name}", name, _RULE_KEYS)
        if "category" not in table:
            raise ConfigError("needs a category", key=key)
        rule = {
            "category": _non_empty(f"{key}.category", table["category"]),
            "keywords": _words(f"{key}.keywords", table.get("keywords", ())),
            "sites": _words(f"{key}.sites", table.get("sites", ())),
        }
        if not rule["keywords"] and not rule["sites"]:
            raise ConfigError("needs keywords or sites to match", key=key)
        rules.append(rule)
    return tuple(rules)


def _tag_rules(value: object) -> tuple[dict[str, Any], ...]:
    if isinstance(value, (list, tuple)) and all(isinstance(item, Mapping) for item in value):
        # Already in canonical form (a Settings built in Python, or evolved).
        items: list[tuple[str, object]] = []
        for item in value:
            items.append((str(item.get("tag", "")), dict(item)))
    else:
        items = list(_table("tags", value).items())
    rules = []
    for name, raw in items:
        key = f"tags.{name}"
        tag = clean_tag(name)
        if tag is None or tag != name.lstrip("#"):
            suggestion = f"; did you mean {tag!r}?" if tag else ""
            raise ConfigError(f"{name!r} is not a valid Obsidian tag{suggestion}", key=key)
        if isinstance(raw, Mapping):
            for field in raw:
                if field not in (*_TAG_RULE_KEYS, "tag"):
                    raise _unknown(f"{key}.{field}", field, _TAG_RULE_KEYS)
            keywords = _words(f"{key}.keywords", raw.get("keywords", ()))
            sites = _words(f"{key}.sites", raw.get("sites", ()))
        else:
            keywords, sites = _words(key, raw), ()
        if not keywords and not sites:
            raise ConfigError("needs keywords or sites to match", key=key)
        rules.append({"tag": tag, "keywords": keywords, "sites": sites})
    return tuple(rules)


# Named converters, one per attribute (the attrs mypy plugin needs named functions).


def _inbox(value: object) -> str:
    return _folder("inbox", value, inside_vault=False)


def _archive(value: object) -> str:
    return _folder("archive", value, inside_vault=False)


def _notes_folder(value: object) -> str:
    return _folder("notes_folder", value, inside_vault=True)


def _capture_glob(value: object) -> str:
    return _non_empty("capture_glob", value)


def _max_capture_bytes(value: object) -> int:
    return _count("max_capture_bytes", value)


def _settle_seconds(value: object) -> float:
    return _seconds("settle_seconds", value)


def _source_label(value: object) -> str:
    return _non_empty("source_label", value)


def _lock_timeout(value: object) -> float:
    return _seconds("lock_timeout", value)


def _max_attempts(value: object) -> int:
    return _count("max_attempts", value)


def _concurrency(value: object) -> int:
    return _count("concurrency", value)


def _fetch_timeout(value: object) -> float:
    return _seconds("fetch_timeout", value, positive=True)


def _block_private_addresses(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected a boolean (true or false), got {_kind(value)} ({value!r})",
            key="block_private_addresses",
        )
    return value


def _max_seconds(value: object) -> float:
    return _seconds("max_seconds", value)


def _llm_model(value: object) -> str:
    return one_line(_string("llm_model", value))


@attrs.frozen(kw_only=True)
class Settings:
    """How obsidian-inbox processes a vault's inbox.

    Every attribute can be set in the vault's ``.obsidian-inbox.toml`` under the same
    name (``tag_rules`` as the ``[tags]`` table); see :func:`load_settings`. Values are
    checked when a :class:`Settings` is made: a wrong one raises
    :class:`~obsidian_inbox.ConfigError` naming the key.

    Attributes:
        inbox: The inbox folder, relative to the vault (or absolute).
        archive: Where processed captures are filed, relative to the inbox (or absolute).
        notes_folder: The vault folder new notes go to.
        category_folders: Vault folders for new notes of some categories
            (category → folder); other notes go to ``notes_folder``.
        file_name: The template of new notes' file names (without ``.md``): fields
            ``{title}``, ``{created}``, ``{captured}``, ``{category}``, ``{type}`` and
            ``{capture_id}``, with format specs such as ``{created:%Y-%m-%d}``. The result
            is cleaned into a file name valid on every system.
        capture_glob: Which files in the inbox are captures.
        max_capture_bytes: Larger captures are refused.
        settle_seconds: A capture changed more recently than this is waited for, so a
            file still being written (or synced) is not read half-way.
        source_label: The ``source`` property of new notes.
        lock_timeout: Seconds to wait for another run to finish before giving up.
        max_attempts: Runs in which a capture's fetch may fail transiently (timeout,
            429, 5xx) before its note is written as ``partial`` anyway.
        concurrency: How many captures are enriched at once.
        fetch_timeout: Seconds to wait for each web request.
        block_private_addresses: Refuse to fetch a URL found in fetched content (the
            article a feed item links to, when the capture names no page) when its host
            is, or resolves to, a private, loopback, link-local or other non-public
            address, also after a redirect. The URLs a capture names are always fetched.
        max_seconds: The run's time budget in seconds (0: none). When it runs out the
            run stops after the current capture; the rest stay in the inbox.
        summary: How notes are summarised: ``"default"`` (the first sentences) or
            ``"llm"`` (a language model at ``llm_url``).
        llm_url: The language model's HTTP endpoint, for ``summary = "llm"``.
        llm_model: The model's name, for ``summary = "llm"``.
        category_rules: Rules giving a note a category: mappings with ``category``,
            ``keywords`` (words in the title or text) and ``sites`` (hosts of the URL),
            the first matching rule winning.
        tag_rules: Rules adding tags: mappings with ``tag``, ``keywords`` and ``sites``.
    """

    inbox: str = attrs.field(default="Inbox", converter=_inbox)
    archive: str = attrs.field(default="processed", converter=_archive)
    notes_folder: str = attrs.field(default="Notes", converter=_notes_folder)
    category_folders: dict[str, str] = attrs.field(
        factory=dict, converter=_category_folders, hash=False
    )
    file_name: str = attrs.field(default=DEFAULT_NAME_TEMPLATE, converter=_template)
    capture_glob: str = attrs.field(default="*.txt", converter=_capture_glob)
    max_capture_bytes: int = attrs.field(
        default=DEFAULT_MAX_CAPTURE_BYTES, converter=_max_capture_bytes
    )
    settle_seconds: float = attrs.field(default=1.0, converter=_settle_seconds)
    source_label: str = attrs.field(default="inbox_processing", converter=_source_label)
    lock_timeout: float = attrs.field(default=0.0, converter=_lock_timeout)
    max_attempts: int = attrs.field(default=3, converter=_max_attempts)
    concurrency: int = attrs.field(default=8, converter=_concurrency)
    fetch_timeout: float = attrs.field(default=20.0, converter=_fetch_timeout)
    block_private_addresses: bool = attrs.field(default=True, converter=_block_private_addresses)
    max_seconds: float = attrs.field(default=0.0, converter=_max_seconds)
    summary: SummaryBackend = attrs.field(default="default", converter=_summary)
    llm_url: str = attrs.field(default="", converter=_url)
    llm_model: str = attrs.field(default="", converter=_llm_model)
    category_rules: tuple[dict[str, Any], ...] = attrs.field(
        default=(), converter=_category_rules, hash=False
    )
    tag_rules: tuple[dict[str, Any], ...] = attrs.field(
        default=(), converter=_tag_rules, hash=False
    )

    def __attrs_post_init__(self) -> None:
        if self.summary == "llm" and not self.llm_url:
            raise ConfigError(
                'summary = "llm" needs llm_url (the model\'s endpoint)', key="summary"
            )

    def folder_for(self, category: str) -> str:
        """Return the vault folder a new note of ``category`` goes to."""
        return self.category_folders.get(category, self.notes_folder)


#: TOML key → Settings attribute, where they differ.
_KEY_TO_FIELD = {"tags": "tag_rules"}
_FIELD_TO_KEY = {field: key for key, field in _KEY_TO_FIELD.items()}
_KEYS = tuple(_FIELD_TO_KEY.get(f.name, f.name) for f in attrs.fields(Settings))


def toml_key(field: str) -> str:
    """Return the TOML key of a :class:`Settings` attribute."""
    return _FIELD_TO_KEY.get(field, field)


@attrs.frozen
class ResolvedSettings:
    """Settings with where each value came from (for ``obsidian-inbox config``).

    Attributes:
        settings: The effective settings.
        origins: Attribute name → ``"default"``, ``"file"`` or ``"flag"``.
        file: The configuration file read, if there was one.
    """

    settings: Settings
    origins: dict[str, Origin]
    file: Path | None


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", path=path) from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from exc
    return data


def resolve(
    vault: str | os.PathLike[str] | None,
    *,
    file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ResolvedSettings:
    """Return the effective settings: defaults, then the file, then ``overrides``.

    Args:
        vault: The vault whose ``.obsidian-inbox.toml`` is read (when it has one).
        file: Read this file instead; it must exist.
        overrides: Attribute → value, from the command line (None values are ignored).

    Raises:
        ConfigError: The file cannot be read, is not TOML, or holds an unknown key or a
            wrong value; the message names the file and the key.
    """
    path: Path | None
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_file():
            raise ConfigError("configuration file does not exist", path=path)
    elif vault is not None and (Path(vault).expanduser() / CONFIG_FILE).is_file():
        path = Path(vault).expanduser() / CONFIG_FILE
    else:
        path = None
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {f.name: "default" for f in attrs.fields(Settings)}
    if path is not None:
        for key, value in _read(path).items():
            if key not in _KEYS:
                raise _with_path(_unknown(key, key, _KEYS), path)
            field = _KEY_TO_FIELD.get(key, key)
            values[field] = value
            origins[field] = "file"
    try:
        from_file = Settings(**values)
    except ConfigError as exc:
        raise _with_path(exc, path) from None
    flags = {name: value for name, value in (overrides or {}).items() if value is not None}
    unknown = [name for name in flags if name not in origins]
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    for name in flags:
        origins[name] = "flag"
    try:
        settings = attrs.evolve(from_file, **flags)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc.reason} (given on the command line)", key=exc.key, path=None
        ) from None
    return ResolvedSettings(settings, origins, path.resolve() if path else None)


def _with_path(exc: ConfigError, path: Path | None) -> ConfigError:
    return ConfigError(exc.reason, path=path, key=exc.key) if path else exc


def load_settings(
    vault: str | os.PathLike[str] | None = None,
    *,
    file: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> Settings:
    """Return the settings for ``vault``: its ``.obsidian-inbox.toml``, if any, over the defaults.

    Args:
        vault: The vault's folder.
        file: Read this configuration file instead of the vault's.
        overrides: Settings that win over the file, e.g. ``settle_seconds=0``.

    Raises:
        ConfigError: The file is not valid TOML, or holds an unknown key or a wrong value.

    >>> load_settings(notes_folder="Reading").folder_for("anything")
    'Reading'
    """
    return resolve(vault, file=file, overrides=overrides).settings
