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
    rows: list[dict[str, Any]] = []
    prev = genesis
    for position, entry in enumerate(entries):
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
    entries = session.scalars(
        select(CustodyEntryRow)
        .where(CustodyEntryRow.evidence_id == evidence_id)
        .order_by(CustodyEntryRow.position)
    ).all()
    prev = genesis_hash(evidence.name, evidence.md5, evidence.sha1, evidence.sha256)
    for index, row in enumerate(entries):
        if row.position != index:
            return ChainVerification(
                False, index, f"custody entry {index} is missing or out of order", len(entries)
            )
        if row.prev_hash != prev:
            reason = (
                "the evidence's name or hashes no longer match the start of its custody chain"
                if index == 0
                else f"custody entry {index} does not link to entry {index - 1}"
            )
            return ChainVerification(False, index, reason, len(entries))
        recomputed = entry_hash(
            evidence_id=evidence_id,
            position=row.position,
            action=row.action,
            actor=row.actor,
            at=row.at,
            location=row.location,
            notes=row.notes,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.entry_hash:
            return ChainVerification(
                False,
                index,
                f"custody entry {index} was altered after it was recorded",
                len(entries),
            )
        prev = row.entry_hash
    if len(entries) != evidence.custody_length:
        return ChainVerification(
            False,
            min(len(entries), evidence.custody_length),
            f"the chain has {len(entries)} entries but {evidence.custody_length} were recorded",
            len(entries),
        )
    if prev != evidence.custody_head:
        reason = (
            "the evidence's name or hashes changed after they were recorded"
            if not entries
            else "the chain's head does not match the head recorded with the evidence"
        )
        return ChainVerification(False, max(len(entries) - 1, 0), reason, len(entries))
    return ChainVerification(True, None, "intact", len(entries))
