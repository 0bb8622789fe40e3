"""Hash-chained chain of custody: any edit, insertion, reordering or deletion of entries is found.

Each entry's hash covers its own fields and the previous entry's hash; the first entry links to a
hash of the evidence's identity (name and digests), and the evidence row records the chain's
length and head so trailing entries cannot be dropped unnoticed. This detects tampering with
stored rows; it cannot stop someone who rewrites a whole chain consistently, which needs the head
hash anchored elsewhere too (e.g. in the ticket).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentineliq.alerts.custody import CustodyCheck, CustodyLine
from sentineliq.alerts.model import CustodyEntry
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import CustodyEntryRow, EvidenceRow, new_id

_SCHEME = 1  # bump if the hashed document ever changes, and keep verifying the old scheme


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    broken_at: int | None  # position of the first entry that fails (0 = the evidence identity)
    reason: str
    length: int = 0
    entry: int | None = None  # the failing entry's number (#1 is the first; 0: the identity)


# json.dumps with these options builds a new encoder per call, which cost more than the hash.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(document: dict[str, Any]) -> str:
    canonical = _CANONICAL.encode(document)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def genesis_hash(name: str, md5: str | None, sha1: str | None, sha256: str | None) -> str:
    """The chain's anchor: the identity of the evidence the entries are about."""
    return _digest({"v": _SCHEME, "name": name, "md5": md5, "sha1": sha1, "sha256": sha256})


def entry_hash(
    *,
    evidence_id: str,
    position: int,
    action: str,
    actor: str,
    at: datetime,
    location: str | None,
    notes: str | None,
    prev_hash: str,
) -> str:
    return _digest(
        {
            "v": _SCHEME,
            "evidence_id": evidence_id,
            "position": position,
            "action": action,
            "actor": actor,
            "at": at.astimezone(UTC).isoformat(),
            "location": location,
            "notes": notes,
            "prev_hash": prev_hash,
        }
    )


def chain_values(
    evidence_id: str, genesis: str, entries: Sequence[CustodyEntry]
) -> tuple[list[dict[str, Any]], str]:
    """Column values for `entries` in order, linked from `genesis`; and the head hash."""
    return chain_values_from(evidence_id, genesis, entries, start=0)


def chain_values_from(
    evidence_id: str, prev: str, entries: Sequence[CustodyEntry], *, start: int
) -> tuple[list[dict[str, Any]], str]:
    """Column values for `entries` at positions `start`..., linked from `prev`; the new head."""
    rows: list[dict[str, Any]] = []
    for position, entry in enumerate(entries, start=start):
        at = entry.at.astimezone(UTC)
        current = entry_hash(
            evidence_id=evidence_id,
            position=position,
            action=entry.action.value,
            actor=entry.actor,
            at=at,
            location=entry.location,
            notes=entry.notes,
            prev_hash=prev,
        )
        rows.append(
            {
                "id": new_id(),
                "evidence_id": evidence_id,
                "position": position,
                "action": entry.action.value,
                "actor": entry.actor,
                "at": at,
                "location": entry.location,
                "notes": entry.notes,
                "prev_hash": prev,
                "entry_hash": current,
            }
        )
        prev = current
    return rows, prev


def build_chain(
    evidence_id: str, genesis: str, entries: Sequence[CustodyEntry]
) -> tuple[list[CustodyEntryRow], str]:
    """Rows for `entries` in order, linked from `genesis`; returns the rows and the head hash."""
    values, head = chain_values(evidence_id, genesis, entries)
    return [CustodyEntryRow(**row) for row in values], head


def verify_custody_chain(session: Session, evidence_id: str) -> ChainVerification:
    """Recompute the chain from the stored rows and report the first place it breaks."""
    evidence = session.get(EvidenceRow, evidence_id)
    if evidence is None:
        raise NotFoundError(f"evidence {evidence_id} not found")
    return _verify_rows(evidence, _entry_rows(session, evidence_id))


def _entry_rows(session: Session, evidence_id: str) -> Sequence[CustodyEntryRow]:
    return session.scalars(
        select(CustodyEntryRow)
        .where(CustodyEntryRow.evidence_id == evidence_id)
        .order_by(CustodyEntryRow.position)
    ).all()


def _broken(index: int, reason: str, length: int, *, entry: int | None = None) -> ChainVerification:
    return ChainVerification(False, index, reason, length, index + 1 if entry is None else entry)


def _verify_rows(evidence: EvidenceRow, entries: Sequence[CustodyEntryRow]) -> ChainVerification:
    # Entries are named by number (#1 is the first), as the ticket's custody table shows them.
    prev = genesis_hash(evidence.name, evidence.md5, evidence.sha1, evidence.sha256)
    for index, row in enumerate(entries):
        if row.position != index:
            return _broken(
                index, f"custody entry #{index + 1} is missing or out of order", len(entries)
            )
        if row.prev_hash != prev:
            if index == 0:
                return _broken(
                    0,
                    "the evidence's name or hashes no longer match the start of its custody chain",
                    len(entries),
                    entry=0,
                )
            reason = f"custody entry #{index + 1} does not link to entry #{index}"
            return _broken(index, reason, len(entries))
        recomputed = entry_hash(
            evidence_id=evidence.id,
            position=row.position,
            action=row.action,
            actor=row.actor,
            at=row.at,
            location=row.location,
            notes=row.notes,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.entry_hash:
            reason = (
                f"custody entry #{index + 1} ({row.action} by {row.actor}) was altered "
                "after it was recorded"
            )
            return _broken(index, reason, len(entries))
        prev = row.entry_hash
    if len(entries) != evidence.custody_length:
        first_gone = min(len(entries), evidence.custody_length)
        return _broken(
            first_gone,
            f"the chain has {len(entries)} entries but {evidence.custody_length} were recorded: "
            f"entry #{first_gone + 1} onwards is missing"
            if len(entries) < evidence.custody_length
            else f"the chain has {len(entries)} entries but {evidence.custody_length} were "
            f"recorded: entry #{first_gone + 1} was added outside SentinelIQ",
            len(entries),
        )
    if prev != evidence.custody_head:
        if not entries:
            reason = "the evidence's name or hashes changed after they were recorded"
            return _broken(0, reason, 0, entry=0)
        reason = (
            f"the chain's head (entry #{len(entries)}) does not match the head recorded with "
            "the evidence"
        )
        return _broken(len(entries) - 1, reason, len(entries))
    return ChainVerification(True, None, "intact", len(entries))


def custody_check(
    session: Session,
    evidence: EvidenceRow,
    now: datetime,
    rows: Sequence[CustodyEntryRow] | None = None,
) -> CustodyCheck:
    """The evidence's stored chain with the result of recomputing it at `now`; `rows`: its
    entries in position order when the caller read them already."""
    rows = _entry_rows(session, evidence.id) if rows is None else rows
    result = _verify_rows(evidence, rows)
    lines = tuple(
        CustodyLine(
            number=index + 1,
            action=row.action,
            actor=row.actor,
            at=row.at,
            location=row.location,
            notes=row.notes,
        )
        for index, row in enumerate(rows)
    )
    return CustodyCheck(
        evidence_id=evidence.id,
        alert_id=evidence.alert_id,
        evidence_index=evidence.position,
        name=evidence.name,
        lines=lines,
        ok=result.ok,
        broken_entry=result.entry,
        problem=result.reason,
        checked_at=now,
    )


def append_entry(session: Session, evidence: EvidenceRow, entry: CustodyEntry) -> int:
    """Chain `entry` after the head recorded with the evidence (not after whatever rows are
    there: a removed or altered entry stays detectable) and move the head; its number.

    The caller holds the evidence row locked, so two appends cannot take the same position.
    """
    values, head = chain_values_from(
        evidence.id, evidence.custody_head, [entry], start=evidence.custody_length
    )
    session.add(CustodyEntryRow(**values[0]))
    evidence.custody_length += 1
    evidence.custody_head = head
    return evidence.custody_length
