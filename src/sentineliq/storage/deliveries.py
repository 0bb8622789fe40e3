"""The outbox: deliveries of alerts to ticket providers, claimed by workers under a lease.

A worker claims due rows (one statement, safe across processes), does the provider call, then
reports the outcome with `mark_delivered` / `mark_failed` / `release`. Those only take effect
while the lease is still the worker's: once a lease expires the row may be claimed again, and
the late worker's report is refused with LeaseLostError. `worker_id` must be unique per
claimant (e.g. host:pid:thread).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import InvalidStateError, LeaseLostError, NotFoundError
from sentineliq.storage.tables import (
    AlertRow,
    DeliveryRow,
    TicketLinkRow,
    TicketProviderRow,
    new_id,
)
from sentineliq.storage.types import utcnow

MAX_ERROR_LENGTH = 2000


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # claimed; lease_until says until when
    DELIVERED = "delivered"
    FAILED = "failed"  # a retry is scheduled at available_at
    DEAD = "dead"  # given up; replay with requeue()


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
)


def _record(values: Sequence[Any]) -> DeliveryRecord:
    """A record from a row of `_RECORD_COLUMNS`."""
    fields = list(values)
    fields[4] = DeliveryStatus(fields[4])
    return DeliveryRecord(*fields)


def _provider_enabled(
    delivery: type[DeliveryRow] | AliasedClass[DeliveryRow],
) -> ColumnElement[bool]:
    """Deliveries wait while their provider is disabled (e.g. paused after an auth failure)."""
    return exists().where(
        TicketProviderRow.workspace_id == delivery.workspace_id,
        TicketProviderRow.provider == delivery.provider,
        TicketProviderRow.is_enabled.is_(True),
    )


def _short(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LENGTH else message[: MAX_ERROR_LENGTH - 1] + "…"


class DeliveryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

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
        worker crashed or stalled). PostgreSQL skips rows other workers are claiming right now
        (FOR UPDATE SKIP LOCKED); SQLite runs the statement under its database write lock.
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
            .where(due, _provider_enabled(candidate))
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

    def _settle(
        self,
        session: Session,
        delivery_id: str,
        worker_id: str,
        values: dict[str, Any],
    ) -> DeliveryRecord:
        """Apply `values` if the delivery is still leased to `worker_id`, else LeaseLostError."""
        row = session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id == delivery_id,
                DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value,
                DeliveryRow.claimed_by == worker_id,
            )
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

    def mark_delivered(
        self,
        delivery_id: str,
        worker_id: str,
        ticket: tuple[str, str, str],
        dropped_fields: Sequence[str] = (),
    ) -> DeliveryRecord:
        """Record the created ticket `(issue_id, key, url)`; one transaction with the link and
        audit entry. Raises LeaseLostError if the lease is no longer ours."""
        issue_id, issue_key, url = ticket
        now = utcnow()
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
                    "dropped_fields": list(dropped_fields),
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
    ) -> DeliveryRecord:
        """Record a failed attempt: retried at `retry_at`, or dead (given up) when it is None.

        `message` is stored and shown to operators: pass classified, secret-free text.
        """
        now = utcnow()
        status = DeliveryStatus.FAILED if retry_at is not None else DeliveryStatus.DEAD
        values: dict[str, Any] = {
            "status": status.value,
            "updated_at": now,
            "lease_until": None,
            "last_error": _short(message),
            "error_kind": str(error_kind),
        }
        if retry_at is not None:
            values["available_at"] = retry_at
        with self._db.session() as session:
            record = self._settle(session, delivery_id, worker_id, values)
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
                    "message": _short(message),
                    "attempts": record.attempts,
                    "retry_at": retry_at.isoformat() if retry_at is not None else None,
                },
            )
        return record

    def release(
        self, delivery_id: str, worker_id: str, *, available_at: datetime | None = None
    ) -> DeliveryRecord:
        """Hand a claimed delivery back untried (e.g. on shutdown): the attempt is not counted."""
        now = utcnow()
        with self._db.session() as session:
            return self._settle(
                session,
                delivery_id,
                worker_id,
                {
                    "status": DeliveryStatus.PENDING.value,
                    "available_at": available_at or now,
                    "lease_until": None,
                    "claimed_by": None,
                    "attempts": case((DeliveryRow.attempts > 0, DeliveryRow.attempts - 1), else_=0),
                    "updated_at": now,
                },
            )

    def requeue(self, delivery_id: str, *, actor: str) -> DeliveryRecord:
        """Replay a dead (or scheduled) delivery now, with a fresh attempt budget."""
        now = utcnow()
        with self._db.session() as session:
            row = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.status.in_(
                        (DeliveryStatus.DEAD.value, DeliveryStatus.FAILED.value)
                    ),
                )
                .values(
                    status=DeliveryStatus.PENDING.value,
                    available_at=now,
                    attempts=0,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                )
                .returning(*_RECORD_COLUMNS)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if row is None:
                current = session.get(DeliveryRow, delivery_id)
                if current is None:
                    raise NotFoundError(f"delivery {delivery_id} not found")
                raise InvalidStateError(
                    f"delivery {delivery_id} is {current.status}; only dead or failed deliveries "
                    "can be requeued"
                )
            record = _record(row)
            add_audit(
                session,
                "delivery.requeued",
                actor=actor,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={"alert_id": record.alert_id, "provider": record.provider},
            )
        return record

    def get(self, delivery_id: str) -> DeliveryRecord | None:
        with self._db.session() as session:
            row = session.execute(
                select(*_RECORD_COLUMNS).where(DeliveryRow.id == delivery_id)
            ).one_or_none()
            return _record(row) if row is not None else None

    def list_for_workspace(
        self,
        workspace_id: str,
        status: DeliveryStatus | str | None = None,
        *,
        limit: int | None = None,
    ) -> list[DeliveryView]:
        """Most recently updated first."""
        query = (
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
            )
            .join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
            .outerjoin(TicketLinkRow, TicketLinkRow.delivery_id == DeliveryRow.id)
            .where(DeliveryRow.workspace_id == workspace_id)
            .order_by(DeliveryRow.updated_at.desc(), DeliveryRow.id)
            .limit(limit)
        )
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
                )
                for row in session.execute(query)
            ]

    def next_due_at(self) -> datetime | None:
        """When the earliest delivery becomes claimable (possibly in the past), or None."""
        waiting = select(func.min(DeliveryRow.available_at)).where(
            DeliveryRow.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)),
            _provider_enabled(DeliveryRow),
        )
        leased = select(func.min(DeliveryRow.lease_until)).where(
            DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value, _provider_enabled(DeliveryRow)
        )
        with self._db.session() as session:
            times = [session.scalar(waiting), session.scalar(leased)]
        present = [moment for moment in times if moment is not None]
        return min(present) if present else None

    def count_by_status(self, workspace_id: str | None = None) -> dict[DeliveryStatus, int]:
        query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        if workspace_id is not None:
            query = query.where(DeliveryRow.workspace_id == workspace_id)
        counts = dict.fromkeys(DeliveryStatus, 0)
        with self._db.session() as session:
            for status, count in session.execute(query):
                counts[DeliveryStatus(status)] = count
        return counts
