"""How notes show in Jupyter (pure)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._note import Note

__all__ = ["note_markdown"]


def note_markdown(note: Note) -> str:
    """Return Markdown showing ``note`` as Obsidian does: properties as a table, then the body."""
    from ._render import render_note

    text = render_note(note)
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    rows = [
        ("type", note.type),
        ("category", note.category),
        ("created", note.created),
        ("tags", ", ".join(f"#{tag}" for tag in note.tags)),
        ("status", note.status),
        ("url", note.url),
        ("original_file", note.original_file),
    ]
    table = "| property | value |\n| --- | --- |\n" + "".join(
        f"| {name} | {html.escape(str(value)).replace('|', '&#124;')} |\n"
        for name, value in rows
        if value
    )
    return table + "\n" + body.lstrip("\n")
