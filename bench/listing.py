"""Delivery lists as the backlog grows: one page (the panel's and API's 200 rows, the CLI's
default) and a full `--all` walk, with N deliveries stored in one workspace.

Prints the page time, the walk's time and peak Python memory, and SQLite's plan for the page
query. Usage: .venv/bin/python bench/listing.py [N ...]   (default: 1000 100000)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchconfig import bench_provider_config
from sqlalchemy import insert, text

from sentineliq.demo.run import demo_settings
from sentineliq.services.context import AppContext
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.tables import AlertRow, DeliveryRow
from sentineliq.storage.workspaces import WorkspaceRepository

T0 = datetime(2026, 12, 1, tzinfo=UTC)
PAGE = 200


def fill(app: AppContext, workspace_id: str, count: int) -> None:
    """`count` alerts with one delivery each, written with Core (the ingest path is not measured
    here); update times spread over a day, a few hundred sharing each second, as batches do."""
    alerts, deliveries = [], []
    for n in range(count):
        alert_id, at = str(uuid.uuid4()), T0 + timedelta(seconds=n // 300)
        alerts.append(
            {
                "id": alert_id, "workspace_id": workspace_id, "fingerprint": f"fp-{n}",
                "module": "aegis", "title": f"Alert {n}", "severity": "high", "status": "new",
                "source": "bench", "detected_at": at, "description": "", "affected_assets": [],
                "tags": [], "payload": {}, "created_at": at, "ingest_warnings": [],
            }
        )  # fmt: skip
        deliveries.append(
            {
                "id": str(uuid.uuid4()), "alert_id": alert_id, "workspace_id": workspace_id,
                "provider": "jira", "status": "delivered", "attempts": 1, "available_at": at,
                "created_at": at, "updated_at": at, "idempotency_key": uuid.uuid4().hex,
                "dropped_fields": [], "operation": "create_issue", "sequence": 0, "payload": {},
            }
        )  # fmt: skip
    with app.db.session() as session:
        for start in range(0, count, 5000):
            session.execute(insert(AlertRow), alerts[start : start + 5000])
            session.execute(insert(DeliveryRow), deliveries[start : start + 5000])


def main(counts: list[int]) -> None:
    for count in counts:
        data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
        try:
            with AppContext.open(demo_settings(data_dir)) as app:
                workspace = WorkspaceRepository(app.db).create("bench")
                config = bench_provider_config("https://bench.atlassian.net")
                configure(app, workspace.id, "jira", config, actor="bench")
                fill(app, workspace.id, count)
                repo = DeliveryRepository(app.db)
                repo.list_for_workspace(workspace.id, limit=PAGE)  # warm
                started = time.perf_counter()
                for _ in range(20):
                    repo.list_for_workspace(workspace.id, limit=PAGE)
                page_ms = (time.perf_counter() - started) / 20 * 1000
                tracemalloc.start()
                started = time.perf_counter()
                walked = sum(len(p) for p in repo.iter_for_workspace(workspace.id))
                walk_s = time.perf_counter() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                with app.db.engine.connect() as connection:
                    plan = connection.execute(
                        text(
                            "EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE workspace_id = :w "
                            "ORDER BY updated_at DESC, id DESC LIMIT 200"
                        ),
                        {"w": workspace.id},
                    ).all()
            print(f"deliveries stored:      {count}")
            print(f"one page of {PAGE}:        {page_ms:.1f} ms")
            print(
                f"--all walk:             {walked} in {walk_s:.2f} s, peak {peak / 2**20:.1f} MiB"
            )
            print("page plan (SQLite):     " + " | ".join(str(row[-1]) for row in plan))
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 100_000])
