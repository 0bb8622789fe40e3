"""Lease and claim: which deliveries are due, and leasing them to workers in one statement.

A lease is the worker's licence to report on a delivery (see `transitions`). `worker_id` must be
unique per claimant (e.g. host:pid:thread). Once a lease expires the row may be claimed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from sentineliq.outbox import RULES, DeliveryStatus, EventKind
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.enqueue import enqueue as queue_next
from sentineliq.storage.deliveries.records import (
    CREATE_ISSUE,
    RECORD_COLUMNS,
    DeliveryRecord,
    record_from_row,
    record_of,
)
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import AlertRow, DeliveryRow, TicketProviderRow
from sentineliq.storage.types import utcnow

# Claimable when due: waiting ones (pending, failed) and in-flight ones whose lease expired.
_WAITING = tuple(
    s.value for s in sorted(RULES[EventKind.CLAIMED].sources - {DeliveryStatus.IN_FLIGHT})
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


def _fresh_creates(
    delivery: type[DeliveryRow] | AliasedClass[DeliveryRow],
    workspace_id: str,
    provider: str,
    now: datetime,
) -> ColumnElement[bool]:
    """Due creates of one provider that may go into a bulk call: waiting, and without the
    "possibly sent" marker (a delivery that carries it reconciles first)."""
    return and_(
        delivery.workspace_id == workspace_id,
        delivery.provider == provider,
        delivery.operation == CREATE_ISSUE,
        delivery.status.in_(_WAITING),
        delivery.available_at <= now,
        delivery.reconcile_until.is_(None),
        _provider_active(delivery),
    )


class ClaimMixin:
    _db: Database

    def enqueue(
        self, alert_id: str, provider: str, *, operation: str, actor: str
    ) -> DeliveryRecord:
        """Queue `operation` for an alert at one of its workspace's providers, due now.

        Ingestion queues "create_issue" itself; this is for other operation kinds, numbered after
        the alert's earlier deliveries of that kind (NotFoundError for an unknown alert)."""
        now = utcnow()
        with self._db.session() as session:
            workspace_id = session.scalar(
                select(AlertRow.workspace_id).where(AlertRow.id == alert_id)
            )
            if workspace_id is None:
                raise NotFoundError(f"alert {alert_id} not found")
            row = queue_next(
                session,
                alert_id=alert_id,
                workspace_id=workspace_id,
                provider=provider,
                operation=operation,
                payload={},
                now=now,
            )
            add_audit(
                session,
                "delivery.queued",
                actor=actor,
                workspace_id=workspace_id,
                target=f"delivery:{row.id}",
                details={"alert_id": alert_id, "provider": provider, "operation": operation},
            )
            session.flush()
            return record_of(row)

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
                candidate.status.in_(_WAITING),
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
            .returning(*RECORD_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as session:
            claimed = [record_from_row(row) for row in session.execute(statement)]
        return sorted(claimed, key=lambda record: (record.available_at, record.id))

    # --- bulk creates (delivery/bulk.py) -------------------------------------------------------

    def count_due_creates(
        self, workspace_id: str, provider: str, *, cap: int, now: datetime | None = None
    ) -> int:
        """How many fresh creates (see `claim_fresh_creates`) are due for one provider, counted
        up to `cap`: the question is only whether the backlog exceeds a threshold, so a backlog
        of 100k costs what one of `cap` does."""
        now = now or utcnow()
        head = (
            select(DeliveryRow.id)
            .where(_fresh_creates(DeliveryRow, workspace_id, provider, now))
            .limit(max(cap, 0))
            .subquery()
        )
        with self._db.session() as session:
            return int(session.scalar(select(func.count()).select_from(head)) or 0)

    def claim_fresh_creates(
        self,
        worker_id: str,
        *,
        workspace_id: str,
        provider: str,
        limit: int,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[DeliveryRecord]:
        """Lease up to `limit` due creates of one provider, oldest first, in one statement, as
        `claim_due` does. Fresh: waiting (pending or failed), never possibly sent (no
        reconcile marker: those reconcile by label first, through `claim_due`)."""
        if limit <= 0:
            return []
        now = now or utcnow()
        candidate = aliased(DeliveryRow)
        chosen = (
            select(candidate.id)
            .where(_fresh_creates(candidate, workspace_id, provider, now))
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
            .returning(*RECORD_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as session:
            claimed = [record_from_row(row) for row in session.execute(statement)]
        return sorted(claimed, key=lambda record: (record.available_at, record.id))

    def next_due_at(self) -> datetime | None:
        """When the earliest delivery becomes claimable (possibly in the past), or None.

        Deliveries of disabled or paused providers are not counted: they wait indefinitely.
        """
        waiting = select(func.min(DeliveryRow.available_at)).where(
            DeliveryRow.status.in_(_WAITING),
            _provider_active(DeliveryRow),
        )
        leased = select(func.min(DeliveryRow.lease_until)).where(
            DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value, _provider_active(DeliveryRow)
        )
        with self._db.session() as session:
            times = [session.scalar(waiting), session.scalar(leased)]
        present = [moment for moment in times if moment is not None]
        return min(present) if present else None

    def leased_to(self, worker_id: str) -> list[DeliveryRecord]:
        """The deliveries the database says are leased to `worker_id` (expired leases too)."""
        with self._db.session() as session:
            return [
                record_from_row(row)
                for row in session.execute(
                    select(*RECORD_COLUMNS)
                    .where(
                        DeliveryRow.status == DeliveryStatus.IN_FLIGHT.value,
                        DeliveryRow.claimed_by == worker_id,
                    )
                    .order_by(DeliveryRow.available_at, DeliveryRow.id)
                )
            ]
