"""What the growth and plan benches share: a throwaway database of either kind, and a backlog of
alerts and deliveries written with Core (the path under test is not the one that fills it).

PostgreSQL: SENTINELIQ_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
each run gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from sentineliq.demo.run import demo_settings
from sentineliq.settings import Settings
from sentineliq.storage.db import Database
from sentineliq.storage.tables import AlertRow, DeliveryRow

PG_URL = os.environ.get(
    "SENTINELIQ_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A day before the run: older than what the bench ingests, so the backlog is delivered first,
# and within the default maximum age (72 h). A fixed date aged out three days after it was
# written, and the worker then dead-lettered the backlog instead of delivering it.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
CHUNK = 5000


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def bench_settings(kind: str) -> Iterator[Settings]:
    """Settings on a fresh SQLite file ("sqlite") or a fresh PostgreSQL schema ("postgres")."""
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        settings = demo_settings(data_dir)
        if kind == "postgres":
            with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
            settings = replace(settings, database_url=url.render_as_string(hide_password=False))
        yield settings
    finally:
        if kind == "postgres":
            with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(data_dir, ignore_errors=True)


def fill(
    database: Database,
    workspace_id: str,
    count: int,
    *,
    status: str = "delivered",
    provider: str = "jira",
    prefix: str = "fill",
    analyze_after: bool = False,
    payload: dict[str, Any] | None = None,
) -> None:
    """`count` alerts with one delivery each in `status`, due since T0 (a few hundred share each
    second, as ingest batches do). With `payload` (a stored alert's) their tickets can be filed;
    without, the alerts are rows for the queries to wade through, not alerts to deliver."""
    for start in range(0, count, CHUNK):
        alerts, deliveries = [], []
        for n in range(start, min(count, start + CHUNK)):
            alert_id, at = str(uuid.uuid4()), T0 + timedelta(seconds=n // 300)
            alerts.append(
                {
                    "id": alert_id, "workspace_id": workspace_id, "fingerprint": f"{prefix}-{n}",
                    "module": "aegis", "title": f"Alert {n}", "severity": "high",
                    "status": "new", "source": "bench", "detected_at": at, "description": "",
                    "affected_assets": [], "tags": [], "payload": payload or {}, "created_at": at,
                    "ingest_warnings": [],
                }
            )  # fmt: skip
            deliveries.append(
                {
                    "id": str(uuid.uuid4()), "alert_id": alert_id, "workspace_id": workspace_id,
                    "provider": provider, "status": status, "attempts": 0, "available_at": at,
                    "created_at": at, "updated_at": at, "idempotency_key": uuid.uuid4().hex,
                    "dropped_fields": [], "operation": "create_issue", "sequence": 0,
                    "payload": {},
                }
            )  # fmt: skip
        with database.session() as session:
            session.execute(insert(AlertRow), alerts)
            session.execute(insert(DeliveryRow), deliveries)
    if analyze_after:
        analyze(database)


def analyze(database: Database) -> None:
    """Fresh planner statistics after a bulk load, as an operator's autovacuum would have."""
    with database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
