"""Reading, verifying and extending evidence custody chains of a workspace.

Appends (a deletion included: it is an entry too, the evidence's tombstone) chain after the head
recorded with the evidence, in one transaction with their audit entry. Nothing here removes a
row: verifying a workspace without naming an alert still sees deleted evidence and its chain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.orm import Session

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.model import CustodyAction, CustodyEntry
from sentineliq.storage.audit import add_audit
from sentineliq.storage.custody import append_entry, custody_check
from sentineliq.storage.db import Database
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.tables import AlertRow, CustodyEntryRow, EvidenceFileRow, EvidenceRow
from sentineliq.storage.types import utcnow

CHUNK = 500  # evidence rows verified per round trip for their entries


class CustodyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def checks(self, workspace_id: str, *, alert_id: str | None = None) -> list[CustodyCheck]:
        """Every evidence chain of the workspace (or of one of its alerts), recomputed now,
        oldest alert first. NotFoundError for an alert that is not the workspace's."""
        query = (
            select(EvidenceRow)
            .join(AlertRow, AlertRow.id == EvidenceRow.alert_id)
            .where(AlertRow.workspace_id == workspace_id)
            .order_by(AlertRow.created_at, AlertRow.id, EvidenceRow.position)
        )
        alerts = (
            select(AlertRow.id, AlertRow.payload)
            .where(AlertRow.workspace_id == workspace_id)
            .order_by(AlertRow.created_at, AlertRow.id)
        )
        with self._db.read() as session:
            if alert_id is not None:
                _alert_of(session, workspace_id, alert_id)
                query = query.where(EvidenceRow.alert_id == alert_id)
                alerts = alerts.where(AlertRow.id == alert_id)
            now = utcnow()
            checks: list[CustodyCheck] = []
            for chunk in session.scalars(query.execution_options(yield_per=CHUNK)).partitions():
                checks += _checked(session, chunk, now)
            listed = {(c.alert_id, c.evidence_index) for c in checks}
            short = _evidence_listed(self._db) > _evidence_rows()
            for found_id, payload in session.execute(alerts.where(short)):
                checks += _missing(found_id, payload, listed, now)
            return checks

    def checks_for_alert(self, alert_id: str) -> list[CustodyCheck]:
        """The alert's evidence chains in the alert's order, recomputed now (for its ticket)."""
        with self._db.read() as session:
            rows = session.scalars(
                select(EvidenceRow)
                .where(EvidenceRow.alert_id == alert_id)
                .order_by(EvidenceRow.position)
            )
            now = utcnow()
            checks = _checked(session, list(rows), now)
            payload = session.scalar(select(AlertRow.payload).where(AlertRow.id == alert_id))
            listed = {(c.alert_id, c.evidence_index) for c in checks}
            return checks + _missing(alert_id, payload or {}, listed, now)

    def append(
        self, workspace_id: str, evidence_id: str, entry: CustodyEntry, *, actor: str
    ) -> CustodyCheck:
        """Chain `entry` to the evidence, audited as `actor`; the chain afterwards.

        NotFoundError for evidence that is not the workspace's; InvalidStateError once the
        evidence is deleted (its tombstone is the last entry a chain gets).
        """
        with self._db.session() as session:
            evidence = session.scalars(
                select(EvidenceRow)
                .join(AlertRow, AlertRow.id == EvidenceRow.alert_id)
                .where(EvidenceRow.id == evidence_id, AlertRow.workspace_id == workspace_id)
                .with_for_update(of=EvidenceRow)
            ).one_or_none()
            if evidence is None:
                raise NotFoundError(f"no evidence {evidence_id} in this workspace")
            before = custody_check(session, evidence, utcnow())
            if before.deleted is not None:
                raise InvalidStateError(
                    f"evidence {evidence.name!r} was deleted at "
                    f"{before.deleted.at.isoformat()}: its chain takes no further entries"
                )
            number = append_entry(session, evidence, entry)
            if entry.action == CustodyAction.DELETED:
                # An uploaded file's evidence: the file is deleted with it (never attached now).
                for file in session.scalars(
                    select(EvidenceFileRow).where(
                        EvidenceFileRow.evidence_id == evidence.id,
                        EvidenceFileRow.deleted_at.is_(None),
                    )
                ):
                    file.deleted_at, file.deleted_by = entry.at, entry.actor
            add_audit(
                session,
                "evidence.deleted" if entry.action == CustodyAction.DELETED else "custody.appended",
                actor=actor,
                workspace_id=workspace_id,
                target=evidence.id,
                details={"alert_id": evidence.alert_id, "entry": number, "action": entry.action},
            )
            session.flush()
            return custody_check(session, evidence, utcnow())


def _checked(
    session: Session, evidence: Sequence[EvidenceRow], now: datetime
) -> list[CustodyCheck]:
    """The chains of `evidence`, their entries read in one query."""
    entries: dict[str, list[CustodyEntryRow]] = defaultdict(list)
    if evidence:
        for row in session.scalars(
            select(CustodyEntryRow)
            .where(CustodyEntryRow.evidence_id.in_([e.id for e in evidence]))
            .order_by(CustodyEntryRow.evidence_id, CustodyEntryRow.position)
        ):
            entries[row.evidence_id].append(row)
    return [custody_check(session, e, now, entries.get(e.id, [])) for e in evidence]


def _evidence_listed(db: Database) -> ColumnElement[int]:
    """How many evidence items the alert was stored with, read from its payload by the
    database, so only alerts that lost an evidence row are loaded."""
    if db.is_sqlite:
        return func.coalesce(func.json_array_length(AlertRow.payload, "$.evidence"), 0)
    return func.coalesce(func.jsonb_array_length(AlertRow.payload["evidence"]), 0)


def _evidence_rows() -> ScalarSelect[int]:
    # Uploaded evidence files have evidence rows of their own, beyond the alert's list.
    uploaded = select(EvidenceFileRow.id).where(EvidenceFileRow.evidence_id == EvidenceRow.id)
    return (
        select(func.count(EvidenceRow.id))
        .where(EvidenceRow.alert_id == AlertRow.id, ~uploaded.exists())
        .correlate(AlertRow)
        .scalar_subquery()
    )


def _missing(
    alert_id: str, payload: dict[str, Any], listed: set[tuple[str, int]], now: datetime
) -> list[CustodyCheck]:
    """Evidence the alert was stored with whose row is gone (removed outside SentinelIQ, which
    never removes one): reported broken, since its chain went with it."""
    evidence = payload.get("evidence") or []
    return [
        CustodyCheck(
            evidence_id="",
            alert_id=alert_id,
            evidence_index=index,
            name=str(item.get("name", "")),
            lines=(),
            ok=False,
            broken_entry=None,
            problem=f"evidence #{index + 1} of the alert and its custody chain were removed",
            checked_at=now,
        )
        for index, item in enumerate(evidence)
        if (alert_id, index) not in listed and isinstance(item, dict)
    ]


def _alert_of(session: Session, workspace_id: str, alert_id: str) -> None:
    found = session.scalar(
        select(AlertRow.id).where(AlertRow.id == alert_id, AlertRow.workspace_id == workspace_id)
    )
    if found is None:
        raise NotFoundError(f"no alert {alert_id} in this workspace")
