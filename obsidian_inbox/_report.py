"""The report of a run: one outcome per capture (pure)."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import attrs

from ._errors import CapturesFailedError

__all__ = ["Outcome", "Report", "Status"]

#: What happened to a capture.
#:
#: - ``created``: a new note was written and the capture filed away;
#: - ``updated``: an existing note (ours, unedited) was improved;
#: - ``duplicate``: the vault already had a note for it; the capture was filed away;
#: - ``partial``: a note was written from what was available, marked ``status: partial``;
#: - ``deferred``: a transient network failure; the capture stays in the inbox for next time;
#: - ``skipped``: the capture was still being written; it stays in the inbox;
#: - ``failed``: the capture could not be read; it stays in the inbox.
Status = Literal["created", "updated", "duplicate", "partial", "deferred", "skipped", "failed"]
_ORDER: tuple[Status, ...] = (
    "created",
    "updated",
    "duplicate",
    "partial",
    "deferred",
    "skipped",
    "failed",
)
_WORDS = {
    "created": "new",
    "updated": "updated",
    "duplicate": "duplicate",
    "partial": "partial",
    "deferred": "deferred",
    "skipped": "skipped",
    "failed": "failed",
}
_ATTENTION = frozenset({"partial", "deferred", "failed", "skipped"})


@attrs.frozen(kw_only=True)
class Outcome:
    """What happened to one capture.

    Attributes:
        capture: The capture file (as given: usually relative to the vault).
        status: ``created``, ``updated``, ``duplicate``, ``partial``, ``deferred``,
            ``skipped`` or ``failed`` (see the module's documentation).
        note: The note written or found, relative to the vault.
        reason: Why, for anything but a plain success.
        error: The type of the error behind a failure.
        archived: Where the capture was filed, if it was.
        preview: In a dry run, the note that would be written.
        diff: In a dry run that would update a note, a unified diff against it.
    """

    capture: str
    status: Status
    note: str | None = None
    reason: str = ""
    error: str = ""
    archived: str | None = None
    preview: str | None = attrs.field(default=None, repr=False)
    diff: str | None = attrs.field(default=None, repr=False)

    @property
    def needs_attention(self) -> bool:
        """True when the user should look at this capture (partial, deferred, skipped, failed)."""
        return self.status in _ATTENTION

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-able data."""
        return {
            "capture": self.capture,
            "outcome": self.status,
            "note": self.note,
            "reason": self.reason or None,
            "error": self.error or None,
            "archived": self.archived,
            "preview": self.preview,
            "diff": self.diff,
        }


@attrs.frozen(kw_only=True)
class Report:
    """The outcome of :func:`~obsidian_inbox.process_inbox`, one entry per capture.

    Attributes:
        vault: The vault's folder.
        inbox: The inbox folder.
        outcomes: One per capture, in the order they were handled.
        dry_run: Nothing was written.
        interrupted: The run was stopped (e.g. by Ctrl-C or SIGTERM) before it handled
            every capture; the others are ``skipped`` and stay in the inbox.
        out_of_time: The run's time budget (``Settings.max_seconds``) ran out before it
            handled every capture; the others are ``skipped`` and stay in the inbox.
    """

    vault: Path
    inbox: Path
    outcomes: tuple[Outcome, ...] = ()
    dry_run: bool = False
    interrupted: bool = False
    out_of_time: bool = False

    def __len__(self) -> int:
        return len(self.outcomes)

    def counts(self) -> dict[Status, int]:
        """Return how many captures ended in each status (only the statuses that occurred)."""
        counter = Counter(outcome.status for outcome in self.outcomes)
        return {status: counter[status] for status in _ORDER if counter[status]}

    def with_status(self, *statuses: Status) -> list[Outcome]:
        """Return the outcomes with one of ``statuses``."""
        return [outcome for outcome in self.outcomes if outcome.status in statuses]

    @property
    def created(self) -> list[Outcome]:
        """The captures that made a new note."""
        return self.with_status("created")

    @property
    def failed(self) -> list[Outcome]:
        """The captures that need attention (failed, partial, deferred or skipped)."""
        return [outcome for outcome in self.outcomes if outcome.needs_attention]

    @property
    def ok(self) -> bool:
        """True when no capture needs attention and the run was not interrupted."""
        return not self.failed and not self.interrupted

    def summary(self) -> str:
        """Return the one-line summary, e.g. ``inbox: 5 new, 1 duplicate, 1 failed``."""
        counts = self.counts()
        text = (
            ", ".join(f"{count} {_WORDS[status]}" for status, count in counts.items())
            or "nothing to do"
        )
        if self.interrupted:
            text += ", interrupted"
        if self.out_of_time:
            text += ", out of time"
        if self.dry_run:
            text += " (dry run: nothing changed)"
        return f"inbox: {text}"

    def raise_for_failures(self) -> None:
        """Raise :class:`~obsidian_inbox.CapturesFailedError` if any capture needs attention."""
        if self.failed:
            raise CapturesFailedError(self.failed)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data with stable keys."""
        return {
            "vault": str(self.vault),
            "inbox": str(self.inbox),
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "out_of_time": self.out_of_time,
            "summary": self.summary(),
            "counts": dict(self.counts()),
            "captures": [outcome.to_dict() for outcome in self.outcomes],
        }

    def _repr_html_(self) -> str:
        """Show the report in Jupyter: the summary, then a table of outcomes.

        In a dry run, each note that would be written (or its diff) is folded under
        its row.
        """
        rows = []
        for o in self.outcomes:
            detail = o.diff or o.preview
            folded = (
                f"<details><summary>{'diff' if o.diff else 'note'}</summary>"
                f"<pre>{html.escape(detail)}</pre></details>"
                if detail
                else ""
            )
            rows.append(
                "<tr>"
                f"<td>{html.escape(o.capture)}</td><td>{html.escape(o.status)}</td>"
                f"<td>{html.escape(o.note or '')}</td>"
                f"<td>{html.escape(o.reason)}{folded}</td>"
                "</tr>"
            )
        return (
            f"<p><b>{html.escape(self.summary())}</b></p>"
            "<table><thead><tr><th>capture</th><th>outcome</th><th>note</th><th>reason</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
