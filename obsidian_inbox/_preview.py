"""What a dry run shows: the note that would be written, or a diff against the current one (pure)."""

from __future__ import annotations

import difflib

__all__ = ["note_diff"]


def note_diff(before: str, after: str, path: str) -> str:
    """Return a unified diff turning ``before`` into ``after`` (empty when they are equal).

    >>> print(note_diff("a\\nb\\n", "a\\nc\\n", "Notes/x.md"), end="")
    --- a/Notes/x.md
    +++ b/Notes/x.md
    @@ -1,2 +1,2 @@
     a
    -b
    +c
    """
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
