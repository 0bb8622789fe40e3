"""Repeats of an alert (occurrences), and the comment deliveries that report them.

A repeat is stored with its time, source id, severity and what it brought that is new; the alert
keeps the count, the last-seen time and the peak severity. For each provider that has (or will
have) a ticket for the alert, repeats are gathered into one "report occurrences" delivery per
comment window: a repeat joins the waiting delivery if one has not been started yet, else it
opens the next one, due at once when no comment went out within the window (the first repeat
is reported immediately) or when the window after the last one ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentineliq.alerts.model import Alert, Severity
from sentineliq.lifecycle.occurrences import (
    ObservableKey,
    OccurrenceFacts,
    higher,
    novelty,
    rises,
)
from sentineliq.lifecycle.policy import LifecyclePolicy
from sentineliq.outbox import DeliveryStatus
from sentineliq.storage.deliveries.enqueue import REPORT_OCCURRENCES, enqueue
from sentineliq.storage.deliveries.records import CREATE_ISSUE, TicketLinkRecord, link_record
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import (
    AlertObservableRow,
    AlertOccurrenceRow,
    AlertRow,
    DeliveryRow,
    TicketLinkRow,
    new_id,
)


@dataclass(frozen=True)
class OccurrenceRecord:
    seq: int
    received_at: datetime
    detected_at: datetime
    source_id: str | None
    severity: str
    raised_from: str | None
    new_observables: tuple[dict[str, str], ...]
    new_assets: tuple[str, ...]

    def facts(self) -> OccurrenceFacts:
        return OccurrenceFacts(
            seq=self.seq,
            detected_at=self.detected_at,
            severity=Severity(self.severity),
            raised_from=Severity(self.raised_from) if self.raised_from else None,
            new_observables=tuple(
                ObservableKey(o["type"], o["value"]) for o in self.new_observables
            ),
            new_assets=self.new_assets,
        )


def occurrence_record(row: AlertOccurrenceRow) -> OccurrenceRecord:
    return OccurrenceRecord(
        seq=row.seq,
        received_at=row.received_at,
        detected_at=row.detected_at,
        source_id=row.source_id,
        severity=row.severity,
        raised_from=row.raised_from,
        new_observables=tuple(row.new_observables or ()),
        new_assets=tuple(row.new_assets or ()),
    )


def record_hash(alert: Alert) -> str:
    """The record's whole content: without a source id, only an identical record is a re-send."""
    return hashlib.sha256(alert.model_dump_json().encode()).hexdigest()


def is_resend(session: Session, row: AlertRow, alert: Alert) -> bool:
    """The same record sent again (a source's retry): the same source id and detection time as
    the alert or one of its repeats; without a source id, the same content as well (two
    different alerts may share a detection second)."""
    same_record = row.detected_at == alert.detected_at and row.external_id == alert.external_id
    if same_record and (
        alert.external_id is not None or row.payload == alert.model_dump(mode="json")
    ):
        return True
    same = [
        AlertOccurrenceRow.alert_id == row.id,
        AlertOccurrenceRow.detected_at == alert.detected_at,
    ]
    if alert.external_id is None:
        same += [
            AlertOccurrenceRow.source_id.is_(None),
            AlertOccurrenceRow.record_hash == record_hash(alert),
        ]
    else:
        same.append(AlertOccurrenceRow.source_id == alert.external_id)
    return session.scalar(select(AlertOccurrenceRow.id).where(*same).limit(1)) is not None


def add_occurrence(session: Session, row: AlertRow, alert: Alert, now: datetime) -> int:
    """Store `alert` as the next repeat of the (locked) alert `row`; returns its number."""
    known_observables = {
        ObservableKey(t, v)
        for t, v in session.execute(
            select(AlertObservableRow.type, AlertObservableRow.value).where(
                AlertObservableRow.alert_id == row.id
            )
        )
    }
    known_assets = set(row.affected_assets or ())
    for observables, assets in session.execute(
        select(AlertOccurrenceRow.new_observables, AlertOccurrenceRow.new_assets).where(
            AlertOccurrenceRow.alert_id == row.id, AlertOccurrenceRow.brought_new.is_(True)
        )
    ):
        known_observables.update(ObservableKey(o["type"], o["value"]) for o in observables)
        known_assets.update(assets)
    new = novelty(alert, known_observables, known_assets)
    peak = Severity(row.peak_severity or row.severity)
    seq = row.occurrence_count + 1
    session.add(
        AlertOccurrenceRow(
            id=new_id(),
            alert_id=row.id,
            seq=seq,
            received_at=now,
            detected_at=alert.detected_at,
            source_id=alert.external_id,
            severity=alert.severity.value,
            raised_from=peak.value if rises(alert.severity, peak) else None,
            new_observables=[o.to_json() for o in new.observables],
            new_assets=list(new.assets),
            brought_new=bool(new.observables or new.assets),
            record_hash=record_hash(alert),
        )
    )
    row.occurrence_count = seq
    row.last_seen_at = max(filter(None, (row.last_seen_at, alert.detected_at)))
    row.peak_severity = higher(alert.severity, peak).value
    return seq


def report_occurrence(
    session: Session,
    row: AlertRow,
    provider: str,
    seq: int,
    policy: LifecyclePolicy,
    now: datetime,
) -> bool:
    """Make repeat `seq` part of the provider's next comment for the alert; False when the
    alert has no ticket on its way for this provider (none was ever queued)."""
    has_create = session.scalar(
        select(DeliveryRow.id)
        .where(
            DeliveryRow.alert_id == row.id,
            DeliveryRow.provider == provider,
            DeliveryRow.operation == CREATE_ISSUE,
        )
        .limit(1)
    )
    if has_create is None:
        return False
    reports = (
        DeliveryRow.alert_id == row.id,
        DeliveryRow.provider == provider,
        DeliveryRow.operation == REPORT_OCCURRENCES,
    )
    # Only the newest report may take more repeats, and only while nothing of it can have been
    # sent: extending an older one would report again what a newer one covers.
    newest = session.scalar(
        select(DeliveryRow)
        .where(*reports)
        .order_by(DeliveryRow.sequence.desc())
        .limit(1)
        .with_for_update()
    )
    waiting = (
        newest
        if newest is not None
        and newest.status == DeliveryStatus.PENDING.value
        and newest.last_sent_at is None
        else None
    )
    if waiting is not None:
        payload = dict(waiting.payload or {})
        payload["last_seq"] = seq
        payload.setdefault("first_seq", seq)
        waiting.payload = payload
        return True
    # Started ones count from when they went out (or were taken up, if still on their way).
    last_sent = session.scalar(
        select(func.max(func.coalesce(DeliveryRow.last_sent_at, DeliveryRow.claimed_at))).where(
            *reports
        )
    )
    window = timedelta(seconds=policy.comment_window_s)
    due = now if last_sent is None or last_sent + window <= now else last_sent + window
    enqueue(
        session,
        alert_id=row.id,
        workspace_id=row.workspace_id,
        provider=provider,
        operation=REPORT_OCCURRENCES,
        payload={"first_seq": seq, "last_seq": seq},
        now=now,
        available_at=due,
    )
    return True


def occurrences_between(
    session: Session, alert_id: str, first: int, last: int
) -> list[OccurrenceRecord]:
    rows = session.scalars(
        select(AlertOccurrenceRow)
        .where(
            AlertOccurrenceRow.alert_id == alert_id,
            AlertOccurrenceRow.seq >= first,
            AlertOccurrenceRow.seq <= last,
        )
        .order_by(AlertOccurrenceRow.seq)
    )
    return [occurrence_record(r) for r in rows]


def payload_range(payload: Mapping[str, Any]) -> tuple[int, int]:
    first, last = payload.get("first_seq"), payload.get("last_seq")
    if not isinstance(first, int) or not isinstance(last, int) or first > last:
        raise ValueError(f"a report of occurrences needs first_seq <= last_seq, got {payload}")
    return first, last


@dataclass(frozen=True)
class TicketContext:
    """What a delivery acting on an alert's ticket needs to know, read in one transaction."""

    alert_id: str
    status: str  # the alert's status now (a person's or the ticket's change included)
    severity: str  # as first reported
    peak_severity: str
    occurrence_count: int
    detected_at: datetime
    last_seen_at: datetime | None
    link: TicketLinkRecord | None  # the alert's current ticket at this provider
    create_status: DeliveryStatus | None  # of the latest create for this provider


def ticket_context(session: Session, alert_id: str, provider: str) -> TicketContext:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFoundError(f"alert {alert_id} not found")
    link = session.scalar(
        select(TicketLinkRow).where(
            TicketLinkRow.alert_id == alert_id, TicketLinkRow.provider == provider
        )
    )
    create_status = session.scalar(
        select(DeliveryRow.status)
        .where(
            DeliveryRow.alert_id == alert_id,
            DeliveryRow.provider == provider,
            DeliveryRow.operation == CREATE_ISSUE,
        )
        .order_by(DeliveryRow.sequence.desc())
        .limit(1)
    )
    return TicketContext(
        alert_id=row.id,
        status=row.status,
        severity=row.severity,
        peak_severity=row.peak_severity or row.severity,
        occurrence_count=row.occurrence_count,
        detected_at=row.detected_at,
        last_seen_at=row.last_seen_at,
        link=link_record(link) if link is not None else None,
        create_status=DeliveryStatus(create_status) if create_status is not None else None,
    )
