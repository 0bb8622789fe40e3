"""The outbox: deliveries of alerts to ticket providers, claimed by workers under a lease.

A worker claims due rows (one statement, safe across processes), does the provider call, then
reports the outcome with `mark_delivered` / `mark_failed` / `defer` / `release` /
`release_for_pause`. Those only take effect while the lease is still the worker's: once a lease
expires the row may be claimed again, and the late worker's report is refused with
LeaseLostError. `worker_id` must be unique per claimant (e.g. host:pid:thread).

Exactly-once support: `mark_sending` is committed immediately before a create request goes out,
so after any crash the next claimant knows the ticket may exist (`last_sent_at`, and
`reconcile_until` while the ticket system's search may still hide it).

Every report also appends a row to the delivery's attempt history (`history`), which is what an
operator reads on a dead letter. Messages and details stored there are shown to operators: pass
classified, secret-free text (known credential shapes are masked regardless).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from sentineliq.logs import scrub
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import InvalidStateError, LeaseLostError, NotFoundError
from sentineliq.storage.providers import pause_provider
from sentineliq.storage.tables import (
    AlertRow,
    DeliveryAttemptRow,
    DeliveryRow,
    TicketLinkRow,
    TicketProviderRow,
    new_id,
)
from sentineliq.storage.types import utcnow

MAX_ERROR_LENGTH = 2000
# Attempt messages carry Jira's per-field messages, so they may run longer than last_error.
MAX_ATTEMPT_MESSAGE_LENGTH = 8000
MAX_DROP_REASON_LENGTH = 500
_ID_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # claimed; lease_until says until when
    DELIVERED = "delivered"
    FAILED = "failed"  # a retry is scheduled at available_at
    DEAD = "dead"  # given up; replay with requeue()


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    ADOPTED = "adopted"  # an earlier, unanswered create was found by its idempotency key
    RETRY = "retry"
    DEAD = "dead"
    PAUSED = "paused"  # the provider was paused (auth); the delivery waits, attempt not counted
    RELEASED = "released"  # handed back untried, e.g. on shutdown
    RECONCILE = "reconcile"  # deferred while the ticket system's search may lag a create
    REPLAYED = "replayed"  # an operator requeued it; the attempt counter starts again


RECONCILE_PHASE = "reconcile"


def phase_of(status: DeliveryStatus, reconcile_until: datetime | None) -> str:
    """The status as shown to operators: a waiting delivery that must search for an earlier,
    unanswered create before creating again is in the "reconcile" phase."""
    waiting = status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    return RECONCILE_PHASE if waiting and reconcile_until is not None else status.value


@dataclass(frozen=True)
class DroppedField:
    """An optional field the ticket system would not take, so the ticket was filed without it."""

    field: str
    reason: str  # may be "" when the provider gave none


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

    @property
    def phase(self) -> str:
        return phase_of(self.status, self.reconcile_until)

    @property
    def age_origin(self) -> datetime:
        """What the maximum age counts from: creation, moved on by the time spent paused."""
        return self.created_at + timedelta(seconds=self.paused_seconds)


@dataclass(frozen=True)
class AttemptInfo:
    """What the worker observed during a successful attempt, kept in the history row."""

    message: str | None = None
    http_status: int | None = None
    details: Mapping[str, Any] | None = None
    started_at: datetime | None = None  # defaults to when the delivery was claimed


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


def idempotency_key_for(delivery_id: str) -> str:
    return "siq-" + hashlib.sha256(delivery_id.encode("ascii")).hexdigest()[:24]


def new_delivery(alert_id: str, workspace_id: str, provider: str, now: datetime) -> DeliveryRow:
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
    )


_RECORD_COLUMNS = (
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
)


def _dropped(stored: Sequence[Mapping[str, str]] | None) -> tuple[DroppedField, ...]:
    return tuple(DroppedField(d["field"], d.get("reason", "")) for d in stored or ())


def _record(row: Row[*tuple[Any, ...]]) -> DeliveryRecord:
    """A record from a row that has the `_RECORD_COLUMNS` (and possibly more)."""
    values = {column.key: row._mapping[column.key] for column in _RECORD_COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    values["dropped_fields"] = _dropped(values["dropped_fields"])
    return DeliveryRecord(**values)


def _record_of(row: DeliveryRow) -> DeliveryRecord:
    values = {column.key: getattr(row, column.key) for column in _RECORD_COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    values["dropped_fields"] = _dropped(values["dropped_fields"])
    return DeliveryRecord(**values)


def _attempt_record(row: DeliveryAttemptRow) -> AttemptRecord:
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


def _provider_active(
    delivery: type[DeliveryRow] | AliasedClass[DeliveryRow],
) -> ColumnElement[bool]:
    """Deliveries wait while their provider is disabled or paused (after an auth failure)."""
    return exists().where(
        TicketProviderRow.workspace_id == delivery.workspace_id,
        TicketProviderRow.provider == delivery.provider,
        TicketProviderRow.is_enabled.is_(True),
        TicketProviderRow.paused_at.is_(None),
    )


def _short(message: str, limit: int = MAX_ERROR_LENGTH) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _clean_text(message: str | None, limit: int) -> str | None:
    return None if message is None else _short(scrub(str(message)), limit)


def _clean_details(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready (datetimes and tuples become strings and lists) and scrubbed of secrets."""
    if details is None:
        return None
    plain = json.loads(json.dumps(dict(details), default=str))
    return dict(scrub(plain))


def _normalise_dropped(
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
            {"field": field, "reason": _clean_text(reason, MAX_DROP_REASON_LENGTH) or ""}
        )
    return normalised


# A dropped-field reason containing this marks a field filed in a reduced form, not left out
# (e.g. a description Jira refused, filed shorter).
REDUCED_MARK = "not left out"


def _filed_message(dropped: Sequence[Mapping[str, str]]) -> str:
    reduced = [d["field"] for d in dropped if REDUCED_MARK in d["reason"]]
    left_out = [d["field"] for d in dropped if REDUCED_MARK not in d["reason"]]
    parts = [f"filed without {', '.join(left_out)}"] if left_out else []
    if reduced:
        parts.append(f"{'with' if left_out else 'filed with'} a reduced {', '.join(reduced)}")
    return "; ".join(parts)


def _uncounted_attempts() -> ColumnElement[int]:
    """attempts - 1: the claim that is handed back does not count against the retry budget."""
    return case((DeliveryRow.attempts > 0, DeliveryRow.attempts - 1), else_=0)


_Columns = TypeVarTuple("_Columns")


def _with_alert_ticket_and_provider(query: Select[*_Columns]) -> Select[*_Columns]:
    """`query` over deliveries joined to their alert, ticket link (if any) and provider row."""
    return (
        query.join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
        .outerjoin(TicketLinkRow, TicketLinkRow.delivery_id == DeliveryRow.id)
        .outerjoin(
            TicketProviderRow,
            and_(
                TicketProviderRow.workspace_id == DeliveryRow.workspace_id,
                TicketProviderRow.provider == DeliveryRow.provider,
            ),
        )
    )


class DeliveryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- claiming ---------------------------------------------------------------------------

    def claim_due(
        self,
        worker_id: str,
        *,
        limit: int,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[DeliveryRecord]:
        """Lease up to `limit` due deliveries to `worker_id`, oldest first, in one statement.

        Due: pending or failed with available_at reached, or in flight with an expired lease (its
        worker crashed or stalled), and the provider enabled and not paused. PostgreSQL skips
        rows other workers are claiming right now (FOR UPDATE SKIP LOCKED); SQLite runs the
        statement under its database write lock.
        """
        if limit <= 0:
            return []
        now = now or utcnow()
        candidate = aliased(DeliveryRow)
        due = or_(
            and_(
                candidate.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)),
                candidate.available_at <= now,
            ),
            and_(candidate.status == DeliveryStatus.IN_FLIGHT.value, candidate.lease_until < now),
        )
        chosen = (
            select(candidate.id)
            .where(due, _provider_active(candidate))
            .order_by(candidate.available_at, candidate.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=candidate)
        )
        statement = (
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(chosen.scalar_subquery()))
            .values(
                status=DeliveryStatus.IN_FLIGHT.value,
                claimed_by=worker_id,
                claimed_at=now,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=DeliveryRow.attempts + 1,
                updated_at=now,
            )
            .returning(*_RECORD_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as session:
            claimed = [_record(row) for row in session.execute(statement)]
        return sorted(claimed, key=lambda record: (record.available_at, record.id))

    def next_due_at(self) -> datetime | None:
        """When the earliest delivery becomes claimable (possibly in the past), or None.

        Deliveries of disabled or paused providers are not counted: they wait indefinitely.
        """
        waiting = select(func.min(DeliveryRow.available_at)).where(
            DeliveryRow.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)),
            _provider_active(DeliveryRow),
        )
        leased = select(func.min(DeliveryRow.lease_until)).where(
            DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value, _provider_active(DeliveryRow)
        )
        with self._db.session() as session:
            times = [session.scalar(waiting), session.scalar(leased)]
        present = [moment for moment in times if moment is not None]
        return min(present) if present else None

    # --- reports from the lease holder ------------------------------------------------------

    def _settle(
        self,
        session: Session,
        delivery_id: str,
        worker_id: str,
        values: dict[str, Any],
        *,
        live_at: datetime | None = None,
    ) -> DeliveryRecord:
        """Apply `values` if the delivery is still leased to `worker_id`, else LeaseLostError.

        With `live_at`, the lease must also not have expired by then.
        """
        conditions = [
            DeliveryRow.id == delivery_id,
            DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value,
            DeliveryRow.claimed_by == worker_id,
        ]
        if live_at is not None:
            conditions.append(DeliveryRow.lease_until > live_at)
        row = session.execute(
            update(DeliveryRow)
            .where(*conditions)
            .values(**values)
            .returning(*_RECORD_COLUMNS)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if row is None:
            raise LeaseLostError(
                f"delivery {delivery_id} is no longer leased to {worker_id}; another worker "
                "may have claimed it after the lease expired"
            )
        return _record(row)

    def _add_attempt(
        self,
        session: Session,
        record: DeliveryRecord,
        worker_id: str,
        outcome: AttemptOutcome,
        *,
        now: datetime,
        attempt: int | None = None,
        started_at: datetime | None = None,
        error_kind: str | None = None,
        message: str | None = None,
        http_status: int | None = None,
        retry_at: datetime | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        row = DeliveryAttemptRow(
            id=new_id(),
            delivery_id=record.id,
            attempt=record.attempts if attempt is None else attempt,
            worker_id=worker_id,
            started_at=started_at or record.claimed_at or now,
            finished_at=now,
            outcome=outcome.value,
            error_kind=error_kind,
            message=_clean_text(message, MAX_ATTEMPT_MESSAGE_LENGTH),
            http_status=http_status,
            retry_at=retry_at,
        )
        cleaned = _clean_details(details)
        if cleaned is not None:  # unset rather than None: a JSON column would store 'null'
            row.details = cleaned
        session.add(row)

    def mark_sending(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        reconcile_until: datetime | None = None,
        lease_until: datetime | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record that a create request is about to be sent; commit this before sending.

        Sets `last_sent_at` (and `reconcile_until` when given) only while the lease is ours and
        has not expired at `now` (pass the clock given to `claim_due`); else LeaseLostError, and
        nothing must be sent. `lease_until` extends the lease to cover the request, so no other
        worker can claim the delivery while its create is in flight. Not audited: it is
        bookkeeping within an attempt, not a change of state; the attempt's outcome is.
        """
        now = now or utcnow()
        values: dict[str, Any] = {"last_sent_at": now, "updated_at": now}
        if reconcile_until is not None:
            values["reconcile_until"] = reconcile_until
        if lease_until is not None:
            values["lease_until"] = lease_until
        with self._db.session() as session:
            return self._settle(session, delivery_id, worker_id, values, live_at=now)

    def mark_delivered(
        self,
        delivery_id: str,
        worker_id: str,
        ticket: tuple[str, str, str],
        dropped_fields: Sequence[Mapping[str, str] | DroppedField | str] = (),
        *,
        adopted: bool = False,
        attempt: AttemptInfo | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record the ticket `(issue_id, key, url)`: created now, or `adopted` (found by its
        idempotency key after an unanswered create). One transaction with the ticket link, the
        history row and the audit entry; clears `reconcile_until`. Raises LeaseLostError if the
        lease is no longer ours.

        `dropped_fields`: [{"field": ..., "reason": ...}] (plain names are accepted too).
        """
        issue_id, issue_key, url = ticket
        dropped = _normalise_dropped(dropped_fields)
        info = attempt or AttemptInfo()
        now = now or utcnow()
        with self._db.session() as session:
            record = self._settle(
                session,
                delivery_id,
                worker_id,
                {
                    "status": DeliveryStatus.DELIVERED.value,
                    "delivered_at": now,
                    "updated_at": now,
                    "lease_until": None,
                    "last_error": None,
                    "error_kind": None,
                    "reconcile_until": None,
                    "dropped_fields": dropped,
                },
            )
            link = session.scalar(
                select(TicketLinkRow).where(
                    TicketLinkRow.alert_id == record.alert_id,
                    TicketLinkRow.provider == record.provider,
                )
            )
            if link is None:
                session.add(
                    TicketLinkRow(
                        id=new_id(),
                        alert_id=record.alert_id,
                        delivery_id=record.id,
                        provider=record.provider,
                        issue_id=issue_id,
                        issue_key=issue_key,
                        url=url,
                        created_at=now,
                    )
                )
            else:  # a replayed delivery: the ticket it reached is the one to remember
                link.delivery_id, link.issue_id, link.issue_key, link.url = (
                    record.id,
                    issue_id,
                    issue_key,
                    url,
                )
            message = info.message
            if message is None and dropped:
                message = _filed_message(dropped)
            self._add_attempt(
                session,
                record,
                worker_id,
                AttemptOutcome.ADOPTED if adopted else AttemptOutcome.DELIVERED,
                now=now,
                started_at=info.started_at,
                message=message,
                http_status=info.http_status,
                details={
                    **(info.details or {}),
                    "issue_key": issue_key,
                    "url": url,
                    **({"dropped_fields": dropped} if dropped else {}),
                },
            )
            add_audit(
                session,
                "delivery.delivered",
                actor=worker_id,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={
                    "alert_id": record.alert_id,
                    "provider": record.provider,
                    "issue_key": issue_key,
                    "url": url,
                    "attempts": record.attempts,
                    "adopted": adopted,
                    "dropped_fields": dropped,
                },
            )
        return record

    def mark_failed(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        error_kind: str,
        message: str,
        retry_at: datetime | None,
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
        reconcile_until: datetime | None = None,
        not_created: bool = False,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record a failed attempt: retried at `retry_at`, or dead (given up) when it is None.

        `message` is stored and shown to operators: pass classified, secret-free text, including
        the ticket system's per-field messages (`details` may hold them structured). A given
        `reconcile_until` is set (the create may have happened unseen); `not_created` clears it
        (the ticket system answered that nothing was created); otherwise the stored one stays.
        """
        now = now or utcnow()
        status = DeliveryStatus.FAILED if retry_at is not None else DeliveryStatus.DEAD
        last_error = _clean_text(message, MAX_ERROR_LENGTH)
        values: dict[str, Any] = {
            "status": status.value,
            "updated_at": now,
            "lease_until": None,
            "last_error": last_error,
            "error_kind": str(error_kind),
        }
        if retry_at is not None:
            values["available_at"] = retry_at
        if reconcile_until is not None:
            values["reconcile_until"] = reconcile_until
        elif not_created:
            values["reconcile_until"] = None
        with self._db.session() as session:
            record = self._settle(session, delivery_id, worker_id, values)
            self._add_attempt(
                session,
                record,
                worker_id,
                AttemptOutcome.RETRY if retry_at is not None else AttemptOutcome.DEAD,
                now=now,
                error_kind=str(error_kind),
                message=message,
                http_status=http_status,
                retry_at=retry_at,
                details=details,
            )
            add_audit(
                session,
                "delivery.failed" if retry_at is not None else "delivery.dead",
                actor=worker_id,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={
                    "alert_id": record.alert_id,
                    "provider": record.provider,
                    "error_kind": str(error_kind),
                    "message": last_error,
                    "http_status": http_status,
                    "attempts": record.attempts,
                    "retry_at": retry_at.isoformat() if retry_at is not None else None,
                },
            )
        return record

    def defer(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        available_at: datetime,
        reason: str,
        outcome: AttemptOutcome | str = AttemptOutcome.RECONCILE,
        count_attempt: bool = False,
        reconcile_until: datetime | None = None,
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Put a claimed delivery back to pending until `available_at`, e.g. while the ticket
        system's search may still lag an earlier create. The attempt is not counted unless
        `count_attempt`; `last_error` is kept. A given `reconcile_until` is set."""
        kind = AttemptOutcome(outcome)
        if kind in (AttemptOutcome.DELIVERED, AttemptOutcome.ADOPTED, AttemptOutcome.DEAD):
            raise ValueError(f"defer cannot record the outcome {kind.value!r}")
        now = now or utcnow()
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING.value,
            "available_at": available_at,
            "lease_until": None,
            "claimed_by": None,
            "updated_at": now,
        }
        if not count_attempt:
            values["attempts"] = _uncounted_attempts()
        if reconcile_until is not None:
            values["reconcile_until"] = reconcile_until
        with self._db.session() as session:
            record = self._settle(session, delivery_id, worker_id, values)
            during = record.attempts if count_attempt else record.attempts + 1
            self._add_attempt(
                session,
                record,
                worker_id,
                kind,
                now=now,
                attempt=during,
                message=reason,
                retry_at=available_at,
                details=details,
            )
            add_audit(
                session,
                "delivery.deferred",
                actor=worker_id,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={
                    "alert_id": record.alert_id,
                    "provider": record.provider,
                    "outcome": kind.value,
                    "reason": _clean_text(reason, MAX_ERROR_LENGTH),
                    "available_at": available_at.isoformat(),
                },
            )
        return record

    def release(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        available_at: datetime | None = None,
        reason: str = "handed back untried",
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Hand a claimed delivery back untried (e.g. on shutdown): the attempt is not counted."""
        now = now or utcnow()
        due = available_at or now
        with self._db.session() as session:
            record = self._settle(
                session,
                delivery_id,
                worker_id,
                {
                    "status": DeliveryStatus.PENDING.value,
                    "available_at": due,
                    "lease_until": None,
                    "claimed_by": None,
                    "attempts": _uncounted_attempts(),
                    "updated_at": now,
                },
            )
            self._add_attempt(
                session,
                record,
                worker_id,
                AttemptOutcome.RELEASED,
                now=now,
                attempt=record.attempts + 1,
                message=reason,
                retry_at=due,
            )
            add_audit(
                session,
                "delivery.released",
                actor=worker_id,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={"alert_id": record.alert_id, "provider": record.provider},
            )
        return record

    def release_for_pause(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        reason: str,
        error_kind: str = "auth",
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
        config_version: int | None = None,
        not_created: bool = False,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Pause the delivery's provider and hand the delivery back to wait for it, in one
        transaction: pending (never dead), attempt not counted, history outcome "paused".
        `not_created` (Jira's answer proves the create made nothing) clears a "possibly sent"
        marker, so the resumed delivery creates at once instead of waiting out the search lag.

        The provider pause is idempotent and behaves as `ProviderRepository.pause` (including
        `config_version`), so calling that first is harmless but not needed. The pause is
        committed even when the lease turns out to be lost (the auth failure is true either
        way); LeaseLostError is raised afterwards.
        """
        now = now or utcnow()
        lost: LeaseLostError | None = None
        with self._db.session() as session:
            owner = session.execute(
                select(DeliveryRow.workspace_id, DeliveryRow.provider).where(
                    DeliveryRow.id == delivery_id
                )
            ).one_or_none()
            if owner is None:
                raise NotFoundError(f"delivery {delivery_id} not found")
            pause_provider(
                session,
                owner.workspace_id,
                owner.provider,
                reason,
                actor=worker_id,
                config_version=config_version,
                now=now,
            )
            values: dict[str, Any] = {
                "status": DeliveryStatus.PENDING.value,
                "available_at": now,  # due as soon as the provider resumes
                "lease_until": None,
                "claimed_by": None,
                "attempts": _uncounted_attempts(),
                "last_error": _clean_text(reason, MAX_ERROR_LENGTH),
                "error_kind": str(error_kind),
                "updated_at": now,
            }
            if not_created:
                values["reconcile_until"] = None
            try:
                record = self._settle(session, delivery_id, worker_id, values)
            except LeaseLostError as error:
                lost = error
            else:
                self._add_attempt(
                    session,
                    record,
                    worker_id,
                    AttemptOutcome.PAUSED,
                    now=now,
                    attempt=record.attempts + 1,
                    error_kind=str(error_kind),
                    message=reason,
                    http_status=http_status,
                    details=details,
                )
                add_audit(
                    session,
                    "delivery.waiting",
                    actor=worker_id,
                    workspace_id=record.workspace_id,
                    target=f"delivery:{record.id}",
                    details={
                        "alert_id": record.alert_id,
                        "provider": record.provider,
                        "reason": _clean_text(reason, MAX_ERROR_LENGTH),
                    },
                )
        if lost is not None:
            raise lost
        return record

    # --- operator actions -------------------------------------------------------------------

    def _replay(self, session: Session, row: DeliveryRow, actor: str, now: datetime) -> None:
        before = _record_of(row)
        row.status = DeliveryStatus.PENDING.value
        row.available_at = now
        row.attempts = 0
        row.claimed_by = None
        row.lease_until = None
        # The idempotency key and reconcile_until stay: if an earlier create may have landed
        # unseen, the worker searches first and waits out the rest of the search-lag window.
        row.updated_at = now
        self._add_attempt(
            session,
            before,
            actor,
            AttemptOutcome.REPLAYED,
            now=now,
            started_at=now,
            message=f"replayed by {actor} (was {before.status.value}); attempts start again",
        )
        add_audit(
            session,
            "delivery.requeued",
            actor=actor,
            workspace_id=row.workspace_id,
            target=f"delivery:{row.id}",
            details={
                "alert_id": row.alert_id,
                "provider": row.provider,
                "previous_status": before.status.value,
                "previous_attempts": before.attempts,
            },
        )

    def requeue(self, delivery_id: str, *, actor: str) -> DeliveryRecord:
        """Replay a dead (or scheduled) delivery now, with a fresh attempt budget.

        Raises NotFoundError for an unknown id, InvalidStateError for any other status (a
        delivered one would become a second ticket; a pending or in-flight one is on its way).
        """
        now = utcnow()
        with self._db.session() as session:
            row = session.scalar(
                select(DeliveryRow).where(DeliveryRow.id == delivery_id).with_for_update()
            )
            if row is None:
                raise NotFoundError(f"delivery {delivery_id} not found")
            if row.status == DeliveryStatus.DELIVERED.value:
                key = session.scalar(
                    select(TicketLinkRow.issue_key).where(TicketLinkRow.delivery_id == row.id)
                )
                raise InvalidStateError(
                    f"delivery {delivery_id} is delivered already"
                    + (f" ({key})" if key else "")
                    + "; replaying it would file a second ticket"
                )
            if row.status not in (DeliveryStatus.DEAD.value, DeliveryStatus.FAILED.value):
                raise InvalidStateError(
                    f"delivery {delivery_id} is {row.status}; only dead or failed deliveries "
                    "can be requeued"
                )
            self._replay(session, row, actor, now)
            session.flush()
            return _record_of(row)

    def replay_dead(self, workspace_id: str | None, *, actor: str) -> list[DeliveryRecord]:
        """Requeue every dead delivery (of one workspace, or all); each is audited."""
        now = utcnow()
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.status == DeliveryStatus.DEAD.value)
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
            .with_for_update()
        )
        if workspace_id is not None:
            query = query.where(DeliveryRow.workspace_id == workspace_id)
        with self._db.session() as session:
            rows = list(session.scalars(query))
            for row in rows:
                self._replay(session, row, actor, now)
            session.flush()
            return [_record_of(row) for row in rows]

    def requeue_dead(self, workspace_id: str | None, *, actor: str) -> int:
        """Requeue every dead delivery (of one workspace, or all); returns how many."""
        return len(self.replay_dead(workspace_id, actor=actor))

    # --- reading ----------------------------------------------------------------------------

    def get(self, delivery_id: str) -> DeliveryRecord | None:
        with self._db.session() as session:
            row = session.execute(
                select(*_RECORD_COLUMNS).where(DeliveryRow.id == delivery_id)
            ).one_or_none()
            return _record(row) if row is not None else None

    def find_by_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Ids starting with `prefix` (at least 4 characters), so people can type short ids."""
        prefix = prefix.strip().lower()
        if not _ID_PREFIX.match(prefix):
            return []
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.id.startswith(prefix, autoescape=True))
                    .order_by(DeliveryRow.id)
                    .limit(limit)
                )
            )

    def history(self, delivery_id: str) -> list[AttemptRecord]:
        """The delivery's attempts (and replays), oldest first. NotFoundError if unknown."""
        with self._db.session() as session:
            if session.get(DeliveryRow, delivery_id) is None:
                raise NotFoundError(f"delivery {delivery_id} not found")
            return self._history(session, delivery_id)

    @staticmethod
    def _history(session: Session, delivery_id: str) -> list[AttemptRecord]:
        rows = session.scalars(
            select(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            # Attempts of one delivery end one after another (one lease at a time), so the end
            # orders them even when a caller-supplied start time does not.
            .order_by(
                DeliveryAttemptRow.finished_at,
                DeliveryAttemptRow.started_at,
                DeliveryAttemptRow.id,
            )
        )
        return [_attempt_record(row) for row in rows]

    def detail(self, delivery_id: str) -> DeliveryDetail | None:
        """The delivery with its alert title, ticket, provider pause and history."""
        query = _with_alert_ticket_and_provider(
            select(
                AlertRow.title,
                TicketLinkRow.issue_key,
                TicketLinkRow.url,
                TicketProviderRow.paused_at,
                TicketProviderRow.paused_reason,
                *_RECORD_COLUMNS,
            ).where(DeliveryRow.id == delivery_id)
        )
        with self._db.session() as session:
            row = session.execute(query).one_or_none()
            if row is None:
                return None
            delivery = _record(row)
            return DeliveryDetail(
                delivery=delivery,
                alert_title=row.title,
                issue_key=row.issue_key,
                url=row.url,
                provider_paused_at=row.paused_at,
                provider_paused_reason=row.paused_reason,
                history=tuple(self._history(session, delivery_id)),
            )

    def list_for_workspace(
        self,
        workspace_id: str,
        status: DeliveryStatus | str | None = None,
        *,
        limit: int | None = None,
        alert_id: str | None = None,
    ) -> list[DeliveryView]:
        """Most recently updated first; `alert_id` narrows it to one alert's deliveries."""
        query = (
            _with_alert_ticket_and_provider(
                select(
                    DeliveryRow.id,
                    DeliveryRow.alert_id,
                    AlertRow.title,
                    DeliveryRow.provider,
                    DeliveryRow.status,
                    DeliveryRow.attempts,
                    DeliveryRow.last_error,
                    DeliveryRow.error_kind,
                    TicketLinkRow.issue_key,
                    TicketLinkRow.url,
                    DeliveryRow.available_at,
                    DeliveryRow.updated_at,
                    DeliveryRow.dropped_fields,
                    TicketProviderRow.paused_at,
                    TicketProviderRow.paused_reason,
                    DeliveryRow.reconcile_until,
                )
            )
            .where(DeliveryRow.workspace_id == workspace_id)
            .order_by(DeliveryRow.updated_at.desc(), DeliveryRow.id)
            .limit(limit)
        )
        if alert_id is not None:
            query = query.where(DeliveryRow.alert_id == alert_id)
        if status is not None:
            query = query.where(DeliveryRow.status == DeliveryStatus(status).value)
        with self._db.session() as session:
            return [
                DeliveryView(
                    id=row.id,
                    alert_id=row.alert_id,
                    alert_title=row.title,
                    provider=row.provider,
                    status=DeliveryStatus(row.status),
                    attempts=row.attempts,
                    last_error=row.last_error,
                    error_kind=row.error_kind,
                    issue_key=row.issue_key,
                    url=row.url,
                    available_at=row.available_at,
                    updated_at=row.updated_at,
                    provider_paused_at=row.paused_at,
                    provider_paused_reason=row.paused_reason,
                    dropped_fields=_dropped(row.dropped_fields),
                    reconcile_until=row.reconcile_until,
                )
                for row in session.execute(query)
            ]

    def count_by_status(self, workspace_id: str | None = None) -> dict[DeliveryStatus, int]:
        query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        if workspace_id is not None:
            query = query.where(DeliveryRow.workspace_id == workspace_id)
        counts = dict.fromkeys(DeliveryStatus, 0)
        with self._db.session() as session:
            for status, count in session.execute(query):
                counts[DeliveryStatus(status)] = count
        return counts
