"""Delivery records: what the outbox's rows and history rows read as, and how text is cleaned.

Messages and details stored in the history are shown to operators: they are scrubbed of known
credential shapes and shortened here, whoever reports them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from sentineliq.logs import scrub
from sentineliq.outbox import AttemptOutcome, DeliveryStatus, DroppedField, phase_of
from sentineliq.storage.tables import DeliveryAttemptRow, DeliveryRow, TicketLinkRow, new_id

MAX_ERROR_LENGTH = 2000
# Attempt messages carry Jira's per-field messages, so they may run longer than last_error.
MAX_ATTEMPT_MESSAGE_LENGTH = 8000
MAX_DROP_REASON_LENGTH = 500
CREATE_ISSUE = "create_issue"  # the operation of every delivery made by ingestion


@dataclass(frozen=True)
class DeliveryRecord:
    id: str
    alert_id: str
    workspace_id: str
    provider: str
    status: DeliveryStatus
    attempts: int  # including the current one while in flight
    available_at: datetime
    lease_until: datetime | None
    claimed_by: str | None
    last_error: str | None
    error_kind: str | None
    idempotency_key: str  # stamped on the ticket so an ambiguous create can be looked up
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    claimed_at: datetime | None = None
    last_sent_at: datetime | None = None  # a create request was (possibly) sent at this time
    reconcile_until: datetime | None = None  # search before creating; create only after this
    dropped_fields: tuple[DroppedField, ...] = ()
    paused_seconds: float = 0.0  # time spent waiting for a paused provider (lifted pauses)
    operation: str = CREATE_ISSUE  # what it does at the provider (sentineliq.delivery.operations)
    sequence: int = 0  # numbers the deliveries of one operation for one alert and provider
    payload: Mapping[str, Any] = field(default_factory=dict)  # the operation's arguments

    @property
    def phase(self) -> str:
        return phase_of(self.status, self.reconcile_until)

    @property
    def age_origin(self) -> datetime:
        """What the maximum age counts from: creation, moved on by the time spent paused."""
        return self.created_at + timedelta(seconds=self.paused_seconds)


@dataclass(frozen=True)
class AttemptRecord:
    id: str
    delivery_id: str
    attempt: int  # the delivery's attempts counter during this attempt
    worker_id: str  # the worker, or the operator for a replay
    started_at: datetime
    finished_at: datetime
    outcome: AttemptOutcome
    error_kind: str | None
    message: str | None
    http_status: int | None
    retry_at: datetime | None  # when it became due again, for retry / reconcile / released
    details: Mapping[str, Any] | None


@dataclass(frozen=True)
class DeliveryView:
    """One line of a workspace's delivery list."""

    id: str
    alert_id: str
    alert_title: str
    provider: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    error_kind: str | None
    issue_key: str | None
    url: str | None
    available_at: datetime
    updated_at: datetime
    provider_paused_at: datetime | None = None
    provider_paused_reason: str | None = None
    dropped_fields: tuple[DroppedField, ...] = ()
    reconcile_until: datetime | None = None
    # What it does at the provider: a comment delivery must be told from a ticket's create.
    operation: str = CREATE_ISSUE

    @property
    def phase(self) -> str:
        """The status, or "reconcile" while searching for an earlier create (see phase_of)."""
        return phase_of(self.status, self.reconcile_until)


@dataclass(frozen=True)
class DeliveryDetail:
    """Everything `deliveries show` prints, read in one transaction."""

    delivery: DeliveryRecord
    alert_title: str
    issue_key: str | None
    url: str | None
    provider_paused_at: datetime | None
    provider_paused_reason: str | None
    history: tuple[AttemptRecord, ...]

    @property
    def view(self) -> DeliveryView:
        """The same delivery as one line of the delivery list."""
        d = self.delivery
        return DeliveryView(
            id=d.id,
            alert_id=d.alert_id,
            alert_title=self.alert_title,
            provider=d.provider,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            error_kind=d.error_kind,
            issue_key=self.issue_key,
            url=self.url,
            available_at=d.available_at,
            updated_at=d.updated_at,
            provider_paused_at=self.provider_paused_at,
            provider_paused_reason=self.provider_paused_reason,
            dropped_fields=d.dropped_fields,
            reconcile_until=d.reconcile_until,
            operation=d.operation,
        )


@dataclass(frozen=True)
class TicketLinkRecord:
    alert_id: str
    delivery_id: str
    provider: str
    issue_id: str
    issue_key: str
    url: str
    created_at: datetime
    severity: str | None = None  # the severity the ticket's priority reflects
    previous_keys: tuple[str, ...] = ()  # earlier tickets of the alert, oldest first


def idempotency_key_for(delivery_id: str) -> str:
    return "siq-" + hashlib.sha256(delivery_id.encode("ascii")).hexdigest()[:24]


def new_delivery(
    alert_id: str,
    workspace_id: str,
    provider: str,
    now: datetime,
    *,
    operation: str = CREATE_ISSUE,
) -> DeliveryRow:
    delivery_id = new_id()
    return DeliveryRow(
        id=delivery_id,
        alert_id=alert_id,
        workspace_id=workspace_id,
        provider=provider,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        available_at=now,
        lease_until=None,
        claimed_by=None,
        last_error=None,
        error_kind=None,
        created_at=now,
        updated_at=now,
        delivered_at=None,
        idempotency_key=idempotency_key_for(delivery_id),
        dropped_fields=[],
        paused_seconds=0.0,
        operation=operation,
    )


def link_record(row: TicketLinkRow) -> TicketLinkRecord:
    return TicketLinkRecord(
        alert_id=row.alert_id,
        delivery_id=row.delivery_id,
        provider=row.provider,
        issue_id=row.issue_id,
        issue_key=row.issue_key,
        url=row.url,
        created_at=row.created_at,
        severity=row.severity,
        previous_keys=tuple(row.previous_keys or ()),
    )


RECORD_COLUMNS = (
    DeliveryRow.id,
    DeliveryRow.alert_id,
    DeliveryRow.workspace_id,
    DeliveryRow.provider,
    DeliveryRow.status,
    DeliveryRow.attempts,
    DeliveryRow.available_at,
    DeliveryRow.lease_until,
    DeliveryRow.claimed_by,
    DeliveryRow.last_error,
    DeliveryRow.error_kind,
    DeliveryRow.idempotency_key,
    DeliveryRow.created_at,
    DeliveryRow.updated_at,
    DeliveryRow.delivered_at,
    DeliveryRow.claimed_at,
    DeliveryRow.last_sent_at,
    DeliveryRow.reconcile_until,
    DeliveryRow.dropped_fields,
    DeliveryRow.paused_seconds,
    DeliveryRow.operation,
    DeliveryRow.sequence,
    DeliveryRow.payload,
)


def dropped_from(stored: Sequence[Mapping[str, str]] | None) -> tuple[DroppedField, ...]:
    return tuple(DroppedField(d["field"], d.get("reason", "")) for d in stored or ())


def record_from_row(row: Row[*tuple[Any, ...]]) -> DeliveryRecord:
    """A record from a row that has the `RECORD_COLUMNS` (and possibly more)."""
    values = {column.key: row._mapping[column.key] for column in RECORD_COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    values["dropped_fields"] = dropped_from(values["dropped_fields"])
    values["payload"] = dict(values["payload"] or {})
    return DeliveryRecord(**values)


def record_of(row: DeliveryRow) -> DeliveryRecord:
    values = {column.key: getattr(row, column.key) for column in RECORD_COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    values["dropped_fields"] = dropped_from(values["dropped_fields"])
    values["payload"] = dict(values["payload"] or {})
    return DeliveryRecord(**values)


def attempt_record(row: DeliveryAttemptRow) -> AttemptRecord:
    return AttemptRecord(
        id=row.id,
        delivery_id=row.delivery_id,
        attempt=row.attempt,
        worker_id=row.worker_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=AttemptOutcome(row.outcome),
        error_kind=row.error_kind,
        message=row.message,
        http_status=row.http_status,
        retry_at=row.retry_at,
        details=row.details,
    )


def _short(message: str, limit: int = MAX_ERROR_LENGTH) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def clean_text(message: str | None, limit: int) -> str | None:
    return None if message is None else _short(scrub(str(message)), limit)


def clean_details(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready (datetimes and tuples become strings and lists) and scrubbed of secrets."""
    if details is None:
        return None
    plain = json.loads(json.dumps(dict(details), default=str))
    return dict(scrub(plain))


def normalise_dropped(
    dropped_fields: Sequence[Mapping[str, str] | DroppedField | str],
) -> list[dict[str, str]]:
    if isinstance(dropped_fields, str):
        raise TypeError("dropped_fields is a sequence of fields, not one string")
    normalised: list[dict[str, str]] = []
    for item in dropped_fields:
        if isinstance(item, str):  # the older form: names only
            field, reason = item, ""
        elif isinstance(item, DroppedField):
            field, reason = item.field, item.reason
        else:
            field, reason = str(item["field"]), str(item.get("reason") or "")
        normalised.append(
            {"field": field, "reason": clean_text(reason, MAX_DROP_REASON_LENGTH) or ""}
        )
    return normalised


# A dropped-field reason containing this marks a field filed in a reduced form, not left out
# (e.g. a description Jira refused, filed shorter).
REDUCED_MARK = "not left out"


def filed_message(dropped: Sequence[Mapping[str, str]]) -> str:
    reduced = [d["field"] for d in dropped if REDUCED_MARK in d["reason"]]
    left_out = [d["field"] for d in dropped if REDUCED_MARK not in d["reason"]]
    parts = [f"filed without {', '.join(left_out)}"] if left_out else []
    if reduced:
        parts.append(f"{'with' if left_out else 'filed with'} a reduced {', '.join(reduced)}")
    return "; ".join(parts)
