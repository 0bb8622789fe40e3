"""Alerts: stored with their observables, ATT&CK references, evidence and chained custody, and
queued for delivery to every enabled provider of the workspace in the same transaction."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.files import EvidenceFile
from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.lifecycle.fingerprint import DEFAULT_RECIPE, fingerprint_of
from sentineliq.lifecycle.policy import LifecyclePolicy, policy_from_config
from sentineliq.outbox import DeliveryStatus
from sentineliq.storage.alertrows import NewRows, alert_values
from sentineliq.storage.audit import AuditEntry, audit_values
from sentineliq.storage.custody import ChainVerification
from sentineliq.storage.custody import verify_custody_chain as _verify
from sentineliq.storage.custodylog import CustodyRepository
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import CREATE_ISSUE, TicketLinkRecord, link_record
from sentineliq.storage.deliveries.enqueue import enqueue
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
    DELIVERY_STATUSES,
    AlertRow,
    AuditRow,
    DeliveryRow,
    EvidenceRow,
    TicketLinkRow,
    TicketProviderRow,
    WorkspaceRow,
    new_id,
)
from sentineliq.storage.types import utcnow
from sentineliq.storage.workspaces import stored_recipe
from sentineliq.tickets.content import BrandGate, content_from_config

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back.
CONFLICT_STATES = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 4
# What counts as a ticket queued within the storm window: every status but held and discarded.
QUEUED_STATUSES = tuple(
    s
    for s in DELIVERY_STATUSES
    if s not in (DeliveryStatus.HELD.value, DeliveryStatus.DISCARDED.value)
)


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
    # Providers not asked to file its ticket, with why (a detection below the brand gate).
    not_ticketed: tuple[tuple[str, str], ...] = ()


# The caller's audit entry for a whole ingest call, made from its outcomes (None: no entry).
AuditOf = Callable[[Sequence[IngestOutcome]], AuditEntry | None]


@dataclass(frozen=True)
class IngestPart:
    """One caller's alerts in an ingest transaction that several callers may share (see
    storage.ingestgroup): its actor, its alerts' warnings, its own audit entry."""

    alerts: Sequence[Alert]
    actor: str
    warnings: Sequence[Sequence[IngestWarning]] | None = None
    audit: AuditOf | None = None
    # Each alert's original payload from an input adapter (same order), kept with it.
    raw: Sequence[dict[str, Any] | None] | None = None


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
    source_payload: dict[str, Any] | None = None  # an input adapter's original, verbatim
    not_ticketed: dict[str, str] | None = None  # provider -> why it files no ticket


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
    not_ticketed: dict[str, str] | None = None  # provider -> why it files no ticket


@dataclass
class _Provider:
    """An enabled provider during one ingest call, with its storm guard's count so far."""

    name: str
    policy: LifecyclePolicy
    recent_creates: int  # tickets queued (not held) within the storm window, up to the threshold
    held_before: int  # 1 if a ticket was held within the window already (the guard is engaged)
    gate: BrandGate  # which brand-protection detections it files

    def declines(self, alert: Alert) -> str | None:
        return self.gate.holds(alert)

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
        window = (
            DeliveryRow.workspace_id == workspace_id,
            DeliveryRow.provider == name,
            DeliveryRow.operation == CREATE_ISSUE,
            DeliveryRow.created_at >= since,
        )
        # Counted only up to the threshold (all the guard needs to know), one index range per
        # status (workspace, provider, operation, status, created_at): the cost does not grow
        # with the deliveries stored.
        queued = (
            select(DeliveryRow.id)
            .where(*window, DeliveryRow.status.in_(QUEUED_STATUSES))
            .limit(policy.storm_threshold)
            .subquery()
        )
        held = select(DeliveryRow.id).where(
            *window, DeliveryRow.status == DeliveryStatus.HELD.value
        )
        recent, engaged = session.execute(
            select(
                select(func.count()).select_from(queued).scalar_subquery(),
                exists(held),
            )
        ).one()
        gate = content_from_config(config).brand_gate
        providers.append(_Provider(name, policy, int(recent), int(bool(engaged)), gate))
    return providers


def _repeat(
    session: Session,
    row: AlertRow,
    alert: Alert,
    providers: Sequence[_Provider],
    actor: str,
    now: datetime,
) -> IngestOutcome:
    if is_resend(session, row, alert):
        return IngestOutcome(row.id, "duplicate", 0, row.fingerprint)
    seq = add_occurrence(session, row, alert, now)
    filed, held = _file_past_gate(session, row, alert, providers, seq, actor, now)
    for provider in providers:
        if provider.name not in filed:  # the new ticket tells of this repeat itself
            report_occurrence(session, row, provider.name, seq, provider.policy, now)
    session.flush()
    return IngestOutcome(
        row.id,
        "occurrence",
        len(filed),
        row.fingerprint,
        held,
        occurrence=seq,
        not_ticketed=tuple((row.not_ticketed or {}).items()),
    )


def _file_past_gate(
    session: Session,
    row: AlertRow,
    alert: Alert,
    providers: Sequence[_Provider],
    seq: int,
    actor: str,
    now: datetime,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A detection stored below a provider's brand gate files its ticket once a repeat passes
    the gate (say it comes back as critical): at the repeat's severity, which is what passed.
    The providers it now files for, and those of them whose create the storm guard held."""
    declined = dict(row.not_ticketed or {})
    filed: list[str] = []
    held: list[str] = []
    for provider in providers:
        if provider.name not in declined or provider.declines(alert) is not None:
            continue
        if provider.holds_next():
            status = DeliveryStatus.HELD.value
            held.append(provider.name)
        else:
            status = DeliveryStatus.PENDING.value
            provider.recent_creates += 1
        enqueue(
            session,
            alert_id=row.id,
            workspace_id=row.workspace_id,
            provider=provider.name,
            operation=CREATE_ISSUE,
            payload={"severity": alert.severity.value, "passed_gate_at": seq},
            now=now,
            status=status,
        )
        filed.append(provider.name)
        session.connection().execute(
            insert(AuditRow),
            [
                audit_values(
                    "alert.gate_passed",
                    actor=actor,
                    workspace_id=row.workspace_id,
                    target=f"alert:{row.id}",
                    details={
                        "provider": provider.name,
                        "occurrence": seq,
                        "severity": alert.severity.value,
                        "was": declined.pop(provider.name),
                        "held": status == DeliveryStatus.HELD.value,
                    },
                    at=now,
                )
            ],
        )
    if filed:
        row.not_ticketed = declined or None
    return tuple(filed), tuple(held)


def _audit_storms(
    rows: NewRows,
    workspace_id: str,
    providers: Sequence[_Provider],
    outcomes: Sequence[IngestOutcome | None],
    actors: Sequence[str],
    now: datetime,
) -> None:
    """One audit entry when a provider's storm guard starts holding tickets in a window, by
    the caller whose alert was held first."""
    for provider in providers:
        held = [i for i, o in enumerate(outcomes) if o is not None and provider.name in o.held]
        if held and not provider.held_before:
            rows.add_audit(
                "storm_guard.engaged",
                actor=actors[held[0]],
                workspace_id=workspace_id,
                target=f"provider:{provider.name}",
                details={
                    "held": len(held),
                    "threshold": provider.policy.storm_threshold,
                    "window_s": provider.policy.storm_window_s,
                },
                at=now,
            )


def _locked_alerts(
    session: Session, workspace_id: str, fingerprints: Sequence[str]
) -> dict[str, AlertRow]:
    """The workspace's stored alerts with these fingerprints, locked in fingerprint order.
    Most alerts are new: the lock is a plain query, entities are loaded only for repeats."""
    if not fingerprints:
        return {}
    found = session.execute(
        select(AlertRow.id)
        .where(AlertRow.workspace_id == workspace_id, AlertRow.fingerprint.in_(fingerprints))
        .order_by(AlertRow.fingerprint)
        .with_for_update()
    ).all()
    if not found:
        return {}
    rows = session.scalars(select(AlertRow).where(AlertRow.id.in_([f.id for f in found])))
    return {row.fingerprint: row for row in rows}


def _insert_alerts(session: Session, values: Sequence[dict[str, object]]) -> set[str]:
    """Insert the alert rows, skipping a fingerprint the workspace has by now; the fingerprints
    inserted. One statement (SQLAlchemy sends it as multi-row VALUES batches)."""
    if not values:
        return set()
    dialect = session.get_bind().dialect.name
    upsert = pg_insert(AlertRow) if dialect == "postgresql" else sqlite_insert(AlertRow)
    statement = upsert.on_conflict_do_nothing(
        index_elements=["workspace_id", "fingerprint"]
    ).returning(AlertRow.fingerprint)
    return set(session.connection().execute(statement, list(values)).scalars())


def _queue_new(
    rows: NewRows,
    workspace_id: str,
    alert_id: str,
    fingerprint: str,
    alert: Alert,
    warnings: int,
    providers: Sequence[_Provider],
    actor: str,
    now: datetime,
) -> IngestOutcome:
    """A new alert's children, its ticket's create per enabled provider (held past the storm
    guard's threshold) and its audit entry."""
    rows.add_children(alert_id, alert)
    held: list[str] = []
    declined = tuple(
        (provider.name, reason)
        for provider in providers
        if (reason := provider.declines(alert)) is not None
    )
    asked = [p for p in providers if p.name not in dict(declined)]
    for provider in asked:
        if provider.holds_next():
            status = DeliveryStatus.HELD.value
            held.append(provider.name)
        else:
            status = DeliveryStatus.PENDING.value
            provider.recent_creates += 1
        rows.add_delivery(alert_id, workspace_id, provider.name, now, status=status)
    rows.add_audit(
        "alert.ingested",
        actor=actor,
        workspace_id=workspace_id,
        target=f"alert:{alert_id}",
        details={
            "fingerprint": fingerprint,
            "severity": alert.severity.value,
            "source": alert.source,
            "providers": [p.name for p in asked],
            "held": held,
            "warnings": warnings,
            **({"not_ticketed": dict(declined)} if declined else {}),
        },
        at=now,
    )
    return IngestOutcome(
        alert_id, "accepted", len(asked), fingerprint, tuple(held), not_ticketed=declined
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
        audit: AuditOf | None = None,
        raw: Sequence[dict[str, Any] | None] | None = None,
    ) -> list[IngestOutcome]:
        """Store `alerts` and queue their deliveries, all in ONE transaction.

        `warnings`, if given, holds each alert's ingest warnings (same order), kept with it;
        `raw`, each alert's original payload from an input adapter, likewise.
        `audit`, if given, makes the caller's own audit entry from the outcomes; it is written
        in the same transaction (an API request is one transaction, its audit entry included).
        An alert whose fingerprint the workspace already has is a repeat of it: an occurrence
        is recorded and reported to its tickets (or, the same record sent again, a duplicate:
        nothing is written), and its outcome names the existing alert. Concurrent ingests of
        the same new fingerprint are settled by the unique constraint; the loser records a
        repeat. A deadlock PostgreSQL breaks between concurrent batches is retried; any other
        failure rolls the whole call back.
        """
        return self.ingest_parts(workspace_id, [IngestPart(alerts, actor, warnings, audit, raw)])[0]

    def ingest_parts(
        self, workspace_id: str, parts: Sequence[IngestPart]
    ) -> list[list[IngestOutcome]]:
        """Several callers' alerts in ONE transaction, as if ingested one part after the
        other: the outcomes per part. See ingest()."""
        for part in parts:
            if part.warnings is not None and len(part.warnings) != len(part.alerts):
                raise ValueError("one list of warnings per alert")
            if part.raw is not None and len(part.raw) != len(part.alerts):
                raise ValueError("one raw payload (or None) per alert")
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._ingest_batch(workspace_id, parts)
            except DBAPIError as exc:
                # PostgreSQL broke a deadlock between concurrent batches (new alerts of one
                # problem inserted in different orders): the batch was rolled back whole, so
                # trying it again is safe.
                if not _conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    def _ingest_batch(
        self, workspace_id: str, parts: Sequence[IngestPart]
    ) -> list[list[IngestOutcome]]:
        """The chunk's new alerts with their children, outbox rows and audit entries in one
        multi-row insert per table; then its repeats, one by one, in the chunk's order."""
        alerts = [alert for part in parts for alert in part.alerts]
        actors = [part.actor for part in parts for _ in part.alerts]
        warnings = [
            part.warnings[index] if part.warnings is not None else ()
            for part in parts
            for index in range(len(part.alerts))
        ]
        raws = [
            part.raw[index] if part.raw is not None else None
            for part in parts
            for index in range(len(part.alerts))
        ]
        with self._db.session() as session:
            if not self._db.is_sqlite:
                # psycopg prepares a statement after its 5th run, and PostgreSQL may then keep
                # one generic plan: built while the alerts table was nearly empty, the duplicate
                # check walks the workspace's (workspace_id, created_at) index and filters every
                # alert of it. Planned with each chunk's values instead, it takes the unique
                # (workspace_id, fingerprint) index as soon as the table has grown.
                session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            # A share lock held to commit: a provider being enabled meanwhile (backfill takes
            # this row FOR UPDATE) either waits for these alerts or is seen by them.
            found = session.execute(
                select(WorkspaceRow.id, WorkspaceRow.fingerprint_recipe)
                .where(WorkspaceRow.id == workspace_id)
                .with_for_update(read=True)
            ).one_or_none()
            if found is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            now = utcnow()
            # Validated when saved; one that no longer validates never stops ingest (default).
            recipe = stored_recipe(found.fingerprint_recipe) or DEFAULT_RECIPE
            providers = _enabled_providers(session, workspace_id, now)
            prints = [fingerprint_of(alert, recipe) for alert in alerts]
            # The alerts this chunk repeats, locked up front in one order: two chunks that
            # repeat the same alerts in different orders wait for each other, never deadlock.
            stored = _locked_alerts(session, workspace_id, sorted(set(prints)))
            first: dict[str, int] = {}  # a new fingerprint -> the record that brings it
            for index, fingerprint in enumerate(prints):
                if fingerprint not in stored:
                    first.setdefault(fingerprint, index)
            ids = {fingerprint: new_id() for fingerprint in first}
            won = _insert_alerts(
                session,
                [
                    alert_values(
                        ids[fingerprint],
                        workspace_id,
                        fingerprint,
                        alerts[index],
                        now,
                        warnings[index],
                        raws[index],
                        {
                            p.name: reason
                            for p in providers
                            if (reason := p.declines(alerts[index])) is not None
                        },
                    )
                    # Fingerprint order: concurrent chunks wait for each other's new alerts
                    # in one order instead of deadlocking.
                    for fingerprint, index in sorted(first.items())
                ],
            )
            # Another ingest stored some of these problems a moment ago (PostgreSQL: the insert
            # waited for it, then skipped the row): those records are its repeats.
            lost = sorted(set(first) - won)
            if lost:
                stored.update(_locked_alerts(session, workspace_id, lost))
            outcomes: list[IngestOutcome | None] = [None] * len(alerts)
            rows = NewRows()
            for fingerprint, index in first.items():  # the chunk's order: the storm guard's
                if fingerprint in won:
                    outcomes[index] = _queue_new(
                        rows,
                        workspace_id,
                        ids[fingerprint],
                        fingerprint,
                        alerts[index],
                        len(warnings[index]),
                        providers,
                        actors[index],
                        now,
                    )
            _audit_storms(rows, workspace_id, providers, outcomes, actors, now)
            rows.write(session)
            # Repeats of the chunk's own new alerts: their rows, loaded once each.
            repeated = {prints[i] for i, o in enumerate(outcomes) if o is None} - set(stored)
            if repeated:
                stored.update(
                    (row.fingerprint, row)
                    for row in session.scalars(
                        select(AlertRow).where(AlertRow.id.in_([ids[f] for f in repeated]))
                    )
                )
            done: list[IngestOutcome] = []
            for index, alert in enumerate(alerts):
                outcome = outcomes[index]
                if outcome is None:
                    outcome = _repeat(
                        session, stored[prints[index]], alert, providers, actors[index], now
                    )
                done.append(outcome)
            results: list[list[IngestOutcome]] = []
            entries = []
            for part in parts:
                mine, done = done[: len(part.alerts)], done[len(part.alerts) :]
                results.append(mine)
                entry = part.audit(mine) if part.audit is not None else None
                if entry is not None:
                    entries.append(
                        audit_values(
                            entry.action,
                            actor=entry.actor,
                            workspace_id=entry.workspace_id,
                            target=entry.target,
                            details=entry.details,
                            at=now,
                        )
                    )
            if entries:
                session.connection().execute(insert(AuditRow), entries)
        return results

    def get(self, alert_id: str) -> StoredAlert:
        """Raises NotFoundError if there is no such alert."""
        found = self.get_many([alert_id]).get(alert_id)
        if found is None:
            raise NotFoundError(f"alert {alert_id} not found")
        return found

    def get_many(self, alert_ids: Sequence[str]) -> dict[str, StoredAlert]:
        """The alerts among `alert_ids` that exist, by id: three statements however many."""
        found, unreadable = self.get_readable(alert_ids)
        for error in unreadable.values():
            raise error
        return found

    def get_readable(
        self, alert_ids: Sequence[str]
    ) -> tuple[dict[str, StoredAlert], dict[str, Exception]]:
        """As `get_many`, but a stored alert that no longer reads (a payload the model refuses)
        is returned apart with its error instead of failing the rest."""
        if not alert_ids:
            return {}, {}
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
            readable: dict[str, StoredAlert] = {}
            unreadable: dict[str, Exception] = {}
            for row, workspace_name in found:
                try:
                    readable[row.id] = StoredAlert(
                        id=row.id,
                        workspace_id=row.workspace_id,
                        workspace_name=workspace_name,
                        fingerprint=row.fingerprint,
                        created_at=row.created_at,
                        # JSON mode: the strict model accepts ISO dates and enum values only
                        # from JSON.
                        alert=Alert.model_validate_json(json.dumps(row.payload)),
                        evidence_ids=tuple(evidence.get(row.id, ())),
                        tickets=tuple(link_record(link) for link in links.get(row.id, ())),
                        warnings=tuple(
                            IngestWarning.from_json(w) for w in row.ingest_warnings or ()
                        ),
                        source_payload=row.source_payload,
                        not_ticketed=row.not_ticketed,
                    )
                except (ValueError, TypeError, KeyError) as error:  # pydantic's is a ValueError
                    unreadable[row.id] = error
            return readable, unreadable

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
                    not_ticketed=row.not_ticketed,
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

    def custody_checks(self, alert_id: str) -> list[CustodyCheck]:
        """The alert's evidence chains as stored, recomputed now, in the alert's order."""
        return CustodyRepository(self._db).checks_for_alert(alert_id)

    def evidence_files(self, alert_id: str) -> list[EvidenceFile]:
        """The alert's uploaded evidence files that are not deleted, oldest first."""
        from sentineliq.storage.evidencefiles import EvidenceFileRepository

        return EvidenceFileRepository(self._db).for_alert(alert_id, with_deleted=False)
