"""A webhook that never arrived (the site cannot reach us) is repaired by the reconcile poll."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from inbound_harness import Inbound

from sentineliq.delivery.reconcile_schedule import ReconcileSchedule
from sentineliq.services.reconcile import lookback_minutes, reconcile_all
from sentineliq.storage.inbound import InboundRepository

EXECUTABLE = str(Path(sys.executable).with_name("sentineliq"))


def _searches(inbound: Inbound) -> list[str]:
    return [r.path for r in inbound.sandbox.requests() if r.path.endswith("/search/jql")]


def test_a_missed_webhook_is_repaired_by_sync_reconcile(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    other_id, _other = inbound.ticketed_alert()
    inbound.sandbox.set_webhooks_enabled(False)  # the site cannot reach us
    inbound.connect_webhook()
    inbound.move(key, "Done")
    inbound.wait()
    assert inbound.sandbox.webhook_deliveries() == []
    assert inbound.state(alert_id).status == "new"

    searched_before = len(_searches(inbound))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINELIQ_")}
    env.update(
        SENTINELIQ_DATA_DIR=str(inbound.app.settings.data_dir),
        SENTINELIQ_DATABASE_URL=inbound.app.settings.database_url,
        SENTINELIQ_ALLOW_PRIVATE_TARGETS="1",
        SENTINELIQ_LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [EXECUTABLE, "sync", "reconcile", "--workspace", inbound.workspace_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    assert report["resolved"] == 1
    assert report["issues"] == 2
    assert 'updated >= "-1441m" ORDER BY updated ASC' in report["jql"]  # first run: 24 h + 1
    assert len(_searches(inbound)) == searched_before + 1

    state = inbound.state(alert_id)
    assert (state.status, state.resolution, state.status_changed_by) == ("resolved", "Done", "jira")
    assert inbound.state(other_id).status == "new"

    # Idempotent: a second run changes nothing and looks back only since the first (+ overlap).
    [again] = reconcile_all(inbound.app, inbound.workspace_id)
    assert (again.resolved, again.reopened, again.error) == (0, 0, None)
    # A moment since the last run + 600 s overlap, rounded up to minutes (11), + 1.
    assert 'updated >= "-12m"' in again.jql

    # Reopened in Jira, still no webhook: the next poll reopens the alert.
    inbound.move(key, "To Do")
    [third] = reconcile_all(inbound.app, inbound.workspace_id)
    assert third.reopened == 1
    assert inbound.state(alert_id).status == "new"


def test_a_failing_search_keeps_the_cursor(inbound: Inbound) -> None:
    inbound.ticketed_alert()
    provider = inbound.provider
    inbound.sandbox.set_fault("error", status=500, count=10, path="/rest/api/3/search/jql")
    [report] = reconcile_all(inbound.app, inbound.workspace_id)
    assert report.error
    assert (
        InboundRepository(inbound.app.db, inbound.app.secrets).reconcile_cursor(provider.id) is None
    )


def test_the_lookback_covers_the_time_since_the_last_run_plus_the_overlap(inbound: Inbound) -> None:
    app = inbound.app
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert lookback_minutes(app, None, now) == 24 * 60 + 1
    assert lookback_minutes(app, now - timedelta(minutes=5), now) == 5 + 10 + 1
    assert lookback_minutes(app, now - timedelta(seconds=61), now) == 12 + 1  # 661 s -> 12 min


def test_the_worker_schedule_runs_due_providers_only(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.move(key, "Done")  # no webhook registered at all
    ticks = iter([0.0, 10.0, 1000.0, 1000.0, 1001.0])  # created, then one read per check
    schedule = ReconcileSchedule(inbound.app, monotonic=lambda: next(ticks))
    assert schedule.tick() == []  # not at start-up
    [report] = schedule.tick()
    assert report.resolved == 1
    assert inbound.state(alert_id).status == "resolved"
    assert schedule.tick() == []  # checked again too soon
