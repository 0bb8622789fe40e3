"""Concurrent batches that repeat the same alerts in opposite orders: every repeat is recorded
once, none is lost, and no batch fails (issue 10)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_harness import Lifecycle, alert
from sqlalchemy import func, select

from sentineliq.storage.tables import AlertOccurrenceRow, AlertRow

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PROBLEMS = [f"fp-c-{n}" for n in range(10)]
ROUNDS = 5


def test_batches_repeating_alerts_in_opposite_orders_lose_nothing(life: Lifecycle) -> None:
    life.ingest(*(alert(fp, at=T0) for fp in PROBLEMS))
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def send(order: list[str], minute: int) -> None:
        try:
            start.wait(timeout=30)
            for round_ in range(ROUNDS):
                at = T0 + timedelta(minutes=minute, seconds=round_)
                life.ingest(*(alert(fp, at=at) for fp in order))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=send, args=(PROBLEMS, 1)),
        threading.Thread(target=send, args=(list(reversed(PROBLEMS)), 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        pytest.fail(f"a batch failed: {errors[0]!r}")
    with life.app.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(AlertOccurrenceRow))
        counts = set(session.scalars(select(AlertRow.occurrence_count)))
    assert stored == 2 * ROUNDS * len(PROBLEMS)
    assert counts == {2 * ROUNDS}
