"""Alerts: stored with their observables, ATT&CK references, evidence and chained custody, and
queued for delivery to every enabled provider of the workspace in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.storage.audit import add_audit
from sentineliq.storage.custody import ChainVerification, build_chain, genesis_hash
from sentineliq.storage.custody import verify_custody_chain as _verify
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import TicketLinkRecord, link_record, new_delivery
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import (
    AlertAttackRefRow,
    AlertObservableRow,
    AlertRow,
    CustodyEntryRow,
    EvidenceRow,
    TicketLinkRow,
    TicketProviderRow,
    WorkspaceRow,
    new_id,
)
from sentineliq.storage.types import utcnow


@dataclass(frozen=True)
class IngestOutcome:
    alert_id: str
    status: Literal["accepted", "duplicate"]
    deliveries: int  # outbox rows created (0 for a duplicate)
    fingerprint: str


@dataclass(frozen=True)
class StoredAlert:
    id: str
    workspace_id: str
    workspace_name: str
    fingerprint: str
    created_at: datetime
    alert: Alert  # rebuilt from the stored payload, equal to the one ingested
    evidence_ids: tuple[str, ...]  # in the alert's order; see verify_custody()
    tickets: tuple[TicketLinkRecord, ...]
    warnings: tuple[IngestWarning, ...] = ()  # what ingest repaired to accept it


@dataclass(frozen=True)
class AlertSummary:
    id: str
    workspace_id: str
    fingerprint: str
    title: str
    severity: str
    status: str
    detected_at: datetime
    created_at: datetime


def _alert_rows(
    alert_id: str,
    workspace_id: str,
    fingerprint: str,
    alert: Alert,
    now: datetime,
    warnings: Sequence[IngestWarning],
) -> AlertRow:
    return AlertRow(
        id=alert_id,
        workspace_id=workspace_id,
        fingerprint=fingerprint,
        module=alert.module.value,
        title=alert.title,
        severity=alert.severity.value,
        status=alert.status.value,
        source=alert.source,
        category=alert.category,
        detected_at=alert.detected_at,
        threat_score=alert.threat_score,
        external_id=alert.external_id,
        link=str(alert.link) if alert.link is not None else None,
        assignee_email=str(alert.assignee_email) if alert.assignee_email is not None else None,
        due_date=alert.due_date,
        description=alert.description,
        affected_assets=list(alert.affected_assets),
        tags=list(alert.tags),
        payload=alert.model_dump(mode="json"),
        created_at=now,
        ingest_warnings=[warning.to_json() for warning in warnings],
    )


def _add_children(session: Session, alert_id: str, alert: Alert) -> None:
    for position, observable in enumerate(alert.observables):
        session.add(
            AlertObservableRow(
                id=new_id(),
                alert_id=alert_id,
                position=position,
                type=observable.type.value,
                value=observable.value,
                tlp=observable.tlp.value,
            )
        )
    for position, attack_id in enumerate(alert.mitre):
        session.add(
            AlertAttackRefRow(
                id=new_id(), alert_id=alert_id, position=position, attack_id=attack_id
            )
        )
    custody: list[CustodyEntryRow] = []
    for position, evidence in enumerate(alert.evidence):
        evidence_id = new_id()
        hashes = evidence.hashes
        entries, head = build_chain(
            evidence_id,
            genesis_hash(evidence.name, hashes.md5, hashes.sha1, hashes.sha256),
            evidence.custody,
        )
        session.add(
            EvidenceRow(
                id=evidence_id,
                alert_id=alert_id,
                position=position,
                name=evidence.name,
                type=evidence.type.value,
                size_bytes=evidence.size_bytes,
                md5=hashes.md5,
                sha1=hashes.sha1,
                sha256=hashes.sha256,
                location=evidence.location,
                collected_at=evidence.collected_at,
                collected_by=evidence.collected_by,
                custody_length=len(entries),
                custody_head=head,
            )
        )
        custody.extend(entries)
    # The models declare no relationships (nothing may lazy-load), so the unit of work does not
    # know evidence must precede its custody entries: flush the parents first.
    session.flush()
    session.add_all(custody)


def _existing_alert_id(session: Session, workspace_id: str, fingerprint: str) -> str | None:
    return session.scalar(
        select(AlertRow.id).where(
            AlertRow.workspace_id == workspace_id, AlertRow.fingerprint == fingerprint
        )
    )


class AlertRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def ingest(
        self,
        workspace_id: str,
        alerts: Sequence[Alert],
        *,
        actor: str,
        warnings: Sequence[Sequence[IngestWarning]] | None = None,
    ) -> list[IngestOutcome]:
        """Store `alerts` and queue their deliveries, all in ONE transaction.

        `warnings`, if given, holds each alert's ingest warnings (same order), kept with it.
        An alert whose effective fingerprint the workspace already has is a duplicate: nothing
        is written for it and its outcome names the existing alert. Concurrent ingests of the
        same fingerprint are settled by the unique constraint; the loser reports a duplicate.
        Any other failure rolls the whole call back.
        """
        if warnings is not None and len(warnings) != len(alerts):
            raise ValueError("one list of warnings per alert")
        outcomes: list[IngestOutcome] = []
        with self._db.session() as session:
            # A share lock held to commit: a provider being enabled meanwhile (backfill takes
            # this row FOR UPDATE) either waits for these alerts or is seen by them.
            found = session.scalar(
                select(WorkspaceRow.id)
                .where(WorkspaceRow.id == workspace_id)
                .with_for_update(read=True)
            )
            if found is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            providers = session.scalars(
                select(TicketProviderRow.provider)
                .where(
                    TicketProviderRow.workspace_id == workspace_id,
                    TicketProviderRow.is_enabled.is_(True),
                )
                .order_by(TicketProviderRow.provider)
            ).all()
            for index, alert in enumerate(alerts):
                repaired = warnings[index] if warnings is not None else ()
                outcomes.append(
                    self._ingest_one(session, workspace_id, alert, repaired, providers, actor)
                )
        return outcomes

    def _ingest_one(
        self,
        session: Session,
        workspace_id: str,
        alert: Alert,
        warnings: Sequence[IngestWarning],
        providers: Sequence[str],
        actor: str,
    ) -> IngestOutcome:
        fingerprint = alert.effective_fingerprint
        existing = _existing_alert_id(session, workspace_id, fingerprint)
        if existing is not None:
            return IngestOutcome(existing, "duplicate", 0, fingerprint)
        alert_id = new_id()
        now = utcnow()
        try:
            # Only the alert row can collide; the savepoint keeps the rest of the batch alive.
            with session.begin_nested():
                session.add(_alert_rows(alert_id, workspace_id, fingerprint, alert, now, warnings))
        except IntegrityError:
            existing = _existing_alert_id(session, workspace_id, fingerprint)
            if existing is None:
                raise
            return IngestOutcome(existing, "duplicate", 0, fingerprint)
        _add_children(session, alert_id, alert)
        session.add_all(new_delivery(alert_id, workspace_id, name, now) for name in providers)
        add_audit(
            session,
            "alert.ingested",
            actor=actor,
            workspace_id=workspace_id,
            target=f"alert:{alert_id}",
            details={
                "fingerprint": fingerprint,
                "severity": alert.severity.value,
                "source": alert.source,
                "providers": list(providers),
                "warnings": len(warnings),
            },
            at=now,
        )
        session.flush()
        return IngestOutcome(alert_id, "accepted", len(providers), fingerprint)

    def get(self, alert_id: str) -> StoredAlert:
        """Raises NotFoundError if there is no such alert."""
        with self._db.session() as session:
            found = session.execute(
                select(AlertRow, WorkspaceRow.name)
                .join(WorkspaceRow, WorkspaceRow.id == AlertRow.workspace_id)
                .where(AlertRow.id == alert_id)
            ).one_or_none()
            if found is None:
                raise NotFoundError(f"alert {alert_id} not found")
            row, workspace_name = found
            evidence_ids = session.scalars(
                select(EvidenceRow.id)
                .where(EvidenceRow.alert_id == alert_id)
                .order_by(EvidenceRow.position)
            ).all()
            links = session.scalars(
                select(TicketLinkRow)
                .where(TicketLinkRow.alert_id == alert_id)
                .order_by(TicketLinkRow.provider)
            ).all()
            return StoredAlert(
                id=row.id,
                workspace_id=row.workspace_id,
                workspace_name=workspace_name,
                fingerprint=row.fingerprint,
                created_at=row.created_at,
                # JSON mode: the strict model accepts ISO dates and enum values only from JSON.
                alert=Alert.model_validate_json(json.dumps(row.payload)),
                evidence_ids=tuple(evidence_ids),
                tickets=tuple(link_record(link) for link in links),
                warnings=tuple(IngestWarning.from_json(w) for w in row.ingest_warnings or ()),
            )

    def list_for_workspace(self, workspace_id: str, *, limit: int = 100) -> list[AlertSummary]:
        """Newest first."""
        query = (
            select(AlertRow)
            .where(AlertRow.workspace_id == workspace_id)
            .order_by(AlertRow.created_at.desc(), AlertRow.id)
            .limit(limit)
        )
        with self._db.session() as session:
            return [
                AlertSummary(
                    id=row.id,
                    workspace_id=row.workspace_id,
                    fingerprint=row.fingerprint,
                    title=row.title,
                    severity=row.severity,
                    status=row.status,
                    detected_at=row.detected_at,
                    created_at=row.created_at,
                )
                for row in session.scalars(query)
            ]

    def verify_custody(self, evidence_id: str) -> ChainVerification:
        with self._db.session() as session:
            return _verify(session, evidence_id)
