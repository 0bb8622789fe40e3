"""Gathering repeats into comment deliveries: every repeat is reported by exactly one of them,
also while an older one waits for its ticket and a newer one is on its way (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle_harness import Lifecycle, alert
from sqlalchemy import select

from sentineliq.outbox import Waiting
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.deliveries.enqueue import REPORT_OCCURRENCES
from sentineliq.storage.tables import DeliveryRow

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LATER = datetime.now(UTC) + timedelta(days=1)  # everything queued "now" is due by then


def _reports(life: Lifecycle) -> list[tuple[int, str, int, int]]:
    with life.app.db.session() as session:
        rows = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.operation == REPORT_OCCURRENCES)
            .order_by(DeliveryRow.sequence)
        ).all()
        return [(r.sequence, r.status, r.payload["first_seq"], r.payload["last_seq"]) for r in rows]


def test_a_repeat_joins_only_the_newest_report_and_never_one_that_may_have_gone(
    life: Lifecycle,
) -> None:
    life.ingest(alert("fp-r", at=T0))
    life.work()
    deliveries = DeliveryRepository(life.app.db)
    life.ingest(alert("fp-r", at=T0 + timedelta(minutes=1)))  # repeat 1: report R0
    (r0,) = deliveries.claim_due("w1", limit=10, lease_seconds=60, now=LATER)
    life.ingest(alert("fp-r", at=T0 + timedelta(minutes=2)))  # R0 is taken: R1 (repeat 2)
    # R0 goes back to waiting untried (as when its ticket was not filed yet) ...
    waiting = Waiting(LATER + timedelta(days=1), "waiting for the ticket")
    deliveries.record(r0.id, "w1", waiting, now=LATER)
    # ... while R1 is taken up; repeat 3 must join neither.
    # (R1 is due a comment window after R0 was taken up.)
    after_window = LATER + timedelta(hours=1)
    (r1,) = deliveries.claim_due("w2", limit=10, lease_seconds=60, now=after_window)
    assert r1.sequence == 1
    life.ingest(alert("fp-r", at=T0 + timedelta(minutes=3)))
    assert _reports(life) == [(0, "pending", 1, 1), (1, "in_flight", 2, 2), (2, "pending", 3, 3)]
    # A newest report not yet taken up takes the next repeat.
    life.ingest(alert("fp-r", at=T0 + timedelta(minutes=4)))
    assert _reports(life)[-1] == (2, "pending", 3, 4)
