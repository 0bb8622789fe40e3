"""A piece of evidence's chain of custody as stored, with the result of recomputing it.

Storage verifies the hash chain (storage.custody) and hands these to the faces and to the
ticket layout, which shows the status and the time it was checked. Entry fields are plain
strings: a tampered row may hold anything, and it must still be shown to be named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DELETED = "deleted"  # the custody action of a deletion: its tombstone, chained like any entry


@dataclass(frozen=True)
class CustodyLine:
    number: int  # 1-based, in chain order: how reports and tickets name an entry
    action: str
    actor: str
    at: datetime
    location: str | None
    notes: str | None


@dataclass(frozen=True)
class CustodyCheck:
    """One evidence's chain, recomputed at `checked_at`. `broken_entry`: the number of the
    first entry that fails (0: the evidence's own name and hashes); None when intact, or when
    the evidence's record itself is gone (`evidence_id` empty)."""

    evidence_id: str
    alert_id: str
    evidence_index: int  # 0-based position of the evidence in its alert
    name: str
    lines: tuple[CustodyLine, ...]
    ok: bool
    broken_entry: int | None
    problem: str  # "intact", or what is wrong, naming the entry
    checked_at: datetime

    @property
    def deleted(self) -> CustodyLine | None:
        """The tombstone, when the evidence's last entry records its deletion."""
        return self.lines[-1] if self.lines and self.lines[-1].action == DELETED else None

    @property
    def headline(self) -> str:
        """The status in a few words, naming the broken entry (tickets and the panel)."""
        if self.ok:
            return "Chain of custody intact"
        if self.broken_entry is None:
            return "Evidence record and chain of custody missing"
        if self.broken_entry == 0:
            return "Chain of custody broken: the evidence's name or hashes"
        return f"Chain of custody broken at entry #{self.broken_entry}"
