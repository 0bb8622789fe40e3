"""Issue 9: a lost database connection is an event. Workers keep the outcome they hold, record it
when the database answers again and hand back their other leases, so nothing waits for a lease
to expire.

PostgreSQL only: the workers connect as a role of their own; the test takes its right to log in
away and terminates its backends (from a separate connection), then gives it back. Other
sessions on the server are untouched.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from delivery_harness import FAST, Pipeline
from sqlalchemy.engine import make_url

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.ratelimit import LocalRateLimiter
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

# Leases far longer than the test may take: a delivery left to wait for one never arrives.
LONG_LEASE = replace(FAST, lease_s=600.0)
CREATE = "/rest/api/3/issue"
ALERTS = 30


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


class WorkerRole:
    """A PostgreSQL role for the workers, whose connections the test can cut and refuse."""

    def __init__(self, pg_url: str) -> None:
        url = make_url(pg_url)
        self.name = f"siq_worker_{uuid.uuid4().hex[:12]}"
        self.schema = url.query["options"].removeprefix("-csearch_path=")  # type: ignore[union-attr]
        self.url = url.set(username=self.name).render_as_string(hide_password=False)
        self._admin = psycopg.connect(
            url.set(drivername="postgresql")
            .difference_update_query(["options"])
            .render_as_string(hide_password=False),
            autocommit=True,
        )

    def create(self) -> None:
        self._sql(f'CREATE ROLE "{self.name}" LOGIN')
        self._sql(f'GRANT USAGE ON SCHEMA "{self.schema}" TO "{self.name}"')
        self._sql(f'GRANT ALL ON ALL TABLES IN SCHEMA "{self.schema}" TO "{self.name}"')
        self._sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{self.schema}" TO "{self.name}"')

    def cut(self) -> None:
        """Refuse new connections, then terminate the role's backends: the database is gone."""
        self._sql(f'ALTER ROLE "{self.name}" NOLOGIN')
        self._sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
            self.name,
        )

    def restore(self) -> None:
        self._sql(f'ALTER ROLE "{self.name}" LOGIN')

    def drop(self) -> None:
        self.cut()
        self._sql(f'DROP OWNED BY "{self.name}"')
        self._sql(f'DROP ROLE "{self.name}"')
        self._admin.close()

    def _sql(self, statement: str, *args: str) -> None:
        self._admin.execute(statement, args or None)  # type: ignore[arg-type]


@pytest.fixture
def role(pg_url: str) -> Iterator[WorkerRole]:
    made = WorkerRole(pg_url)
    try:
        yield made
    finally:
        made.drop()


@pytest.mark.postgres
def test_cut_connections_mid_run_deliver_each_alert_once_without_waiting_for_leases(
    tmp_path: Path, pg_url: str, sandbox: JiraSandbox, role: WorkerRole
) -> None:
    # A generous request timeout: the slow create below must be answered, not time out.
    config = {**sandbox_provider_config(sandbox.url), "timeout_s": 60.0}
    pipeline = Pipeline.open(tmp_path, pg_url, sandbox, LONG_LEASE, provider_config=config)
    role.create()
    databases: list[Database] = []
    try:
        pipeline.ingest(ALERTS)
        # The first create is held 5 s after Jira stored the issue: the database is cut while
        # its worker waits for the answer, so that worker has an outcome and nowhere to put it.
        sandbox.set_fault("slow", delay_s=5.0, count=1, method="POST", path=CREATE)
        workers: list[Worker] = []
        for number in range(3):
            database = Database(role.url)
            databases.append(database)
            app = replace(pipeline.app, db=database)
            workers.append(
                Worker(
                    replace(app, settings=replace(app.settings, delivery=LONG_LEASE)),
                    worker_id=f"w{number}",
                    limiter=LocalRateLimiter(rate=LONG_LEASE.rate_per_s),
                )
            )
        stop = threading.Event()
        threads = [
            threading.Thread(target=w.run, kwargs={"stop": stop, "poll_interval": 0.05})
            for w in workers
        ]
        for thread in threads:
            thread.start()
        try:
            _wait_for(lambda: len(sandbox.issues()) >= 1, "the first create reached Jira")
            role.cut()
            _wait_for(lambda: sum(w.stats.held for w in workers) >= 1, "an outcome was held")
            role.restore()
            repo = DeliveryRepository(pipeline.app.db)
            _wait_for(
                lambda: (
                    repo.count_by_status(pipeline.workspace_id)[DeliveryStatus.DELIVERED] == ALERTS
                ),
                "every alert was delivered (a lease left to expire would take 600 s)",
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        pipeline.assert_exactly_once(ALERTS)
        assert len(sandbox.issues()) == ALERTS
        creates = [r for r in sandbox.requests() if r.method == "POST" and r.path == CREATE]
        assert len(creates) == ALERTS  # nothing was sent twice
        assert sum(w.stats.recorded_late for w in workers) >= 1
        # The held outcome was recorded as the create it was, not found again by a search.
        assert "adopted" not in pipeline.outcomes()
        handed_back = [o for o in pipeline.outcomes() if o == "released"]
        assert len(handed_back) == sum(w.stats.handed_back for w in workers)
    finally:
        for database in databases:
            database.dispose()
        pipeline.close()
