"""A real pipeline for delivery tests: database, sandbox over HTTP, workspace, provider, alerts.

Workers run in-process (`Worker`) or as real `sentineliq worker` processes that can be killed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import DeliverySettings, Settings
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus, DeliveryView
from sentineliq.storage.workspaces import WorkspaceRepository

EXECUTABLE = str(Path(sys.executable).with_name("sentineliq"))

# Short waits so failure scenarios finish in seconds; the logic is the production logic.
FAST = DeliverySettings(
    retry_base_s=0.2,
    retry_cap_s=1.0,
    max_attempts=10_000,  # scenarios assert on outcomes, not on how many retries an outage took
    search_lag_s=4.0,
    reconcile_interval_s=0.5,
    lease_s=3.0,
    rate_per_s=200.0,
    # These scenarios count and fault single creates; bulk calls have their own (BULK below).
    bulk_threshold=0,
)
# The same with bulk creation at its default threshold (test_delivery_bulk.py), in one lane:
# those tests count bulk calls, and lanes would split a backlog between calls of their own.
BULK = replace(FAST, bulk_threshold=DeliverySettings().bulk_threshold, concurrency=1)
REQUEST_TIMEOUT_S = 3.0  # the provider's; a worker's lease covers it while a create is in flight

_ENV_NAMES = {
    "retry_base_s": "SENTINELIQ_RETRY_BASE_SECONDS",
    "retry_cap_s": "SENTINELIQ_RETRY_CAP_SECONDS",
    "max_attempts": "SENTINELIQ_MAX_ATTEMPTS",
    "max_age_s": "SENTINELIQ_MAX_AGE_SECONDS",
    "search_lag_s": "SENTINELIQ_SEARCH_LAG_SECONDS",
    "reconcile_interval_s": "SENTINELIQ_RECONCILE_INTERVAL_SECONDS",
    "lease_s": "SENTINELIQ_LEASE_SECONDS",
    "rate_per_s": "SENTINELIQ_RATE_LIMIT",
    "bulk_threshold": "SENTINELIQ_BULK_THRESHOLD",
    "concurrency": "SENTINELIQ_WORKER_CONCURRENCY",
}


def alerts_ndjson(count: int, prefix: str = "a") -> str:
    return "\n".join(
        json.dumps(
            {
                "title": f"Alert {prefix}-{number}",
                "severity": ["critical", "high", "medium", "low"][number % 4],
                "source": "EDR",
                "detected_at": "2026-11-27T08:00:00Z",
                "external_id": f"{prefix}-{number}",
                "tags": ["delivery-test"],
                "mitre": ["T1059.001"],
            }
        )
        for number in range(count)
    )


@dataclass
class Pipeline:
    app: AppContext
    sandbox: JiraSandbox
    workspace_id: str
    # Every worker made here, closed with the pipeline: a worker left to the garbage collector
    # leaks its keep-alive sockets into whichever later test the collection happens in.
    workers: list[Worker] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        tmp_path: Path,
        database_url: str,
        sandbox: JiraSandbox,
        delivery: DeliverySettings = FAST,
        provider_config: dict[str, Any] | None = None,
    ) -> Pipeline:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            secret_key=None,
            allow_private_targets=True,
            delivery=delivery,
        )
        app = AppContext.open(settings)
        workspace = WorkspaceRepository(app.db).create("SOC")
        config = provider_config or {
            **sandbox_provider_config(sandbox.url),
            "timeout_s": REQUEST_TIMEOUT_S,
            # The scenarios file hundreds of tickets at once on purpose: no storm guard.
            "lifecycle": {"storm_threshold": 100_000},
        }
        configure(app, workspace.id, "jira", config, actor="test")
        return cls(app, sandbox, workspace.id)

    def ingest(self, count: int, prefix: str = "a") -> None:
        report = ingest_text(self.app, self.workspace_id, alerts_ndjson(count, prefix), actor="t")
        assert report.accepted == count
        assert not report.errors

    def worker(self, **overrides: Any) -> Worker:
        app = self.app
        if "delivery" in overrides:
            app = replace(app, settings=replace(app.settings, delivery=overrides.pop("delivery")))
        made = Worker(app, **overrides)
        self.workers.append(made)
        return made

    def close(self) -> None:
        for made in self.workers:
            made.close()
        self.app.close()

    def outcomes(self) -> list[str]:
        """Every attempt outcome recorded for the workspace's deliveries."""
        repo = DeliveryRepository(self.app.db)
        return [a.outcome.value for v in self.deliveries() for a in repo.history(v.id)]

    def deliveries(self) -> list[DeliveryView]:
        return DeliveryRepository(self.app.db).list_for_workspace(self.workspace_id)

    def worker_env(self, delivery: DeliverySettings = FAST) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINELIQ_")}
        env.update(
            SENTINELIQ_DATA_DIR=str(self.app.settings.data_dir),
            SENTINELIQ_DATABASE_URL=self.app.settings.database_url,
            SENTINELIQ_ALLOW_PRIVATE_TARGETS="1",
            SENTINELIQ_LOG_LEVEL="WARNING",
        )
        for name, variable in _ENV_NAMES.items():
            env[variable] = str(getattr(delivery, name))
        return env

    def spawn_worker(self, delivery: DeliverySettings = FAST, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [EXECUTABLE, "worker", "--poll-interval", "0.1", *args],
            env=self.worker_env(delivery),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def assert_exactly_once(self, count: int) -> None:
        """Every alert delivered, each with its own issue, and no issue filed twice."""
        issues = self.sandbox.issues()
        labels = [
            next(label for label in issue["fields"]["labels"] if label.startswith("siq-"))
            for issue in issues
        ]
        assert len(labels) == len(set(labels)), "an alert was filed twice"
        views = self.deliveries()
        assert len(views) == count
        assert [v for v in views if v.status is not DeliveryStatus.DELIVERED] == []
        assert len({v.issue_key for v in views}) == count
        assert {v.issue_key for v in views} == {issue["key"] for issue in issues}
