"""The plans of the queries whose cost must not grow with the tables: the claim, the ingest's
duplicate lookup and the lists, on N alerts with N deliveries pending (default 100,000).

Each query is the statement the code sends (captured at the cursor, then explained with the
same parameters): SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) in a
transaction that is rolled back (the claim is an UPDATE).
SQLite runs without statistics (it never has any here); PostgreSQL after ANALYZE, as autovacuum
leaves a table that grew (--no-analyze: right after the load, before autovacuum came round).
Usage: .venv/bin/python bench/plans.py [--count N] [--db sqlite|postgres|both] [--no-analyze]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from backlog import T0, bench_settings, fill
from benchconfig import bench_provider_config
from sqlalchemy import Engine, event, func, select

from sentineliq.services.context import AppContext
from sentineliq.services.providers import configure
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.tables import AlertRow, DeliveryRow
from sentineliq.storage.workspaces import WorkspaceRepository


class _Captured(Exception):  # a signal that stops the statement, not an error
    pass


@contextmanager
def _capturing(engine: Engine, containing: str) -> Iterator[list[tuple[str, Any]]]:
    """Stops the first statement containing `containing` at the cursor and keeps it with its
    parameters (the ones before it run)."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "SELECT 1")):
            return
        if containing not in statement:
            return
        seen.append((statement, parameters))
        raise _Captured

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def explain(database: Database, run: Callable[[], object], containing: str = "") -> list[str]:
    """The plan of the first statement `run` sends that contains `containing`."""
    with _capturing(database.engine, containing) as seen:
        try:
            run()
        except Exception:  # _Captured arrives wrapped by SQLAlchemy
            if not seen:
                raise
    statement, parameters = seen[0]
    prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        connection.rollback()
    if database.is_sqlite:
        return [f"{'  ' * _depth(rows, row)}{row[-1]}" for row in rows]
    return [str(row[0]) for row in rows]


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def main(count: int, kinds: list[str], no_analyze: bool) -> None:
    for kind in kinds:
        show_plans(kind, count, analyze=kind == "postgres" and not no_analyze)


def show_plans(kind: str, count: int, analyze: bool) -> None:
    with bench_settings(kind) as settings, AppContext.open(settings) as app:
        workspace = WorkspaceRepository(app.db).create("bench")
        configure(
            app, workspace.id, "jira", bench_provider_config("https://b.atlassian.net"),
            actor="bench",
        )  # fmt: skip
        fill(app.db, workspace.id, count, status="pending", analyze_after=analyze)
        deliveries = DeliveryRepository(app.db)
        alerts = AlertRepository(app.db)
        now = T0 + timedelta(days=30)
        one_alert = deliveries.list_for_workspace(workspace.id, limit=1)[0].alert_id
        prints = [f"fill-{n}" for n in range(0, count, max(1, count // 500))][:500]
        queries: dict[str, Callable[[], object]] = {
            "claim (5 due of all pending)": lambda: deliveries.claim_due(
                "plan", limit=5, lease_seconds=60, now=now
            ),
            "next due": deliveries.next_due_at,
            "ingest duplicate lookup (500 fingerprints)": lambda: _dedup(
                app.db, workspace.id, prints
            ),
            "ingest's storm guard count (a provider's creates in its window)": lambda: _storm(
                app.db, workspace.id, now
            ),
            "deliveries list, first page of 200": lambda: deliveries.list_for_workspace(
                workspace.id, limit=200
            ),
            "deliveries list, dead letters only (none among the pending), first page of 200": (
                lambda: deliveries.list_for_workspace(workspace.id, "dead", limit=200)
            ),
            "deliveries of one alert (its page)": lambda: deliveries.list_for_workspace(
                workspace.id, alert_id=one_alert
            ),
            "audit log, first page of 100": lambda: AuditRepository(app.db).list(
                workspace.id, limit=100
            ),
            "alerts list, first page of 100": lambda: alerts.list_for_workspace(
                workspace.id, limit=100
            ),
        }
        stats = "with" if analyze else "without"
        print(f"== {kind}: {count} alerts, {count} deliveries pending, {stats} ANALYZE ==")
        for name, run in queries.items():
            print(f"-- {name}")
            # The claim and next_due_at first read the active providers.
            containing = (
                "lease_until" if name in ("claim (5 due of all pending)", "next due") else ""
            )
            for line in explain(app.db, run, containing):
                # The duplicate lookup's 500 values make lines of kilobytes.
                print(f"   {line[:200]}{' ...' if len(line) > 200 else ''}")


def _storm(database: Database, workspace_id: str, now: datetime) -> object:
    # What every ingest batch counts per provider (storage/alerts.py `_enabled_providers`).
    with database.session() as session:
        return session.execute(
            select(DeliveryRow.status, func.count())
            .where(
                DeliveryRow.workspace_id == workspace_id,
                DeliveryRow.provider == "jira",
                DeliveryRow.operation == "create_issue",
                DeliveryRow.created_at >= now - timedelta(minutes=10),
            )
            .group_by(DeliveryRow.status)
        ).all()


def _dedup(database: Database, workspace_id: str, prints: list[str]) -> object:
    # The lookup ingest makes per batch: the stored alerts among the batch's fingerprints.
    with database.session() as session:
        return session.execute(
            select(AlertRow.id, AlertRow.fingerprint).where(
                AlertRow.workspace_id == workspace_id, AlertRow.fingerprint.in_(prints)
            )
        ).all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--no-analyze", action="store_true", help="no ANALYZE on PostgreSQL")
    args = parser.parse_args()
    main(args.count, ["sqlite", "postgres"] if args.db == "both" else [args.db], args.no_analyze)
