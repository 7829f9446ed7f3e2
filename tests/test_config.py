"""The vault's configuration file, its checks, and the effective configuration."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import attrs
import pytest

import obsidian_inbox
from obsidian_inbox import ConfigError, Settings, load_settings, process_inbox
from obsidian_inbox._config import CONFIG_FILE, resolve
from obsidian_inbox._output import config_json, config_toml

from .helpers import make_vault

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOCS = Path(__file__).parent.parent / "docs"


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / CONFIG_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_no_file_gives_the_defaults(tmp_path: Path) -> None:
    resolved = resolve(tmp_path)
    assert resolved.settings == Settings()
    assert resolved.file is None
    assert set(resolved.origins.values()) == {"default"}


def test_the_file_and_flags_set_values_and_their_origins(tmp_path: Path) -> None:
    write_config(tmp_path, 'inbox = "00 Inbox"\nsettle_seconds = 2\nconcurrency = 4\n')
    resolved = resolve(tmp_path, overrides={"concurrency": 2, "max_seconds": None})
    assert resolved.settings.inbox == "00 Inbox"
    assert resolved.settings.settle_seconds == 2.0
    assert isinstance(resolved.settings.settle_seconds, float)
    assert resolved.settings.concurrency == 2
    assert resolved.origins["inbox"] == "file"
    assert resolved.origins["concurrency"] == "flag"
    assert resolved.origins["max_seconds"] == "default"  # None means "not given"
    assert resolved.file == (tmp_path / CONFIG_FILE).resolve()


def test_load_settings_reads_the_vault_file(tmp_path: Path) -> None:
    write_config(tmp_path, 'notes_folder = "Reading"\n')
    assert load_settings(tmp_path).notes_folder == "Reading"
    assert load_settings(tmp_path, notes_folder="Elsewhere").notes_folder == "Elsewhere"


def test_another_file_can_be_named(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("max_attempts = 5\n", encoding="utf-8")
    assert load_settings(tmp_path, file=other).max_attempts == 5
    with pytest.raises(ConfigError, match="configuration file does not exist"):
        load_settings(tmp_path, file=tmp_path / "missing.toml")


def test_rules_and_folders(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
[category_folders]
development = "Notes/Development/"

[[category_rules]]
category = "development"
keywords = ["Python", "git"]
sites = ["github.com"]

[tags]
python = ["python", "pip"]
"project/side" = { sites = ["example.org"] }
""",
    )
    settings = load_settings(tmp_path)
    assert settings.folder_for("development") == "Notes/Development"
    assert settings.folder_for("other") == "Notes"
    assert settings.category_rules == (
        {"category": "development", "keywords": ("python", "git"), "sites": ("github.com",)},
    )
    assert settings.tag_rules == (
        {"tag": "python", "keywords": ("python", "pip"), "sites": ()},
        {"tag": "project/side", "keywords": (), "sites": ("example.org",)},
    )
    # Evolving keeps the canonical form.
    assert attrs.evolve(settings, inbox="In").tag_rules == settings.tag_rules


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("settle_secnds = 1", "settle_secnds", "unknown key; did you mean 'settle_seconds'?"),
        ("zzz = 1", "zzz", "unknown key; known keys: inbox, archive"),
        ('settle_seconds = "3"', "settle_seconds", "expected a number, got a string ('3')"),
        ("settle_seconds = -1", "settle_seconds", "must be at least 0, got -1"),
        ("settle_seconds = nan", "settle_seconds", "must be a finite number"),
        ("concurrency = 2.5", "concurrency", "expected an integer, got 2.5"),
        ("concurrency = true", "concurrency", "expected an integer, got a boolean"),
        ("concurrency = 0", "concurrency", "must be at least 1, got 0"),
        ("fetch_timeout = 0", "fetch_timeout", "must be greater than 0, got 0"),
        ('notes_folder = "../x"', "notes_folder", "must not leave the vault with '..'"),
        ('notes_folder = "/abs"', "notes_folder", "must be a folder inside the vault"),
        ('inbox = ""', "inbox", "must not be empty"),
        ('file_name = "{titel}"', "file_name", "unknown field {titel}; use title, created"),
        ('file_name = "{title!r}"', "file_name", "{title!r}: conversions are not allowed"),
        ('file_name = "{title.upper}"', "file_name", "unknown field {title.upper}"),
        ('file_name = "note"', "file_name", "uses no field"),
        ('file_name = "{title"', "file_name", "not a valid template"),
        ('file_name = "{created:%Y-%m-%d} {title:>{width}}"', "file_name", "nested fields"),
        ('summary = "gpt"', "summary", 'must be "default" or "llm"'),
        ('summary = "llm"', "summary", "needs llm_url"),
        ('llm_url = "ftp://x"', "llm_url", "must be an http:// or https:// URL"),
        ("[category_folders]\ndev = 1", "category_folders.dev", "expected a string"),
        ("category_rules = 1", "category_rules", "expected an array of tables"),
        ("[[category_rules]]\nkeywords = ['x']", "category_rules[1]", "needs a category"),
        ("[[category_rules]]\ncategory = 'x'", "category_rules[1]", "needs keywords or sites"),
        (
            "[[category_rules]]\ncategory = 'x'\nkeyword = ['y']",
            "category_rules[1].keyword",
            "unknown key; did you mean 'keywords'?",
        ),
        (
            "[tags]\n'machine learning' = ['ml']",
            "tags.machine learning",
            "did you mean 'machine-learning'?",
        ),
        ("[tags]\n2025 = ['x']", "tags.2025", "is not a valid Obsidian tag"),
        ("[tags]\nx = { site = ['a'] }", "tags.x.site", "did you mean 'sites'?"),
        ("[tags]\nx = []", "tags.x", "needs keywords or sites"),
        ("[tags]\nx = [1]", "tags.x", "expected a string, got an integer"),
    ],
)
def test_a_wrong_value_names_the_file_the_key_and_the_reason(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    write_config(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    error = caught.value
    assert error.path == tmp_path / CONFIG_FILE
    assert error.key == key
    assert reason in error.reason
    assert str(error).startswith(f"{tmp_path / CONFIG_FILE}: {key}: ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'inbox = "a"\nnotes folder = "x"\n', "not valid TOML: Expected '=' after a key"),
        (b'inbox = "\xff"\n', "not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_toml_is_named(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / CONFIG_FILE).write_bytes(data)
    with pytest.raises(ConfigError, match=re.escape(reason)) as caught:
        load_settings(tmp_path)
    assert caught.value.path == tmp_path / CONFIG_FILE
    assert "(at line 2, column 7)" in str(caught.value) or reason == "not UTF-8 text"


def test_settings_made_in_python_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="concurrency: must be at least 1"):
        Settings(concurrency=0)
    with pytest.raises(ValueError, match="file_name"):  # ConfigError is a ValueError
        Settings(file_name="{nope}")


def test_the_effective_configuration_reads_back_as_the_same_settings(tmp_path: Path) -> None:
    write_config(
        tmp_path, (DOCS / "configuration.md").read_text().split("```toml\n")[1].split("```")[0]
    )
    resolved = resolve(tmp_path, overrides={"settle_seconds": 0})
    text = config_toml(resolved, str(tmp_path))
    assert "settle_seconds = 0.0  # flag\n" in text
    assert "[[category_rules]]  # file\n" in text
    again = tmp_path / "again"
    again.mkdir()
    (again / CONFIG_FILE).write_text(text, encoding="utf-8")
    assert load_settings(again) == resolved.settings
    assert tomllib.loads(text)  # plain TOML, comments and all


def test_the_defaults_read_back_too(tmp_path: Path) -> None:
    text = config_toml(resolve(tmp_path), str(tmp_path))
    assert "# file: none (defaults)" in text
    write_config(tmp_path, text)
    assert load_settings(tmp_path) == Settings()


def test_the_effective_configuration_as_json(tmp_path: Path) -> None:
    write_config(tmp_path, "[tags]\npython = ['python']\n")
    data = json.loads(config_json(resolve(tmp_path), str(tmp_path)))
    assert data["file"] == str((tmp_path / CONFIG_FILE).resolve())
    assert data["settings"]["tags"] == {
        "value": [{"tag": "python", "keywords": ["python"], "sites": []}],
        "origin": "file",
    }
    assert data["settings"]["inbox"] == {"value": "Inbox", "origin": "default"}


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    example = (DOCS / "configuration.md").read_text().split("```toml\n")[1].split("```")[0]
    write_config(tmp_path, example)
    settings = load_settings(tmp_path)
    defaults = attrs.asdict(Settings())
    for key in ("inbox", "archive", "notes_folder", "file_name", "settle_seconds", "concurrency"):
        assert getattr(settings, key) == defaults[key]
    assert settings.folder_for("reading") == "Notes/Reading"


def test_process_inbox_uses_the_vault_file(tmp_path: Path) -> None:
    vault = make_vault(
        tmp_path,
        config='settle_seconds = 0\nnotes_folder = "Clippings"\nfile_name = "{created:%Y-%m-%d} {title}"\n',
        captures={
            "20250918_193000_note_idea.txt": "An idea worth keeping.\n",
            "20250918_193100_note_dev.txt": "---\ncategory: development\n---\nUse tomllib.\n",
        },
    )
    (vault / CONFIG_FILE).write_text(
        (vault / CONFIG_FILE).read_text() + '[category_folders]\ndevelopment = "Dev"\n',
        encoding="utf-8",
    )
    report = process_inbox(vault, offline=True)
    assert report.ok, report.outcomes
    assert sorted(o.note or "" for o in report.outcomes) == [
        "Clippings/2025-09-18 An idea worth keeping.md",
        "Dev/2025-09-18 Use tomllib.md",
    ]


def test_process_inbox_reports_a_bad_file(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, config="max_attempts = 0\n")
    with pytest.raises(obsidian_inbox.ConfigError, match="max_attempts: must be at least 1"):
        process_inbox(vault, offline=True)
    assert not (vault / "Notes").exists()
