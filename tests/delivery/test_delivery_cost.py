"""What a delivery costs the database in steady state: transactions and statements, counted at the
engine (SQLAlchemy events) on SQLite and PostgreSQL. Steady state: the provider is open, Jira's
metadata cached, the site's budget row exists and has room."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from delivery_harness import Pipeline
from sqlalchemy import Engine, event

BATCH = 5


@dataclass
class Tally:
    transactions: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def counting(engine: Engine) -> Iterator[Tally]:
    tally = Tally()

    def began(_connection: Any) -> None:
        tally.transactions += 1

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            tally.statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield tally
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "begin", began)


def test_a_delivery_costs_two_transactions_in_steady_state(pipeline: Pipeline) -> None:
    pipeline.ingest(2 * BATCH)
    worker = pipeline.worker(batch_size=BATCH)
    try:
        assert worker.run_once() == BATCH  # opens the provider, fills its caches, the budget row
        with counting(pipeline.app.db.engine) as tally:
            assert worker.run_once() == BATCH
    finally:
        worker.close()
    assert worker.stats.delivered == 2 * BATCH
    assert len(pipeline.sandbox.issues()) == 2 * BATCH
    # The batch's claim reads its alerts and its providers' config versions in the same
    # transaction; then each delivery takes its budget token with its "possibly sent" marker,
    # and records its outcome. Before: 5 per delivery (config, alert, token, marker, outcome).
    assert tally.transactions == 1 + 2 * BATCH
    # The claim: the active providers, the UPDATE, the alerts with their evidence and links,
    # the config versions. Per delivery: the budget row (read locked, written), the marker, and
    # the outcome (row, attempt, audit entry, ticket link, the comments that waited for it).
    claim = tally.statements[:6]
    assert claim[1] in {"UPDATE", "WITH"}
    assert claim[:1] + claim[2:] == ["SELECT"] * 5
    assert len(tally.statements) - len(claim) <= 9 * BATCH
