"""Unlinked mentions across a whole vault, read-only (I/O).

The vault-wide version of Obsidian's "unlinked mentions" pane: every place a note's
title or alias appears in another note without a link, found by the rules of
:class:`~obsidian_inbox.VaultLinker`. No note is changed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from ._index import read_note_text
from ._links import LinkOptions, Mention, VaultLinker
from ._vault import Vault

__all__ = ["unlinked_mentions"]

logger = logging.getLogger(__name__)


def unlinked_mentions(
    vault: str | os.PathLike[str] | Vault, *, options: LinkOptions | None = None
) -> Iterator[tuple[str, Mention]]:
    """Yield ``(note path, mention)`` for each unlinked mention of a note in another note.

    Notes are visited in path order; every mention is reported, not only the first.
    A vault given as a path is opened read-only: nothing in it is written, not even
    obsidian-inbox's index cache.

    Args:
        vault: The vault's folder, or an open :class:`Vault`.
        options: The linking rules (default: :class:`LinkOptions`).

    Raises:
        VaultError: The vault folder does not exist.
    """
    opened = vault if isinstance(vault, Vault) else Vault(vault, read_only=True)
    try:
        linker = VaultLinker(opened.index, options=options)
        for info in opened.notes():
            try:
                text = read_note_text(opened.path, info.path)
            except OSError as exc:
                logger.warning("cannot read note %s: %s", info.path, exc.strerror or exc)
                continue
            for mention in linker.find_mentions(text, exclude=(info.path,)):
                yield info.path, mention
    finally:
        if not isinstance(vault, Vault):
            opened.close()
