"""The storm guard's held deliveries: listed, released (filed after all) or discarded, in bulk.

Holding happens at ingest (a new ticket past the threshold is queued as "held"); releasing and
discarding are operator events of the outbox's table, audited one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update

from sentineliq.outbox import DeliveryStatus, Discarded, Event, Unheld
from sentineliq.storage.deliveries.records import DeliveryRecord, record_of
from sentineliq.storage.deliveries.transitions import TransitionMixin
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import DeliveryRow
from sentineliq.storage.types import utcnow


class HoldMixin(TransitionMixin):
    def count_held(self, workspace_id: str) -> int:
        with self._db.session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(DeliveryRow)
                    .where(
                        DeliveryRow.workspace_id == workspace_id,
                        DeliveryRow.status == DeliveryStatus.HELD.value,
                    )
                )
                or 0
            )

    def release_held(
        self, workspace_id: str, ids: Sequence[str] | None, *, actor: str
    ) -> list[DeliveryRecord]:
        """File held tickets after all: the given ones (all of them with None), oldest first."""
        return self._settle_held(workspace_id, ids, actor, Unheld())

    def discard_held(
        self, workspace_id: str, ids: Sequence[str] | None, *, actor: str
    ) -> list[DeliveryRecord]:
        """Never file these held tickets; their alerts stay, and keep counting repeats."""
        return self._settle_held(workspace_id, ids, actor, Discarded())

    def _settle_held(
        self, workspace_id: str, ids: Sequence[str] | None, actor: str, event: Event
    ) -> list[DeliveryRecord]:
        now = utcnow()
        query = (
            select(DeliveryRow)
            .where(
                DeliveryRow.workspace_id == workspace_id,
                DeliveryRow.status == DeliveryStatus.HELD.value,
            )
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
            .with_for_update()
        )
        if ids is not None:
            query = query.where(DeliveryRow.id.in_(list(ids)))
        with self._db.session() as session:
            rows = list(session.scalars(query))
            if ids is not None:
                missing = sorted(set(ids) - {row.id for row in rows})
                if missing:
                    raise NotFoundError(
                        "not held in this workspace (unknown, or released or discarded "
                        f"already): {', '.join(missing)}"
                    )
            changed = []
            for row in rows:
                before = record_of(row)
                if isinstance(event, Unheld):
                    # Time held is time waiting for an operator, like a pause: it does not
                    # count toward the maximum age.
                    held_s = max(0.0, (now - row.created_at).total_seconds())
                    session.execute(
                        update(DeliveryRow)
                        .where(DeliveryRow.id == row.id)
                        .values(paused_seconds=DeliveryRow.paused_seconds + held_s)
                        .execution_options(synchronize_session=False)
                    )
                changed.append(
                    self._transition(session, row.id, actor, [event], now=now, before=before)
                )
            return changed
