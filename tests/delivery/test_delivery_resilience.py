"""Issue 7's delivery scenarios: search lag of minutes, CAPTCHA lock, pause versus maximum age.

Time is the sandbox's ManualClock, shared with the workers' clocks: minutes pass without sleeping.
Every test runs on SQLite and on PostgreSQL against the sandbox over HTTP.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_harness import EXECUTABLE, FAST, Pipeline

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox, ManualClock
from sentineliq.services import providers as provider_service
from sentineliq.services.ingest import ingest_text
from sentineliq.settings import DeliverySettings
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.providers import ProviderRepository
from sentineliq.web.api.models import DeliveryOut

DEFAULTS = DeliverySettings()
# The production search-lag window and search intervals; the rest fast.
REAL_WINDOW = replace(
    FAST,
    search_lag_s=DEFAULTS.search_lag_s,
    reconcile_interval_s=DEFAULTS.reconcile_interval_s,
)
CREATE = "/rest/api/3/issue"
SEARCH = "/rest/api/3/search/jql"


class SharedClock:
    """One time for the sandbox (monotonic seconds) and the workers (UTC datetimes)."""

    def __init__(self) -> None:
        self.manual = ManualClock(start=0.0)
        self._origin: datetime | None = None

    def start(self) -> None:
        """Anchor worker time at the real now (deliveries are stamped with real time)."""
        self._origin = datetime.now(UTC) + timedelta(milliseconds=1)

    def now(self) -> datetime:
        assert self._origin is not None, "call start() after ingesting"
        return self._origin + timedelta(seconds=self.manual())

    def advance(self, seconds: float) -> None:
        self.manual.advance(max(0.0, seconds))

    def advance_to(self, moment: datetime) -> None:
        self.advance((moment - self.now()).total_seconds())

    def catch_up(self) -> None:
        """Never behind real time: alerts ingested now are due now."""
        self.advance_to(datetime.now(UTC) + timedelta(milliseconds=1))


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def timed(tmp_path: Path, database_url: str, clock: SharedClock) -> Iterator[Pipeline]:
    with JiraSandbox(host="127.0.0.1", port=0, clock=clock.manual) as sandbox:
        opened = Pipeline.open(tmp_path, database_url, sandbox)
        try:
            yield opened
        finally:
            opened.close()


def _requests_to(pipeline: Pipeline, method: str, path: str) -> int:
    return sum(1 for r in pipeline.sandbox.requests() if r.method == method and r.path == path)


def _drive(worker: Worker, clock: SharedClock, *, until_s: float) -> None:
    """Run `worker` whenever something is due, jumping the clock to it, up to `until_s`."""
    repo = DeliveryRepository(worker.app.db)
    while clock.manual() < until_s:
        due = repo.next_due_at()
        if due is None:
            return
        if due > clock.now():
            if (due - clock.now()).total_seconds() + clock.manual() > until_s:
                clock.advance(until_s - clock.manual())
                return
            clock.advance_to(due)
        worker.run_once()


def test_search_lag_of_minutes_never_duplicates_across_a_worker_crash(
    timed: Pipeline, clock: SharedClock
) -> None:
    sandbox = timed.sandbox
    sandbox.set_search_lag(300)  # five minutes: "from a few seconds to minutes"
    sandbox.set_fault("drop_after_create", count=1)
    timed.ingest(1)
    clock.start()
    first = timed.worker(worker_id="first", delivery=REAL_WINDOW, clock=clock.now)
    assert first.run_once() == 1  # the issue is created, the answer lost
    assert len(sandbox.issues()) == 1

    _drive(first, clock, until_s=120)
    first.close()
    [view] = timed.deliveries()
    assert view.phase == "reconcile"  # visible while it searches instead of creating
    assert DeliveryOut.from_view(view).phase == "reconcile"
    listed = subprocess.run(
        [EXECUTABLE, "deliveries", "list", "--workspace", "SOC", "--json"],
        env=timed.worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert [d["phase"] for d in json.loads(listed.stdout)] == ["reconcile"]
    shown = subprocess.run(
        [EXECUTABLE, "deliveries", "show", view.id],
        env=timed.worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "(reconcile: searching Jira for an earlier create" in " ".join(shown.stdout.split())
    assert view.status is not DeliveryStatus.DELIVERED

    # A worker claims it and dies holding the lease, in the middle of the search window.
    repo = DeliveryRepository(timed.app.db)
    due = repo.next_due_at()
    assert due is not None
    clock.advance_to(due)
    assert len(repo.claim_due("doomed", limit=5, lease_seconds=FAST.lease_s, now=clock.now())) == 1
    clock.advance(FAST.lease_s + 1)

    second = timed.worker(worker_id="second", delivery=REAL_WINDOW, clock=clock.now)
    _drive(second, clock, until_s=DEFAULTS.search_lag_s + 120)
    second.close()

    timed.assert_exactly_once(1)
    assert _requests_to(timed, "POST", CREATE) == 1  # never created a second time
    assert "adopted" in timed.outcomes()
    # The search interval grew: a fixed 5 s over five minutes would be about 60 searches.
    searches = _requests_to(timed, "POST", SEARCH) + _requests_to(timed, "GET", SEARCH)
    assert 3 <= searches <= 20


def test_reconcile_phase_ends_in_a_create_once_the_window_has_passed(
    timed: Pipeline, clock: SharedClock
) -> None:
    # Jira really lost the create (its 500 came after nothing was stored): after the whole
    # window of empty searches, the delivery is created again, exactly once.
    timed.sandbox.set_fault("error", status=502, count=1, method="POST", path=CREATE)
    timed.ingest(1)
    clock.start()
    worker = timed.worker(delivery=REAL_WINDOW, clock=clock.now)
    _drive(worker, clock, until_s=DEFAULTS.search_lag_s - 30)
    [view] = timed.deliveries()
    assert view.phase == "reconcile"
    assert timed.sandbox.issues() == []
    _drive(worker, clock, until_s=DEFAULTS.search_lag_s + 120)
    worker.close()
    timed.assert_exactly_once(1)
    assert _requests_to(timed, "POST", CREATE) == 2


LOGIN_URL = "https://acme.atlassian.net/login.jsp"


def test_captcha_lock_pauses_after_one_request_then_everything_arrives(
    timed: Pipeline, clock: SharedClock
) -> None:
    sandbox = timed.sandbox
    timed.ingest(1, prefix="warm")
    clock.start()
    worker = timed.worker(delivery=FAST, clock=clock.now)
    _drive(worker, clock, until_s=10)  # delivered; the create screen is cached now
    sandbox.set_captcha_lock(True, login_url=LOGIN_URL)
    sent_before = len(sandbox.requests())
    timed.ingest(4, prefix="locked")
    clock.catch_up()

    assert worker.run_once() == 4
    # The first 403 was the last request: no lean retry, no search, no other delivery's create.
    assert sandbox.captcha_refusals() == 1
    assert len(sandbox.requests()) == sent_before + 1
    configs = ProviderRepository(timed.app.db, timed.app.secrets)
    record = configs.get(timed.workspace_id, "jira", decrypt=False)
    assert record is not None
    assert record.is_paused
    assert LOGIN_URL in (record.paused_reason or "")
    assert "resume" in (record.paused_reason or "")
    waiting = [v for v in timed.deliveries() if "locked" in v.alert_title]
    assert {v.status for v in waiting} == {DeliveryStatus.PENDING}  # none dead-lettered
    assert {v.error_kind for v in waiting} == {"captcha"}
    history = DeliveryRepository(timed.app.db).history(waiting[0].id)
    assert history[-1].outcome == "paused"
    clock.advance(3600)
    assert worker.run_once() == 0  # paused: nobody calls Jira and prolongs the lock
    assert sandbox.captcha_refusals() == 1

    sandbox.set_captcha_lock(False)  # an admin signed in through the browser...
    configs.resume(timed.workspace_id, "jira", actor="operator")  # ...and resumed
    _drive(worker, clock, until_s=clock.manual() + 60)
    worker.close()
    timed.assert_exactly_once(5)


def test_test_connection_names_the_captcha_lock(timed: Pipeline) -> None:
    timed.sandbox.set_captcha_lock(True, login_url=LOGIN_URL)
    report = provider_service.test_connection(timed.app, timed.workspace_id, "jira")
    credentials = report.checks[0]
    assert credentials.name == "credentials"
    assert not credentials.ok
    assert "CAPTCHA" in credentials.detail
    assert f"in a browser at {LOGIN_URL}" in credentials.detail
    assert all(c.detail.startswith("skipped") for c in report.checks[1:])
    assert timed.sandbox.captcha_refusals() == 1
    assert len(timed.sandbox.requests()) == 1


def test_four_days_paused_then_resumed_is_delivered_not_dead_lettered(
    timed: Pipeline, clock: SharedClock
) -> None:
    assert DEFAULTS.max_age_s == 3 * 24 * 3600  # FAST keeps the production maximum age
    timed.sandbox.set_captcha_lock(True)
    timed.ingest(2)
    clock.start()
    worker = timed.worker(delivery=FAST, clock=clock.now)
    assert worker.run_once() == 2  # the first pauses the provider, the second waits untried
    clock.advance(4 * 24 * 3600)
    assert worker.run_once() == 0
    timed.sandbox.set_captcha_lock(False)
    ProviderRepository(timed.app.db, timed.app.secrets).resume(
        timed.workspace_id, "jira", actor="operator", now=clock.now()
    )
    _drive(worker, clock, until_s=clock.manual() + 60)
    worker.close()
    timed.assert_exactly_once(2)


def test_a_delivery_older_than_the_maximum_age_is_dead_lettered_once(
    timed: Pipeline, clock: SharedClock
) -> None:
    timed.ingest(1)
    clock.start()
    clock.advance(4 * 24 * 3600)  # never paused: genuinely too old
    worker = timed.worker(delivery=FAST, clock=clock.now)
    assert worker.run_once() == 1
    worker.close()
    [view] = timed.deliveries()
    assert view.status is DeliveryStatus.DEAD
    assert view.last_error == "older than the maximum age (72 h)"  # said once, not twice
    assert timed.sandbox.requests() == []


def test_captcha_on_the_assignee_lookup_sends_no_create(
    timed: Pipeline, clock: SharedClock
) -> None:
    timed.ingest(1, prefix="warm")
    clock.start()
    worker = timed.worker(delivery=FAST, clock=clock.now)
    _drive(worker, clock, until_s=10)  # the create screen is cached; no user was looked up yet
    timed.sandbox.set_captcha_lock(True, login_url=LOGIN_URL)
    sent_before = len(timed.sandbox.requests())
    alert = {
        "title": "Assigned alert",
        "severity": "high",
        "source": "EDR",
        "detected_at": "2026-11-27T08:00:00Z",
        "assignee_email": "analyst@sentineliq.test",
    }
    report = ingest_text(timed.app, timed.workspace_id, json.dumps(alert), actor="t")
    assert report.accepted == 1
    clock.catch_up()
    assert worker.run_once() == 1
    worker.close()
    [refused] = timed.sandbox.requests()[sent_before:]
    assert refused.path == "/rest/api/3/user/assignable/search"  # the lookup hit the lock...
    assert refused.status == 403  # ...and no create followed it
    assert timed.sandbox.captcha_refusals() == 1
    assert len(timed.sandbox.issues()) == 1
