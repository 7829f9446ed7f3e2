"""The vault index: what is read from each note, the cache, look-ups and link resolution."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from obsidian_inbox import NoteInfo, Vault, VaultIndex
from obsidian_inbox._index import (
    _BODY_TAG,
    _simple_frontmatter,
    _yaml_frontmatter,
    read_note_info,
    read_note_text,
    scan_vault,
)
from obsidian_inbox._state import State
from obsidian_inbox._tags import HASHTAG

from . import strategies
from .conftest import age, copy_vault

SETTINGS = settings()


def info(text: str, path: str = "Notes/A note.md") -> NoteInfo:
    return read_note_info(path, text.encode("utf-8"))


# --- reading one note ----------------------------------------------------------------


def test_title_is_the_file_name() -> None:
    assert info("# Another heading\n", "Deep/Folder/Café crème.md").title == "Café crème"


def test_title_is_nfc() -> None:
    assert info("", "Cafe\u0301.md").title == "Café"


@pytest.mark.parametrize(
    ("frontmatter", "aliases"),
    [
        ("aliases:\n  - One\n  - Two", ("One", "Two")),
        ("aliases: [One, 'Two, with comma']", ("One", "Two, with comma")),
        ("aliases: One, Two", ("One", "Two")),  # a string is comma-separated, as in Obsidian
        ("alias: Single", ("Single",)),
        ("Aliases:\n- Upper Key", ("Upper Key",)),
        ("aliases:\n  - Kierkegaard, Søren", ("Kierkegaard, Søren",)),
        ("aliases:", ()),
        ("aliases: []", ()),
        ("aliases:\n  - 2024\n  - yes", ("2024", "True")),  # what YAML makes of them
        ("aliases:\n  - Same\n  - Same", ("Same",)),
    ],
)
def test_aliases(frontmatter: str, aliases: tuple[str, ...]) -> None:
    assert info(f"---\n{frontmatter}\n---\nbody\n").aliases == aliases


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("---\ntags: [math, cs/algorithms]\n---\n", ("math", "cs/algorithms")),
        ("---\ntags:\n  - Math\n  - math\n---\n", ("Math",)),
        ("---\ntags: ml concept\n---\n", ("ml", "concept")),  # one string: words are tags
        ("---\ntag: single\n---\n", ("single",)),
        ("Body #idea and #review/weekly, not #123 nor a#b", ("idea", "review/weekly")),
        ("```\n#not-a-tag\n```\n`#nor-this` but #this", ("this",)),
        ("---\ntags: [a]\n---\n#b", ("a", "b")),
        ("## Heading\n\n&#8217; entity", ()),
    ],
)
def test_tags(text: str, tags: tuple[str, ...]) -> None:
    assert info(text).tags == tags


def test_url_and_capture_id() -> None:
    note = info("---\nurl: HTTPS://Example.com/a?utm_source=x\ncapture_id: 0123abcd\n---\n")
    assert note.url == "https://example.com/a"
    assert note.capture_id == "0123abcd"
    assert info("---\nurl: not a url\n---\n").url == ""


def test_invalid_yaml_is_tolerated() -> None:
    note = info("---\ncreated: {{date}}\naliases: [A]\n---\n# {{date}}\n#tag\n")
    assert note.aliases == ()
    assert note.tags == ("tag",)
    assert note.error.startswith("invalid YAML frontmatter")
    assert info("---\n- a list\n---\n").error == "frontmatter is not a mapping of properties"


def test_bom_and_crlf() -> None:
    data = "\ufeff---\r\naliases:\r\n  - Win\r\n---\r\nbody #tag\r\n".encode()
    note = read_note_info("A.md", data)
    assert (note.aliases, note.tags) == (("Win",), ("tag",))


def test_empty_frontmatter_and_none() -> None:
    assert info("---\n---\ntext") == NoteInfo("Notes/A note.md", "A note")
    assert info("no frontmatter") == NoteInfo("Notes/A note.md", "A note")


def test_read_note_text(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes("\ufeffline\r\nnext\rlast".encode())
    assert read_note_text(tmp_path, "a.md") == "line\nnext\nlast"


# --- the frontmatter fast path agrees with PyYAML ------------------------------------------

_USED = ("aliases", "alias", "tags", "tag", "url", "capture_id")
_WORDS = """a Gödel C++ 2024 2024-01-01 yes No null ~ 3.5 0x1F http://x.y/z?q=1&r=2 -5 #c [x]
{x} 'q' "d" it's *star &amp !tag | > @at `b` %p é a,b :""".split()  # noqa: SIM905
_word = st.sampled_from([*_WORDS, "x y", "a: b", "a #c", "", " ", "\t"])
_scalar = st.one_of(
    _word,
    _word.map(lambda w: f'"{w}"'),
    _word.map(lambda w: "'" + w.replace("'", "''") + "'"),
    st.lists(_word, max_size=3).map(lambda ws: "[" + ", ".join(ws) + "]"),
    st.lists(_word.map(lambda w: f'"{w}"'), max_size=3).map(lambda ws: "[" + ", ".join(ws) + "]"),
)
_key = st.sampled_from([*_USED, "Aliases", "TAGS", "created", "title", "my key", "yes", "x-y"])
_line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", _key, _scalar),
    _key.map(lambda k: f"{k}:"),
    st.builds(lambda indent, v: f"{indent}- {v}", st.sampled_from(["", "  ", "    "]), _scalar),
    st.sampled_from(["", "# comment", "  nested: x", "  continued", "key:value", "- ", "-"]),
)
frontmatter_sources = st.lists(_line, max_size=8).map("\n".join)


def _used_values(meta: dict[str, object]) -> dict[str, object]:
    return {key: meta[key] for key in _USED if key in meta}


@SETTINGS
@given(frontmatter_sources)
@example("aliases:\n- a\n- b\ntags: [x, 'y z']")
@example("tags:\n  - a\n- b")
@example("url: https://example.com/a:b")
def test_fast_frontmatter_agrees_with_pyyaml(source: str) -> None:
    fast = _simple_frontmatter(source)
    if fast is None:
        return
    slow, error = _yaml_frontmatter(source)
    assert not error, "the fast path accepted frontmatter that is not valid YAML"
    assert _used_values(fast) == _used_values(slow)


def test_fast_frontmatter_declines_what_it_does_not_know() -> None:
    for source in ["a:\n  b: c", "a: |\n  text", "a: &x 1", "aliases: 2024", "tags: [1, 2]"]:
        assert _simple_frontmatter(source) is None


@SETTINGS
@given(st.one_of(strategies.markdown_text, strategies.one_line_text))
@example("a#b #c &#12; #x/y")
def test_body_tag_pattern_is_the_hashtag_pattern(text: str) -> None:
    assert _BODY_TAG.findall(text) == HASHTAG.findall(text)


# --- the index ---------------------------------------------------------------------------


@pytest.fixture
def index() -> VaultIndex:
    return VaultIndex(
        [
            NoteInfo("Index.md", "Index"),
            NoteInfo("Archive/2022/Index.md", "Index"),
            NoteInfo("Projects/Atlas/Index.md", "Index"),
            NoteInfo("Notes/Gradient Descent.md", "Gradient Descent", url="https://x.example/"),
            NoteInfo("Notes/Ours.md", "Ours", capture_id="abc"),
        ]
    )


@pytest.mark.parametrize(
    ("link", "path"),
    [
        ("Index", "Index.md"),  # a shared name: the note nearest the root
        ("index#Heading", "Index.md"),
        ("Archive/2022/Index", "Archive/2022/Index.md"),
        ("2022/Index", "Archive/2022/Index.md"),  # the end of a path
        ("Projects/Atlas/Index.md", "Projects/Atlas/Index.md"),
        ("gradient descent", "Notes/Gradient Descent.md"),
        ("Notes/Gradient Descent#^block", "Notes/Gradient Descent.md"),
        ("Missing", None),
        ("Other/Index", None),
        ("", None),
        ("#Heading only", None),
    ],
)
def test_resolve(index: VaultIndex, link: str, path: str | None) -> None:
    found = index.resolve(link)
    assert (found.path if found else None) == path


def test_lookups(index: VaultIndex) -> None:
    assert [i.path for i in index.by_title("INDEX")] == [
        "Index.md",
        "Archive/2022/Index.md",
        "Projects/Atlas/Index.md",
    ]
    assert [i.path for i in index.by_url("https://x.example")] == ["Notes/Gradient Descent.md"]
    assert [i.path for i in index.by_capture_id("abc")] == ["Notes/Ours.md"]
    assert index.path_taken("notes/ours.md")
    assert not index.path_taken("Notes/Theirs.md")


def test_add_remove_and_versions(index: VaultIndex) -> None:
    start = index.version
    index.by_title("x")  # the look-up tables are built; they must follow changes
    index.add(NoteInfo("New.md", "New", aliases=("N",)))
    index.remove("Index.md")
    index.remove("Not there.md")
    assert index.changed_since(start) == {"New.md", "Index.md"}
    assert index.version == start + 2
    assert index.resolve("Index") == NoteInfo("Archive/2022/Index.md", "Index")
    assert index.get("New.md") == NoteInfo("New.md", "New", aliases=("N",))
    assert "Index.md" not in index
    assert len(index) == 5


# --- scanning and the cache ------------------------------------------------------------------


def write(root: Path, path: str, text: str) -> Path:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return file


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    write(root, "A.md", "---\naliases: [Alpha]\ntags: [x]\n---\nbody #y\n")
    write(root, "Folder/B.md", "b")
    write(root, "Folder/Deeper/C.md", "c")
    write(root, ".obsidian/workspace.md", "settings folder")
    write(root, ".trash/Deleted.md", "trash")
    write(root, "Folder/.hidden.md", "hidden file")
    write(root, "Inbox/capture.md", "inbox")
    write(root, "Folder/picture.png", "not a note")
    (root / "Folder/Dir.md").mkdir()
    age(root)
    return root


def paths(index: VaultIndex) -> list[str]:
    return sorted(info.path for info in index)


def test_scan_reads_each_note_once_and_caches(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    first = scan_vault(vault, state, skip=["Inbox"])
    assert first.read == 3
    assert paths(first.index) == ["A.md", "Folder/B.md", "Folder/Deeper/C.md"]
    second = scan_vault(vault, state, skip=["Inbox"])
    assert second.read == 0
    assert [*second.index] == [*first.index]
    assert second.index.get("A.md") == NoteInfo("A.md", "A", aliases=("Alpha",), tags=("x", "y"))


def test_changed_renamed_and_deleted_notes(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    write(vault, "Folder/B.md", "---\naliases: [Bee]\n---\n")
    (vault / "Folder/Deeper/C.md").rename(vault / "Folder/Renamed.md")
    (vault / "A.md").unlink()
    result = scan_vault(vault, state)
    assert result.read == 2  # the changed and the renamed note
    assert paths(result.index) == ["Folder/B.md", "Folder/Renamed.md", "Inbox/capture.md"]
    assert result.index.get("Folder/B.md") == NoteInfo("Folder/B.md", "B", aliases=("Bee",))
    assert set(state.index_rows()) == set(paths(result.index))


def test_touched_note_is_reread(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    when = time.time() - 30
    os.utime(vault / "A.md", (when, when))
    assert scan_vault(vault, state).read == 1


def test_a_note_changed_just_now_is_read_again_next_time(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    write(vault, "Fresh.md", "just written")  # its time may not tell a second change
    scan_vault(vault, state)
    assert scan_vault(vault, state).read == 1
    age(vault / "Fresh.md")
    assert scan_vault(vault, state).read == 1
    assert scan_vault(vault, state).read == 0


def test_read_only_state_is_not_written(vault: Path, tmp_path: Path) -> None:
    file = tmp_path / "state.sqlite3"
    State(file).close()
    with State(file, read_only=True) as state:
        assert scan_vault(vault, state).read == 4
        assert state.index_rows() == {}


def test_damaged_cache_entry(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    with state._db:
        state._db.execute("UPDATE notes SET data = 'not json' WHERE path = 'A.md'")
    note = scan_vault(vault, state).index.get("A.md")
    assert note is not None
    assert note.error == "damaged index cache entry"


def test_temp_files_are_reported(vault: Path, tmp_path: Path) -> None:
    write(vault, "Folder/.x.md.1234.oi-tmp", "half written")
    result = scan_vault(vault, State(tmp_path / "s.sqlite3"))
    assert result.temp_files == (vault / "Folder/.x.md.1234.oi-tmp",)


def test_vault_scan_uses_its_state_folder(vault: Path) -> None:
    with Vault(vault) as opened:
        opened.scan()
        assert opened.last_scan_reads == 4
    with Vault(vault) as opened:
        assert [info.path for info in opened.notes()] == [
            "A.md",
            "Folder/B.md",
            "Folder/Deeper/C.md",
            "Inbox/capture.md",
        ]
        assert opened.last_scan_reads == 0


# --- a generated vault -----------------------------------------------------------------


def test_generated_vault_is_indexed_as_its_manifest_says(make_vault, tmp_path: Path) -> None:
    root = copy_vault(make_vault(400), tmp_path / "vault")
    manifest = json.loads((root / ".manifest.json").read_text(encoding="utf-8"))
    with Vault(root) as vault:
        index = {info.path: info for info in vault.notes()}
    expected = {note["path"]: note for note in manifest["notes"]}
    assert set(index) == set(expected)
    for path, note in expected.items():
        got = index[path]
        assert got.title == note["title"]
        if note["frontmatter"] == "yaml" and "template" not in note["quirks"]:
            assert got.aliases == tuple(note["aliases"]), path
            assert {t.casefold() for t in note["tags"]} <= {t.casefold() for t in got.tags}
        assert not got.error or "template" in note["quirks"], (path, got.error)


def test_template_with_invalid_yaml_is_indexed(make_vault, tmp_path: Path) -> None:
    root = copy_vault(make_vault(400), tmp_path / "vault")
    (root / "Templates" / "Broken.md").write_text("---\ncreated: {{date}}\n---\n# {{title}}\n")
    with Vault(root) as vault:
        broken = vault.index.get("Templates/Broken.md")
    assert broken is not None
    assert re.match("invalid YAML", broken.error)


def test_yaml_reference_helper_reports_errors() -> None:
    assert _yaml_frontmatter("a: [b")[1].startswith("invalid YAML frontmatter")
    assert _yaml_frontmatter("")[0] == {}
    assert yaml.safe_load("a: b") == {"a": "b"}


def test_unchanged_folders_load_lazily_even_after_the_state_is_closed(
    vault: Path, tmp_path: Path
) -> None:
    file = tmp_path / "state.sqlite3"
    with State(file) as state:
        first = paths(scan_vault(vault, state).index)
    with State(file) as state:
        result = scan_vault(vault, state)
        assert result.read == 0
    assert len(result.index) == len(first)
    assert paths(result.index) == first  # loaded from the (closed, reopened) cache
    assert result.index.get("A.md") == NoteInfo("A.md", "A", aliases=("Alpha",), tags=("x", "y"))


def test_a_removed_folder_drops_out_of_the_cache(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    for note in (vault / "Folder" / "Deeper").iterdir():
        note.unlink()
    (vault / "Folder" / "Deeper").rmdir()
    result = scan_vault(vault, state)
    assert "Folder/Deeper/C.md" not in paths(result.index)
    assert "Folder/Deeper/C.md" not in state.index_rows()
    assert "Folder/Deeper/" not in state.index_folders()
    assert scan_vault(vault, state, skip=["Inbox"]).read == 0
    assert "Inbox/capture.md" not in state.index_rows()  # skipped folders drop out too


def test_an_entry_missing_from_the_cache_is_read_again(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    with state._db:
        state._db.execute("DELETE FROM notes WHERE path = 'A.md'")
    index = scan_vault(vault, state).index
    assert index.get("A.md") == NoteInfo("A.md", "A", aliases=("Alpha",), tags=("x", "y"))


def test_a_cache_without_folder_listings_is_used(vault: Path, tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault, state)
    with state._db:
        state._db.execute("DELETE FROM folders")
        state._db.execute("INSERT INTO notes VALUES ('Gone.md', 1, 1, '{}')")
    assert scan_vault(vault, state).read == 0
    assert "Gone.md" not in state.index_rows()
    assert scan_vault(vault, state).read == 0


def test_folder_names_with_glob_characters(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    write(root, "a[1]*?/N.md", "n")
    write(root, "a[1]*?/Sub/M.md", "m")
    age(root)
    state = State(tmp_path / "state.sqlite3")
    scan_vault(vault := root, state)
    assert set(state.index_rows("a[1]*?/")) == {"a[1]*?/N.md"}
    write(vault, "a[1]*?/N.md", "changed")
    age(vault / "a[1]*?/N.md", 30)
    assert scan_vault(vault, state).read == 1
