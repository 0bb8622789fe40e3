"""Lease and claim: which deliveries are due, and leasing them to workers in one statement.

A lease is the worker's licence to report on a delivery (see `transitions`). `worker_id` must be
unique per claimant (e.g. host:pid:thread). Once a lease expires the row may be claimed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from sentineliq.outbox import DeliveryStatus
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
from sentineliq.storage.tables import (
    LEASED_STATUS,
    WAITING_STATUSES,
    AlertRow,
    DeliveryRow,
    TicketProviderRow,
)
from sentineliq.storage.types import utcnow

Candidate = type[DeliveryRow] | AliasedClass[DeliveryRow]


def is_waiting(delivery: Candidate) -> ColumnElement[bool]:
    """Waiting (pending, or failed awaiting its retry): the rows of the waiting partial index.
    Literal values, not parameters: the planners match them to the index's predicate."""
    return delivery.status.in_([literal_column(f"'{status}'") for status in WAITING_STATUSES])


def is_leased(delivery: Candidate) -> ColumnElement[bool]:
    """In flight: the rows of the leased partial index (claimable once lease_until passed)."""
    return delivery.status == literal_column(f"'{LEASED_STATUS}'")


def _provider_active(delivery: Candidate) -> ColumnElement[bool]:
    """Deliveries wait while their provider is disabled or paused (after an auth failure).

    A scalar subquery, checked per row as the index is read, rather than EXISTS: PostgreSQL
    turns EXISTS into a join, and without statistics (a table autovacuum has not analyzed yet)
    joins from the providers into (workspace_id, status, ...) and sorts every due row.
    """
    return (
        select(literal_column("1"))
        .where(
            TicketProviderRow.workspace_id == delivery.workspace_id,
            TicketProviderRow.provider == delivery.provider,
            TicketProviderRow.is_enabled.is_(True),
            TicketProviderRow.paused_at.is_(None),
        )
        .scalar_subquery()
        .is_not(None)
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
        is_waiting(delivery),
        delivery.available_at <= now,
        delivery.reconcile_until.is_(None),
        _provider_active(delivery),
    )


# Up to this many enabled providers, waiting rows are read per provider (see `due_ids`). Beyond
# it (SQLite allows 500 terms in a compound SELECT) one filtered branch reads and sorts every
# due row, as the claim did before it had these indexes.
PER_PROVIDER_BRANCHES = 400


def active_providers(session: Session) -> list[tuple[str, str]]:
    """(workspace, provider) of every provider whose deliveries may go: enabled, not paused."""
    rows = session.execute(
        select(TicketProviderRow.workspace_id, TicketProviderRow.provider)
        .where(TicketProviderRow.is_enabled.is_(True), TicketProviderRow.paused_at.is_(None))
        .order_by(TicketProviderRow.workspace_id, TicketProviderRow.provider)
    )
    return [(workspace, provider) for workspace, provider in rows]


def _waiting(
    now: datetime | None, limit: int, provider: tuple[str, str] | None, *, lock: bool
) -> Select[str, datetime]:
    """Waiting due rows in claim order, `limit` at most: of one provider (an index range of
    the waiting partial index), or of every active one (every due row read and sorted)."""
    waiting = aliased(DeliveryRow)
    if provider is None:
        scope = _provider_active(waiting)
    else:
        scope = and_(waiting.workspace_id == provider[0], waiting.provider == provider[1])
    due = waiting.available_at <= now if now is not None else true()
    rows = (
        select(waiting.id, waiting.available_at)
        .where(scope, is_waiting(waiting), due)
        .order_by(waiting.available_at, waiting.id)
        .limit(limit)
    )
    return rows.with_for_update(skip_locked=True, of=waiting) if lock else rows


def due_ids(now: datetime, limit: int, active: Sequence[tuple[str, str]]) -> Select[tuple[str]]:
    """The ids of up to `limit` due deliveries of the `active` providers, oldest first.

    Branches, each an ordered index range cut at `limit`: the waiting rows of each active
    provider by available_at, and the in-flight rows whose lease expired by lease_until (few:
    only a crashed worker's). Rows of a paused or disabled provider are never read, so a
    backlog of theirs neither hides due rows nor costs a claim anything. On PostgreSQL each
    branch locks its rows FOR UPDATE SKIP LOCKED before its LIMIT: rows another worker is
    claiming are passed over, never allowed to fill a branch. The union's `limit` oldest are
    claimed; the other locked rows are free again when the claim's transaction ends.
    """
    scopes: list[tuple[str, str] | None] = list(active)
    if len(scopes) > PER_PROVIDER_BRANCHES:
        scopes = [None]
    branches = [
        _waiting(now, limit, scope, lock=True).cte(f"waiting_{number}")
        for number, scope in enumerate(scopes)
    ]
    leased = aliased(DeliveryRow)
    expired = (
        select(leased.id, leased.available_at)
        .where(is_leased(leased), leased.lease_until < now, _provider_active(leased))
        .order_by(leased.lease_until, leased.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=leased)
        .cte("expired_leases")
    )
    due = union_all(*(select(branch) for branch in branches), select(expired)).subquery("due")
    return select(due.c.id).order_by(due.c.available_at, due.c.id).limit(limit)


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
        statement under its database write lock. The due rows are read from partial indexes in
        their order, `limit` at most per provider (see `due_ids`), so a claim costs the same
        however long the backlog; two statements (the active providers, then the claim).
        """
        if limit <= 0:
            return []
        now = now or utcnow()
        statement = (
            update(DeliveryRow)
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
            active = active_providers(session)
            if not active:
                return []
            statement = statement.where(DeliveryRow.id.in_(due_ids(now, limit, active)))
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
        Each part is the head of an index range, as in the claim.
        """
        with self._db.session() as session:
            active = active_providers(session)
            if not active:
                return None
            scopes: list[tuple[str, str] | None] = list(active)
            if len(scopes) > PER_PROVIDER_BRANCHES:
                scopes = [None]
            heads = [_waiting(None, 1, scope, lock=False).subquery() for scope in scopes]
            leased = aliased(DeliveryRow)
            expiry = (
                select(leased.lease_until)
                .where(is_leased(leased), _provider_active(leased))
                .order_by(leased.lease_until, leased.id)
                .limit(1)
                .subquery()
            )
            times = union_all(
                *(select(head.c.available_at.label("at")) for head in heads),
                select(expiry.c.lease_until.label("at")),
            ).subquery()
            earliest: datetime | None = session.scalar(select(func.min(times.c.at)))
            return earliest

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
