"""Alerts: stored with their observables, ATT&CK references, evidence and chained custody, and
queued for delivery to every enabled provider of the workspace in the same transaction."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.lifecycle.fingerprint import DEFAULT_RECIPE, FingerprintRecipe, fingerprint_of
from sentineliq.lifecycle.policy import LifecyclePolicy, policy_from_config
from sentineliq.outbox import DeliveryStatus
from sentineliq.storage.audit import add_audit
from sentineliq.storage.custody import ChainVerification, build_chain, genesis_hash
from sentineliq.storage.custody import verify_custody_chain as _verify
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import CREATE_ISSUE, TicketLinkRecord, link_record, new_delivery
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrences import (
    OccurrenceRecord,
    TicketContext,
    add_occurrence,
    is_resend,
    occurrences_between,
    report_occurrence,
    ticket_context,
)
from sentineliq.storage.tables import (
    AlertAttackRefRow,
    AlertObservableRow,
    AlertRow,
    CustodyEntryRow,
    DeliveryRow,
    EvidenceRow,
    TicketLinkRow,
    TicketProviderRow,
    WorkspaceRow,
    new_id,
)
from sentineliq.storage.types import utcnow
from sentineliq.storage.workspaces import stored_recipe

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back.
CONFLICT_STATES = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 4


def _conflict(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in CONFLICT_STATES


@dataclass(frozen=True)
class IngestOutcome:
    """`accepted`: a new alert; `occurrence`: a repeat of `alert_id`, recorded and reported to
    its tickets; `duplicate`: the same record sent again (same detection time and source id),
    nothing new to record."""

    alert_id: str
    status: Literal["accepted", "occurrence", "duplicate"]
    deliveries: int  # new tickets queued (0 for a repeat)
    fingerprint: str
    held: tuple[str, ...] = ()  # providers whose new ticket the storm guard held
    occurrence: int | None = None  # the repeat's number


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


def _existing_alert(session: Session, workspace_id: str, fingerprint: str) -> AlertRow | None:
    """The stored alert with this fingerprint, locked: repeats of one alert are numbered and
    counted one at a time. Looked up by id first: most alerts are new, and loading no entity is
    what keeps ingest of new alerts fast."""
    found = session.scalar(
        select(AlertRow.id).where(
            AlertRow.workspace_id == workspace_id, AlertRow.fingerprint == fingerprint
        )
    )
    if found is None:
        return None
    return session.scalar(select(AlertRow).where(AlertRow.id == found).with_for_update())


@dataclass
class _Provider:
    """An enabled provider during one ingest call, with its storm guard's count so far."""

    name: str
    policy: LifecyclePolicy
    recent_creates: int  # tickets queued (not held) within the storm window
    held_before: int  # tickets already held within the window (the guard is engaged)

    def holds_next(self) -> bool:
        return self.recent_creates >= self.policy.storm_threshold


def _enabled_providers(session: Session, workspace_id: str, now: datetime) -> list[_Provider]:
    rows = session.execute(
        select(TicketProviderRow.provider, TicketProviderRow.config)
        .where(
            TicketProviderRow.workspace_id == workspace_id,
            TicketProviderRow.is_enabled.is_(True),
        )
        .order_by(TicketProviderRow.provider)
    ).all()
    providers = []
    for name, config in rows:
        policy = policy_from_config(config)
        since = now - timedelta(seconds=policy.storm_window_s)
        counts = dict(
            session.execute(
                select(DeliveryRow.status, func.count())
                .where(
                    DeliveryRow.workspace_id == workspace_id,
                    DeliveryRow.provider == name,
                    DeliveryRow.operation == CREATE_ISSUE,
                    DeliveryRow.created_at >= since,
                )
                .group_by(DeliveryRow.status)
            ).all()
        )
        held = counts.pop(DeliveryStatus.HELD.value, 0)
        counts.pop(DeliveryStatus.DISCARDED.value, None)
        providers.append(_Provider(name, policy, sum(counts.values()), held))
    return providers


def _recipe(session: Session, workspace_id: str) -> FingerprintRecipe:
    raw = session.scalar(
        select(WorkspaceRow.fingerprint_recipe).where(WorkspaceRow.id == workspace_id)
    )
    # Validated when saved; one that no longer validates never stops ingest (the default).
    return stored_recipe(raw) or DEFAULT_RECIPE


def _repeat(
    session: Session,
    row: AlertRow,
    alert: Alert,
    providers: Sequence[_Provider],
    now: datetime,
) -> IngestOutcome:
    if is_resend(session, row, alert):
        return IngestOutcome(row.id, "duplicate", 0, row.fingerprint)
    seq = add_occurrence(session, row, alert, now)
    for provider in providers:
        report_occurrence(session, row, provider.name, seq, provider.policy, now)
    session.flush()
    return IngestOutcome(row.id, "occurrence", 0, row.fingerprint, occurrence=seq)


def _audit_storms(
    session: Session,
    workspace_id: str,
    providers: Sequence[_Provider],
    outcomes: Sequence[IngestOutcome],
    actor: str,
    now: datetime,
) -> None:
    """One audit entry when a provider's storm guard starts holding tickets in a window."""
    for provider in providers:
        held = sum(1 for o in outcomes if provider.name in o.held)
        if held and not provider.held_before:
            add_audit(
                session,
                "storm_guard.engaged",
                actor=actor,
                workspace_id=workspace_id,
                target=f"provider:{provider.name}",
                details={
                    "held": held,
                    "threshold": provider.policy.storm_threshold,
                    "window_s": provider.policy.storm_window_s,
                },
                at=now,
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
        An alert whose fingerprint the workspace already has is a repeat of it: an occurrence
        is recorded and reported to its tickets (or, the same record sent again, a duplicate:
        nothing is written), and its outcome names the existing alert. Concurrent ingests of
        the same new fingerprint are settled by the unique constraint; the loser records a
        repeat. A deadlock PostgreSQL breaks between concurrent batches is retried; any other
        failure rolls the whole call back.
        """
        if warnings is not None and len(warnings) != len(alerts):
            raise ValueError("one list of warnings per alert")
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._ingest_batch(workspace_id, alerts, actor, warnings)
            except DBAPIError as exc:
                # PostgreSQL broke a deadlock between concurrent batches (new alerts of one
                # problem inserted in different orders): the batch was rolled back whole, so
                # trying it again is safe.
                if not _conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    def _ingest_batch(
        self,
        workspace_id: str,
        alerts: Sequence[Alert],
        actor: str,
        warnings: Sequence[Sequence[IngestWarning]] | None,
    ) -> list[IngestOutcome]:
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
            now = utcnow()
            recipe = _recipe(session, workspace_id)
            providers = _enabled_providers(session, workspace_id, now)
            prints = [fingerprint_of(alert, recipe) for alert in alerts]
            # The alerts this batch repeats, locked up front in one order: two batches that
            # repeat the same alerts in different orders wait for each other, never deadlock.
            session.execute(
                select(AlertRow.id)
                .where(
                    AlertRow.workspace_id == workspace_id,
                    AlertRow.fingerprint.in_(sorted(set(prints))),
                )
                .order_by(AlertRow.fingerprint)
                .with_for_update()
            ).all()
            for index, alert in enumerate(alerts):
                repaired = warnings[index] if warnings is not None else ()
                outcomes.append(
                    self._ingest_one(
                        session,
                        workspace_id,
                        alert,
                        prints[index],
                        repaired,
                        providers,
                        actor,
                        now,
                    )
                )
            _audit_storms(session, workspace_id, providers, outcomes, actor, now)
        return outcomes

    def _ingest_one(
        self,
        session: Session,
        workspace_id: str,
        alert: Alert,
        fingerprint: str,
        warnings: Sequence[IngestWarning],
        providers: Sequence[_Provider],
        actor: str,
        now: datetime,
    ) -> IngestOutcome:
        existing = _existing_alert(session, workspace_id, fingerprint)
        if existing is not None:
            return _repeat(session, existing, alert, providers, now)
        alert_id = new_id()
        try:
            # Only the alert row can collide; the savepoint keeps the rest of the batch alive.
            with session.begin_nested():
                session.add(_alert_rows(alert_id, workspace_id, fingerprint, alert, now, warnings))
        except IntegrityError:
            # Another ingest stored this problem a moment ago: this alert is its repeat.
            existing = _existing_alert(session, workspace_id, fingerprint)
            if existing is None:
                raise
            return _repeat(session, existing, alert, providers, now)
        _add_children(session, alert_id, alert)
        held: list[str] = []
        for provider in providers:
            delivery = new_delivery(alert_id, workspace_id, provider.name, now)
            if provider.holds_next():
                delivery.status = DeliveryStatus.HELD.value
                held.append(provider.name)
            else:
                provider.recent_creates += 1
            session.add(delivery)
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
                "providers": [p.name for p in providers],
                "held": held,
                "warnings": len(warnings),
            },
            at=now,
        )
        session.flush()
        return IngestOutcome(alert_id, "accepted", len(providers), fingerprint, tuple(held))

    def get(self, alert_id: str) -> StoredAlert:
        """Raises NotFoundError if there is no such alert."""
        found = self.get_many([alert_id]).get(alert_id)
        if found is None:
            raise NotFoundError(f"alert {alert_id} not found")
        return found

    def get_many(self, alert_ids: Sequence[str]) -> dict[str, StoredAlert]:
        """The alerts among `alert_ids` that exist, by id: three statements however many."""
        if not alert_ids:
            return {}
        ids = sorted(set(alert_ids))
        with self._db.session() as session:
            found = session.execute(
                select(AlertRow, WorkspaceRow.name)
                .join(WorkspaceRow, WorkspaceRow.id == AlertRow.workspace_id)
                .where(AlertRow.id.in_(ids))
            ).all()
            evidence: dict[str, list[str]] = {}
            for alert_id, evidence_id in session.execute(
                select(EvidenceRow.alert_id, EvidenceRow.id)
                .where(EvidenceRow.alert_id.in_(ids))
                .order_by(EvidenceRow.alert_id, EvidenceRow.position)
            ):
                evidence.setdefault(alert_id, []).append(evidence_id)
            links: dict[str, list[TicketLinkRow]] = {}
            for link in session.scalars(
                select(TicketLinkRow)
                .where(TicketLinkRow.alert_id.in_(ids))
                .order_by(TicketLinkRow.alert_id, TicketLinkRow.provider)
            ):
                links.setdefault(link.alert_id, []).append(link)
            return {
                row.id: StoredAlert(
                    id=row.id,
                    workspace_id=row.workspace_id,
                    workspace_name=workspace_name,
                    fingerprint=row.fingerprint,
                    created_at=row.created_at,
                    # JSON mode: the strict model accepts ISO dates and enum values only from JSON.
                    alert=Alert.model_validate_json(json.dumps(row.payload)),
                    evidence_ids=tuple(evidence.get(row.id, ())),
                    tickets=tuple(link_record(link) for link in links.get(row.id, ())),
                    warnings=tuple(IngestWarning.from_json(w) for w in row.ingest_warnings or ()),
                )
                for row, workspace_name in found
            }

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

    def ticket_context(self, alert_id: str, provider: str) -> TicketContext:
        """The alert's ticket at `provider` and its repeat counters (NotFoundError if none)."""
        with self._db.session() as session:
            return ticket_context(session, alert_id, provider)

    def occurrences(self, alert_id: str, first: int, last: int) -> list[OccurrenceRecord]:
        """Repeats number `first` to `last` of the alert, in order."""
        with self._db.session() as session:
            return occurrences_between(session, alert_id, first, last)

    def verify_custody(self, evidence_id: str) -> ChainVerification:
        with self._db.session() as session:
            return _verify(session, evidence_id)
