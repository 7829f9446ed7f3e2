"""Real vaults (../shared/corpus/vaults): index them, link a new note into them.

Each vault is copied to a temporary folder first; the corpus stays untouched. Skipped,
with the reason, when the corpus is absent (``OBSIDIAN_INBOX_CORPUS`` points elsewhere).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from obsidian_inbox import Vault, VaultLinker, process_inbox, unlinked_mentions
from obsidian_inbox._links import DEFAULT_STOP_WORDS
from obsidian_inbox._markdown import parser

from .conftest import copy_vault

pytestmark = pytest.mark.corpus

VAULTS = ["kepano-obsidian", "obsidian-tasks-docs"]


@pytest.fixture(params=VAULTS)
def vault(request: pytest.FixtureRequest, corpus: Path, tmp_path: Path) -> Path:
    source = corpus / "vaults" / request.param
    if not source.is_dir():
        pytest.skip(f"corpus tier: no vault {source}")
    return copy_vault(source, tmp_path / request.param)


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and ".obsidian-inbox" not in path.parts
    }


def wikilinks(markdown: str) -> list[str]:
    targets = []
    for token in parser().parse(markdown):
        for child in token.children or ():
            if child.type == "wikilink":
                targets.append(child.content[2:-2].split("|", 1)[0])
    return targets


def test_every_note_is_indexed(vault: Path) -> None:
    notes = sorted(
        path.relative_to(vault).as_posix()
        for path in vault.rglob("*.md")
        if not any(part.startswith(".") for part in path.relative_to(vault).parts)
    )
    with Vault(vault) as opened:
        index = opened.index
        assert sorted(info.path for info in index) == notes
        with_aliases = [info for info in index if info.aliases]
        assert with_aliases, "the corpus vaults have notes with aliases"
        for info in with_aliases:
            assert index.resolve(info.title) is not None
        broken = [info.path for info in index if info.error]
        # kepano's templates hold {{date}} placeholders: tolerated, reported per note
        assert all(path.startswith("Templates/") for path in broken), broken
    with Vault(vault) as again:
        again.scan()
        assert again.last_scan_reads <= len(notes)  # notes changed in the last 2 s are re-read


def test_a_new_note_is_linked_into_the_vault(vault: Path) -> None:
    with Vault(vault) as opened:
        titles = sorted(
            {
                info.title
                for info in opened.index
                if len(info.title) >= 4
                and info.title.casefold() not in DEFAULT_STOP_WORDS
                and re.fullmatch(r"[\w' .,()-]+", info.title)
                and not info.path.startswith("Templates/")
            }
        )[:25]
    assert len(titles) >= 10
    (vault / "Inbox").mkdir(exist_ok=True)
    capture = vault / "Inbox" / "20250918_114949_note_Reading_notes.txt"
    sentences = [f"Reading about {title} today." for title in titles]
    capture.write_text(
        "\n\n".join([*sentences, "`Code mentions " + titles[0] + " stay as they are.`"]),
        encoding="utf-8",
    )
    before = digests(vault)
    report = process_inbox(vault, offline=True)
    assert [outcome.status for outcome in report.outcomes] == ["created"], report.outcomes
    written = report.outcomes[0].note
    assert written is not None
    after = digests(vault)
    # every file that was there is byte-for-byte the same; one note was added
    del before["Inbox/" + capture.name]
    assert {path: after[path] for path in before} == before
    assert set(after) - set(before) == {written, f"Inbox/processed/{capture.name}"}
    text = (vault / written).read_text(encoding="utf-8")
    targets = wikilinks(text)
    assert len(targets) >= len(titles) // 2, text
    with Vault(vault) as opened:
        for target in targets:
            found = opened.index.resolve(target)
            assert found is not None, target
            assert (vault / found.path).is_file()
            assert found.path != written
    assert "`Code mentions " + titles[0] in text


def test_unlinked_mentions_in_a_real_vault(vault: Path) -> None:
    before = digests(vault)
    with Vault(vault, read_only=True) as opened:
        linker = VaultLinker(opened.index)
        found = list(unlinked_mentions(opened))
        for path, mention in found:
            assert mention.path != path
            assert linker.index.resolve(mention.target) is not None
    assert digests(vault) == before
