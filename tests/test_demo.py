"""The bundled example: the README's first command, and the seed capture's note."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from obsidian_inbox import parse_note
from obsidian_inbox._demo import DEMO_MARKER, demo_data
from obsidian_inbox._tags import is_valid_tag

SEED = "How to Become a Machine Learning Engineer (Step-by-Step).md"


@pytest.fixture(scope="module")
def demo_vault(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    target = tmp_path_factory.mktemp("demo") / "vault"
    result = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", "demo", str(target)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    return target, result


def test_the_demo_processes_every_bundled_capture(
    demo_vault: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    target, result = demo_vault
    assert result.returncode == 0, result.stderr
    captures = sorted(p.name for p in (demo_data() / "inbox").glob("*.txt"))
    assert len(captures) >= 9
    assert sorted(p.name for p in (target / "Inbox" / "processed").iterdir()) == captures
    assert "inbox: 9 new, 2 partial" in result.stdout
    assert f"The example vault is {target}" in result.stdout
    # The two partial ones are there on purpose, and say why.
    assert (
        "404 Not Found for https://practicaldev.example/2025/08/the-story-we-took-down/"
        in result.stderr
    )
    assert 'the "Link:" line is empty' in result.stderr
    assert (target / DEMO_MARKER).exists()


def test_the_seed_capture_makes_the_note_the_old_process_should_have(
    demo_vault: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    target, _ = demo_vault
    text = (target / "Notes" / SEED).read_text(encoding="utf-8")
    note = parse_note(text)
    # The seed's keys and sections.
    for key in (
        "type",
        "category",
        "created",
        "modified",
        "tags",
        "status",
        "source",
        "original_file",
    ):
        assert f"\n{key}:" in text
    assert (
        note.original_file
        == "20250918_114949_rss_How_to_Become_a_Machine_Learning_Engineer__Step-by.txt"
    )
    assert [s.kind for s in note.sources] == ["feed", "article"]
    # Beating its flaws: the feed item's data, not its XML ...
    feed = note.sources[0]
    assert (feed.title, feed.author, feed.site) == (
        "How to Become a Machine Learning Engineer (Step-by-Step)",
        "Egor Howell",
        "Towards Data Science",
    )
    assert "<?xml" not in text
    assert "<rss" not in text
    assert "<item>" not in text
    # ... the article's main text without the site's chrome ...
    article = note.sources[1].text
    assert "You don’t need to be a maths genius." in article
    for chrome in (
        "Sign in",
        "Submit an Article",
        "We use cookies",
        "Related reading",
        "All rights reserved",
        "Get the newsletter",
        "Bookmarked!",
    ):
        assert chrome not in text
    # ... no entities, no script, valid tags, a category, a summary, wikilink connections.
    assert "&#" not in text
    assert "&amp;" not in text
    assert "<script" not in text
    assert "javascript:" not in text
    assert note.tags
    assert all(is_valid_tag(tag) for tag in note.tags)
    assert " " not in "".join(note.tags)
    assert note.category == "development"
    assert note.summary
    assert "- [[Towards Data Science]]" in text
    assert note.status == "draft"


def test_the_demo_replaces_its_own_vault_but_nothing_else(tmp_path: Path) -> None:
    stranger = tmp_path / "not-a-demo"
    stranger.mkdir()
    (stranger / "mine.md").write_text("# Mine\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "obsidian_inbox", "demo", str(stranger)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "exists and is not an obsidian-inbox demo" in result.stderr
    assert (stranger / "mine.md").read_text(encoding="utf-8") == "# Mine\n"
