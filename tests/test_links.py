"""Mention linking: every rule, connections, the pipeline's default linker, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from obsidian_inbox import (
    LinkOptions,
    Mention,
    Note,
    NoteInfo,
    Source,
    Vault,
    VaultIndex,
    VaultLinker,
    link_note,
    process_inbox,
    unlinked_mentions,
)
from obsidian_inbox._cli import cli
from obsidian_inbox._index import read_note_text
from obsidian_inbox._markdown import normalize_markdown

from .conftest import age, copy_vault

NOTES = [
    NoteInfo("Areas/Machine Learning.md", "Machine Learning"),
    NoteInfo("Areas/Machine Learning Engineer.md", "Machine Learning Engineer"),
    NoteInfo("Areas/Gradient Descent.md", "Gradient Descent", aliases=("GD",)),
    NoteInfo("Science/CRISPR.md", "CRISPR"),
    NoteInfo("People/A/Alan Turing.md", "Alan Turing", aliases=("Turing, Alan",)),
    NoteInfo("Books/Don't Make Me Think.md", "Don't Make Me Think"),
    NoteInfo("Index.md", "Index"),
    NoteInfo("Archive/2022/Index.md", "Index"),
    NoteInfo("Places/Zürich.md", "Zürich"),
    NoteInfo("Places/Straße.md", "Straße"),
    NoteInfo("Mercury (Planet).md", "Mercury (Planet)"),
    NoteInfo("C++ Templates.md", "C++ Templates"),
    NoteInfo("Stop/The.md", "The"),
    NoteInfo("Stop/R.md", "R"),
    NoteInfo("Journal/2024-03-05.md", "2024-03-05"),
    NoteInfo("Shared/One.md", "One Thing", aliases=("Same Alias",)),
    NoteInfo("Shared/Two.md", "Two Thing", aliases=("Same Alias",)),
    NoteInfo("Templates/Book Template.md", "Book Template"),
    NoteInfo("Sites/Towards Data Science.md", "Towards Data Science", aliases=("TDS",)),
    NoteInfo("Phone Shortcut.md", "Phone Shortcut"),
    NoteInfo("Odd/Bad#Name.md", "Bad#Name"),
]


@pytest.fixture(scope="module")
def index() -> VaultIndex:
    return VaultIndex(NOTES)


@pytest.fixture(scope="module")
def linker(index: VaultIndex) -> VaultLinker:
    return VaultLinker(index)


def linked(linker: VaultLinker, text: str, **kwargs: object) -> str:
    return linker.link_text(text, **kwargs)[0]  # type: ignore[arg-type]


# --- the rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case-insensitive; the text as written is shown when it differs from the title
        ("I like gradient descent.", "I like [[Gradient Descent|gradient descent]]."),
        ("I like Gradient Descent.", "I like [[Gradient Descent]]."),
        # longest match wins
        (
            "A Machine Learning Engineer, not machine learning.",
            "A [[Machine Learning Engineer]], not [[Machine Learning|machine learning]].",
        ),
        # whole words only, Unicode-aware
        ("Gradient Descents and Zürichsee and subgradient descent", None),
        ("In Zürich, naïvely.", "In [[Zürich]], naïvely."),
        ("ZÜRICH", "[[Zürich|ZÜRICH]]"),
        # case folding that changes length
        ("in der STRASSE", "in der [[Straße|STRASSE]]"),
        # acronyms match in capitals only
        ("crispr and Crispr but CRISPR", "crispr and Crispr but [[CRISPR]]"),
        ("gd is not GD", "gd is not [[Gradient Descent|GD]]"),
        # aliases
        ("Turing, Alan wrote it.", "[[Alan Turing|Turing, Alan]] wrote it."),
        # typographic apostrophes match straight ones
        ("Read Don’t Make Me Think!", "Read [[Don't Make Me Think|Don’t Make Me Think]]!"),
        # emphasis around a mention stays around the link
        ("a **Gradient Descent** b", "a **[[Gradient Descent]]** b"),
        # titles ending in punctuation
        ("Mercury (Planet) is hot", "[[Mercury (Planet)]] is hot"),
        ("C++ Templates are hard", "[[C++ Templates]] are hard"),
        # a shared name links by path, to the note nearest the root
        ("See the index.", "See the [[Index|index]]."),
        # an alias several notes share means nothing
        ("Same Alias here", None),
        # stop-words, one letter, numbers and dates are not linked
        ("The R language on 2024-03-05", None),
        # a title that cannot be a link target
        ("Bad#Name", None),
    ],
)
def test_rules(linker: VaultLinker, text: str, expected: str | None) -> None:
    assert linked(linker, text) == (text if expected is None else expected)


@pytest.mark.parametrize(
    "text",
    [
        "`gradient descent` in code",
        "``a `gradient descent` b``",
        "```\ngradient descent\n```",
        "~~~python\n# Gradient Descent\n~~~",
        "    indented code: gradient descent",
        "[gradient descent](https://example.com)",
        "![gradient descent](img.png)",
        "[[Gradient Descent]]",
        "[[Something|gradient descent]]",
        "![[Gradient Descent]]",
        "https://example.com/gradient-descent and https://x.org/Gradient Descent",
        "www.gradient.descent.org/Gradient and mail gradient.descent@example.org",
        "<https://example.com/gradient descent>",
        "# Gradient Descent",
        "## About gradient descent",
        "Gradient Descent\n================",
        "---\ntitle: Gradient Descent\n---\n",
        "| a | gradient descent |\n|---|---|\n| gradient descent | b |",
        "<div>\ngradient descent\n</div>",
        "a <span title='gradient descent'>x</span>",
        "#gradient-descent and #Gradient",
        "$gradient descent$ and $$\ngradient descent\n$$",
        "%% gradient descent %%",
        "%%\ngradient descent\n\nstill a comment\n%%",
        "Wow!Gradient Descent",
        "folder/Gradient Descent",
        "[Gradient Descent] is a bracket",
        "\\Gradient Descent",
        "a*Gradient Descent*b",
        "Gradient Descent(x) and Gradient Descent[y]",
        "x \\*\\*Gradient Descent\\*\\* y",
    ],
)
def test_never_inside_code_links_urls_headings_or_frontmatter(
    linker: VaultLinker, text: str
) -> None:
    assert linked(linker, text) == text


def test_prose_around_excluded_places_is_still_linked(linker: VaultLinker) -> None:
    text = "```\nGradient Descent\n```\n\nThen gradient descent.\n\n# Gradient Descent\n\nGD."
    assert linked(linker, text) == (
        "```\nGradient Descent\n```\n\nThen [[Gradient Descent|gradient descent]].\n\n"
        "# Gradient Descent\n\nGD."
    )


def test_first_mention_only_and_configurable(index: VaultIndex) -> None:
    text = "Gradient Descent, then GD, then gradient descent."
    assert (
        linked(VaultLinker(index), text) == "[[Gradient Descent]], then GD, then gradient descent."
    )
    every = VaultLinker(index, options=LinkOptions(first_only=False))
    assert linked(every, text) == (
        "[[Gradient Descent]], then [[Gradient Descent|GD]], then "
        "[[Gradient Descent|gradient descent]]."
    )


def test_an_existing_link_counts_as_the_first_mention(linker: VaultLinker) -> None:
    text = "Later gradient descent; see [[Gradient Descent#Intro|GD]]."
    assert linked(linker, text) == text


def test_the_first_mention_that_can_be_linked_is(linker: VaultLinker) -> None:
    text = "`gradient descent` first, then gradient descent."
    assert (
        linked(linker, text)
        == "`gradient descent` first, then [[Gradient Descent|gradient descent]]."
    )


def test_never_a_link_to_the_note_itself(linker: VaultLinker) -> None:
    text = "Gradient descent, machine learning."
    assert linked(linker, text, exclude=["Areas/Gradient Descent.md"]) == (
        "Gradient descent, [[Machine Learning|machine learning]]."
    )


def test_options(index: VaultIndex) -> None:
    text = "The R language, machine learning, gradient descent, GD, 2024-03-05."
    options = LinkOptions(
        stop_words=[],
        min_length=1,
        skip=["Machine learning"],
        aliases=False,
        numbers=True,
        first_only=False,
    )
    assert linked(VaultLinker(index, options=options), text) == (
        "[[The]] [[R]] language, machine learning, [[Gradient Descent|gradient descent]], GD, "
        "[[2024-03-05]]."
    )
    folders = VaultLinker(index, options=LinkOptions(skip_folders=["Areas/"]))
    assert linked(folders, "gradient descent") == "gradient descent"
    no_shared = VaultLinker(index, options=LinkOptions(ambiguous=False))
    assert linked(no_shared, "Index") == "Index"


def test_shared_name_links_by_path(index: VaultIndex) -> None:
    shared = VaultIndex([info for info in NOTES if info.path != "Index.md"])
    shared.add(NoteInfo("Projects/Atlas/Index.md", "Index"))
    assert linked(VaultLinker(shared), "index") == "[[Archive/2022/Index|index]]"


def test_mentions_report_positions(linker: VaultLinker) -> None:
    text = "First line\nthen **gradient descent** here"
    assert linker.find_mentions(text) == [
        Mention("gradient descent", "Gradient Descent", "Areas/Gradient Descent.md", 18, 34, 2, 8)
    ]
    assert linker.find_mentions(text)[0].wikilink() == "[[Gradient Descent|gradient descent]]"


def test_crlf_text(linker: VaultLinker) -> None:
    assert linked(linker, "a\r\ngradient descent") == "a\n[[Gradient Descent|gradient descent]]"


def test_links_in_lists_quotes_and_callouts(linker: VaultLinker) -> None:
    text = "- gradient descent\n\n> [!note] GD\n> Machine Learning\n\n1. CRISPR"
    assert linked(linker, text) == (
        "- [[Gradient Descent|gradient descent]]\n\n> [!note] GD\n> [[Machine Learning]]\n\n"
        "1. [[CRISPR]]"
    )


def test_needs_an_index() -> None:
    with pytest.raises(ValueError, match="no index"):
        VaultLinker().link_text("x")


# --- notes and connections -----------------------------------------------------------


def rss_note(**fields: Any) -> Note:
    base = Note(
        title="How to Become a Machine Learning Engineer",
        original_file="20250918_114949_rss_How_to_Become.txt",
        url="https://towardsdatascience.com/how",
        capture_id="c0ffee",
        summary="A guide to machine learning.",
        content="Gradient descent is the first thing.\n\nThen CRISPR, and gradient descent again.",
        sources=[
            Source(
                url="https://towardsdatascience.com/feed", kind="feed", site="Towards Data Science"
            ),
            Source(
                url="https://towardsdatascience.com/how",
                site="TDS",
                author="Alan Turing and Grace Hopper",
                text="Machine learning needs *gradient descent*. Machine learning is fun.",
            ),
        ],
        connections=["Towards Data Science"],
    )
    return attrs.evolve(base, **fields)


def test_link_note_links_every_generated_field(index: VaultIndex) -> None:
    note = link_note(rss_note(), index)
    assert note.summary == "A guide to [[Machine Learning|machine learning]]."
    assert note.content == (
        "[[Gradient Descent|Gradient descent]] is the first thing.\n\n"
        "Then [[CRISPR]], and gradient descent again."
    )
    # machine learning was linked in the summary already: first mention in the note only
    assert (
        note.sources[1].text
        == "Machine learning needs *gradient descent*. Machine learning is fun."
    )
    assert Note.from_markdown(note.to_markdown()) == note


def test_connections(index: VaultIndex) -> None:
    note = link_note(rss_note(), index)
    assert note.connections == (
        "Towards Data Science",  # the feed: the vault's note of that name
        "Alan Turing",  # the author the vault has a note for (not Grace Hopper)
        "Machine Learning",  # the notes mentioned most: 3 times, first
        "Gradient Descent",  # 3 times, later
        "CRISPR",
    )


def test_connections_to_notes_obsidian_creates_on_click() -> None:
    index = VaultIndex([NoteInfo("Machine Learning.md", "Machine Learning")])
    note = rss_note(
        connections=["Feed: With Odd Name?"],
        sources=[Source(url="https://x.example/a", site="Some Site", author="Nobody")],
    )
    assert link_note(note, index).connections == (
        "Feed - With Odd Name",
        "Some Site",
        "Machine Learning",
    )
    options = LinkOptions(unresolved_sources=False, connections_from_mentions=0)
    assert link_note(note, index, options=options).connections == ()


def test_origin_of_a_shortcut_capture(index: VaultIndex) -> None:
    note = Note(title="A thought", original_file="20250901_133431_note_A_thought.txt")
    assert link_note(note, index).connections == ("Phone Shortcut",)
    options = LinkOptions(origins={"note": "Nowhere"})
    assert link_note(note, index, options=options).connections == ()


def test_the_note_itself_is_never_a_target(index: VaultIndex) -> None:
    own = VaultIndex(
        [
            *NOTES,
            NoteInfo("Notes/Mine.md", "Gradient Stuff", capture_id="c0ffee", aliases=("gradient",)),
        ]
    )
    note = rss_note(content="gradient, gradient descent")
    assert link_note(note, own).content == "gradient, [[Gradient Descent|gradient descent]]"


def test_linking_a_note_twice_changes_nothing(index: VaultIndex) -> None:
    once = link_note(rss_note(), index)
    assert link_note(once, index) == once


def test_the_linker_follows_the_index(index: VaultIndex) -> None:
    live = VaultIndex(NOTES)
    linker = VaultLinker()
    note = Note(title="t", content="Quantum Mechanics and gradient descent")
    assert (
        linker(note, live).content == "Quantum Mechanics and [[Gradient Descent|gradient descent]]"
    )
    live.add(NoteInfo("New/Quantum Mechanics.md", "Quantum Mechanics"))
    live.remove("Areas/Gradient Descent.md")
    assert linker(note, live).content == "[[Quantum Mechanics]] and gradient descent"
    for number in range(300):  # many changes: the automaton is rebuilt
        live.add(NoteInfo(f"Many/Note {number}.md", f"Note {number}"))
    assert linker(Note(title="t", content="Note 299"), live).content == "[[Note 299]]"
    assert linker(note, VaultIndex()).content == note.content  # another index


def test_the_linker_follows_notes_added_one_at_a_time() -> None:
    """As a run does: each note written is linkable by the next, across every rebuild."""
    live = VaultIndex(NOTES)
    linker = VaultLinker()
    live.remove("Areas/Gradient Descent.md")
    for number in range(200):
        live.add(NoteInfo(f"Run/Topic {number}.md", f"Topic {number}"))
        text = f"Topic {number}, Topic {number // 2} and gradient descent"
        linked = linker(Note(title="t", content=text), live).content
        expected = f"[[Topic {number}]], [[Topic {number // 2}]] and gradient descent"
        assert linked == (expected if number else "[[Topic 0]], Topic 0 and gradient descent")


def test_the_linker_follows_notes_renamed_and_removed_after_they_were_added() -> None:
    live = VaultIndex(NOTES)
    linker = VaultLinker()
    linker(Note(title="t", content="x"), live)  # the base is built
    live.add(NoteInfo("Run/First.md", "Quantum Mechanics"))
    live.add(NoteInfo("Run/Second.md", "Topic Models"))
    note = Note(title="t", content="Quantum Mechanics, Topic Models and Field Theory")
    assert linker(note, live).content == "[[Quantum Mechanics]], [[Topic Models]] and Field Theory"
    live.add(NoteInfo("Run/First.md", "Field Theory"))  # renamed in place
    live.remove("Run/Second.md")
    assert linker(note, live).content == "Quantum Mechanics, Topic Models and [[Field Theory]]"


_NAMES = ["Topic", "Topic Models", "models", "GD", "Café", "café au lait", "Data", "data science"]
_change = st.tuples(
    st.sampled_from(["add", "add", "remove"]), st.integers(0, 40), st.sampled_from(_NAMES)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_change, max_size=120), st.lists(st.sampled_from([*_NAMES, "and", "x"]), max_size=12)
)
def test_a_linker_kept_up_to_date_links_like_a_new_one(
    changes: list[tuple[str, int, str]], words: list[str]
) -> None:
    """Whatever notes a run adds, renames and removes, its linker (overlay, rebuilds and
    all) links a text exactly as a linker built afresh from the same index."""
    live = VaultIndex(NOTES)
    kept_up = VaultLinker()
    note = Note(title="t", content=" ".join(words) or "x")
    for action, number, title in changes:
        if action == "add":
            live.add(NoteInfo(f"Run/{number}.md", title))
        else:
            live.remove(f"Run/{number}.md")
        kept_up(note, live)  # as a run links each note against the index so far
    fresh = VaultLinker(live)
    assert kept_up(note, live).content == fresh.link_note(note).content
    assert kept_up.find_mentions(note.content) == fresh.find_mentions(note.content)


_many_changes = st.lists(
    st.tuples(
        st.sampled_from(["add"] * 6 + ["remove"]),
        st.integers(0, 300),
        st.sampled_from(_NAMES) | st.integers(0, 50).map(lambda n: f"Topic {n}"),
    ),
    min_size=80,  # past the overlay's size: the base takes in the notes added
    max_size=400,
)


@settings(max_examples=25, deadline=None)
@given(_many_changes, st.lists(st.integers(0, 50), max_size=8))
def test_a_linker_kept_up_to_date_through_many_additions_links_like_a_new_one(
    changes: list[tuple[str, int, str]], topics: list[int]
) -> None:
    """Mostly additions, as in a run: the base absorbs them in place, rebuild after rebuild."""
    live = VaultIndex(NOTES)
    kept_up = VaultLinker()
    words = [*(f"Topic {n}" for n in topics), "Topic Models", "data science"]
    note = Note(title="t", content=", ".join(words))
    for action, number, title in changes:
        if action == "add":
            live.add(NoteInfo(f"Run/{number}.md", title))
        else:
            live.remove(f"Run/{number}.md")
        kept_up(note, live)
    fresh = VaultLinker(live)
    assert kept_up(note, live).content == fresh.link_note(note).content
    assert kept_up.find_mentions(note.content) == fresh.find_mentions(note.content)


# --- the pipeline ------------------------------------------------------------------------


def test_process_inbox_links_new_notes(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "Inbox").mkdir(parents=True)
    (vault / "Areas").mkdir()
    (vault / "Areas" / "Gradient Descent.md").write_text("---\naliases: [GD]\n---\nabout it\n")
    capture = vault / "Inbox" / "20250918_114949_note_Thinking.txt"
    capture.write_text("Thinking about GD and gradient descent today.\n")
    age(vault)
    before = (vault / "Areas" / "Gradient Descent.md").read_bytes()
    report = process_inbox(vault, offline=True)
    assert [o.status for o in report.outcomes] == ["created"]
    written = (vault / report.outcomes[0].note).read_text()  # type: ignore[operator]
    assert "Thinking about [[Gradient Descent|GD]] and gradient descent today." in written
    assert "## connections\n\n- [[Gradient Descent]]" in written
    assert (vault / "Areas" / "Gradient Descent.md").read_bytes() == before


# --- planted mentions in a generated vault: recall and precision --------------------------------


def _findable(planted: dict[str, object], notes: dict[str, dict[str, object]]) -> bool:
    """Whether a planted mention can be found at all by the documented rules."""
    target = notes[str(planted["target"])]
    title = str(target["title"])
    if planted["via"] == "alias" and target["frontmatter"] != "yaml":
        return False  # the alias is in the manifest only: the note has no frontmatter
    return not (title.isupper() and planted["text"] != title)  # an acronym, not in capitals


@pytest.mark.slow
def test_planted_mentions_are_found_and_decoys_are_not(make_vault) -> None:
    root = make_vault(1500, seed=3)
    manifest = json.loads((root / ".manifest.json").read_text(encoding="utf-8"))
    notes = {note["path"]: note for note in manifest["notes"]}
    planted = {
        (p["source"], p["line"], p["text"], p["target"])
        for p in manifest["planted_mentions"]
        if _findable(p, notes)
    }
    decoys = {(d["source"], d["line"], d["text"]) for d in manifest["decoy_mentions"]}
    assert len(planted) > 0.98 * len(manifest["planted_mentions"])
    with Vault(root, read_only=True) as vault:
        linker = VaultLinker(vault.index, options=LinkOptions(first_only=False))
        found = set()
        for info in vault.notes():
            text = read_note_text(root, info.path)
            linked_text, mentions = linker.link_text(text, exclude=[info.path])
            found |= {(info.path, m.line, m.text, m.path) for m in mentions}
            assert linker.link_text(linked_text, exclude=[info.path])[0] == linked_text
    assert planted - found == set(), "recall: planted mentions not found"
    assert found - planted == set(), "precision: links that are not planted mentions"
    assert not {(s, line, text) for s, line, text, _ in found} & decoys


# --- the mentions command ------------------------------------------------------------------


def test_unlinked_mentions_across_a_vault(make_vault, tmp_path: Path) -> None:
    root = copy_vault(make_vault(400), tmp_path / "vault")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    found = list(unlinked_mentions(root))
    assert found
    assert all(path != mention.path for path, mention in found)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before  # read-only: not even a state file


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_mentions_command(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Gradient Descent.md").write_text("the note\n")
    (vault / "Other.md").write_text("# Other\n\nUses gradient descent, and [[Gradient Descent]].\n")
    result = run_cli("mentions", vault)
    assert result.returncode == 0, result.stderr
    in_process = CliRunner().invoke(cli, ["mentions", str(vault)])
    assert in_process.exit_code == 0
    assert in_process.output == result.stdout
    assert result.stdout.splitlines() == [
        "Other.md:3:6: gradient descent -> [[Gradient Descent|gradient descent]]",
        "1 unlinked mentions in 1 notes",
    ]
    as_json = CliRunner().invoke(cli, ["mentions", "--json", str(vault)])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output) == {
        "mentions": [
            {
                "note": "Other.md",
                "line": 3,
                "column": 6,
                "text": "gradient descent",
                "target": "Gradient Descent",
                "target_path": "Gradient Descent.md",
                "link": "[[Gradient Descent|gradient descent]]",
            }
        ],
        "notes": 1,
    }
    assert not (vault / ".obsidian-inbox").exists()


def test_mentions_command_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli("mentions", tmp_path / "missing")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    runner = CliRunner()
    assert runner.invoke(cli, ["mentions", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(cli, ["mentions", "--bogus", str(tmp_path)]).exit_code == 2
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["mentions"]).exit_code == 2  # not inside a vault


def test_normalised_fields_stay_linked(index: VaultIndex) -> None:
    content = normalize_markdown("* item about gradient descent\n* and 1) more\n\nA  B")
    note = link_note(Note(title="t", content=content, created=dt.datetime(2025, 1, 1)), index)
    assert "[[Gradient Descent|gradient descent]]" in note.content
    assert normalize_markdown(note.content) == note.content
