"""Replay: an operator requeues dead (or scheduled) deliveries with a fresh attempt budget."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentineliq.outbox import DeliveryStatus, IllegalTransitionError, Replayed, next_status
from sentineliq.storage.deliveries.records import DeliveryRecord, record_of
from sentineliq.storage.deliveries.transitions import TransitionMixin
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.tables import DeliveryRow, TicketLinkRow
from sentineliq.storage.types import utcnow


class ReplayMixin(TransitionMixin):
    def _replay(
        self, session: Session, row: DeliveryRow, actor: str, now: datetime
    ) -> DeliveryRecord:
        # The idempotency key and reconcile_until stay: if an earlier create may have landed
        # unseen, the worker searches first and waits out the rest of the search-lag window.
        before = record_of(row)
        return self._transition(session, row.id, actor, [Replayed()], now=now, before=before)

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
            try:
                next_status(DeliveryStatus(row.status), Replayed.kind)
            except IllegalTransitionError:
                raise InvalidStateError(self._why_not(session, row)) from None
            return self._replay(session, row, actor, now)

    @staticmethod
    def _why_not(session: Session, row: DeliveryRow) -> str:
        if row.status == DeliveryStatus.DELIVERED.value:
            key = session.scalar(
                select(TicketLinkRow.issue_key).where(TicketLinkRow.delivery_id == row.id)
            )
            return (
                f"delivery {row.id} is delivered already"
                + (f" ({key})" if key else "")
                + "; replaying it would file a second ticket"
            )
        return f"delivery {row.id} is {row.status}; only dead or failed deliveries can be requeued"

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
            return [self._replay(session, row, actor, now) for row in rows]
