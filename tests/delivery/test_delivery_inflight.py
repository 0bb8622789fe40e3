"""Issue 11, part 1: one worker keeps several creates in flight (lanes), exactly as safely.

The sandbox holds creates before handling them until the test releases them, so "N in flight at
once" is counted, not inferred from timing. Part 3: in steady state a create costs one request.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from delivery_harness import FAST, Pipeline

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import ANALYST_EMAIL, PRIVATE_EMAIL, JiraSandbox
from sentineliq.services.ingest import ingest_text
from sentineliq.settings import DeliverySettings
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

CREATE = "/rest/api/3/issue"
LANES = 4
# Generous failure deadline for conditions the code under test must reach (never a pass/fail
# timing: a correct worker reaches them in well under a second).
DEADLINE_S = 60.0


def _config(sandbox: JiraSandbox, timeout_s: float) -> dict[str, object]:
    return {
        **sandbox_provider_config(sandbox.url),
        "timeout_s": timeout_s,
        "lifecycle": {"storm_threshold": 100_000},
    }


@pytest.fixture
def patient(tmp_path: Path, database_url: str, sandbox: JiraSandbox) -> Iterator[Pipeline]:
    """A pipeline whose creates may be held for a while without timing out."""
    opened = Pipeline.open(tmp_path, database_url, sandbox, provider_config=_config(sandbox, 60.0))
    try:
        yield opened
    finally:
        opened.close()


def _creates(sandbox: JiraSandbox) -> list[int | None]:
    return [r.status for r in sandbox.requests() if r.method == "POST" and r.path == CREATE]


def _wait(condition: Callable[[], bool], what: str) -> None:
    reached = threading.Event()
    deadline = threading.Timer(DEADLINE_S, reached.set)
    deadline.start()
    try:
        while not condition():
            assert not reached.wait(0.02), f"not reached within {DEADLINE_S} s: {what}"
    finally:
        deadline.cancel()


def test_one_worker_has_its_lanes_creates_in_flight_at_once(patient: Pipeline) -> None:
    sandbox = patient.sandbox
    patient.ingest(2 * LANES)
    sandbox.hold_requests("POST", CREATE)
    worker = patient.worker(concurrency=LANES, batch_size=1)
    finished: list[object] = []
    thread = threading.Thread(
        target=lambda: finished.append(worker.run(until_idle=True, poll_interval=0.05))
    )
    thread.start()
    try:
        # A worker sending one request at a time never gets a second create to the sandbox
        # while its first is held: this fails (after the deadline) instead of passing by luck.
        assert sandbox.wait_until_held(LANES, timeout=DEADLINE_S), sandbox.held_requests()
        assert sandbox.issues() == []  # all of them arrived, none is handled yet
    finally:
        sandbox.release_requests()
        thread.join(timeout=DEADLINE_S)
    assert finished, "the worker did not finish"
    assert sandbox.held_requests()[1] == LANES  # never more than one per lane
    patient.assert_exactly_once(2 * LANES)
    assert _creates(sandbox) == [201] * (2 * LANES)
    assert worker.stats.delivered == 2 * LANES


def test_stop_lets_creates_in_flight_finish_and_hands_back_the_rest(patient: Pipeline) -> None:
    sandbox = patient.sandbox
    patient.ingest(3 * LANES)
    sandbox.hold_requests("POST", CREATE)
    worker = patient.worker(concurrency=LANES, batch_size=3)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, kwargs={"stop": stop, "poll_interval": 0.05})
    thread.start()
    try:
        assert sandbox.wait_until_held(LANES, timeout=DEADLINE_S), sandbox.held_requests()
        stop.set()  # SIGTERM: each lane has one create in flight and two not started
    finally:
        sandbox.release_requests()
        thread.join(timeout=DEADLINE_S)
    assert not thread.is_alive()
    # The creates in flight were answered and recorded; nothing else was sent.
    assert _creates(sandbox) == [201] * LANES
    counts = DeliveryRepository(patient.app.db).count_by_status(patient.workspace_id)
    assert counts.get(DeliveryStatus.DELIVERED, 0) == LANES
    assert counts.get(DeliveryStatus.PENDING, 0) == 2 * LANES  # handed back, not leased
    assert counts.get(DeliveryStatus.IN_FLIGHT, 0) == 0
    assert patient.outcomes().count("released") == 2 * LANES
    assert (worker.stats.delivered, worker.stats.released) == (LANES, 2 * LANES)
    delivered = {v.issue_key for v in patient.deliveries() if v.issue_key is not None}
    assert delivered == {issue["key"] for issue in sandbox.issues()}

    # A restarted worker files the rest, once each.
    patient.worker(concurrency=LANES).run(until_idle=True, poll_interval=0.05)
    patient.assert_exactly_once(3 * LANES)


def test_kill_9_during_concurrent_creates_files_each_alert_once(pipeline: Pipeline) -> None:
    sandbox = pipeline.sandbox
    sandbox.set_search_lag(1.0)  # search lags creates, as on Cloud (the window is FAST's 4 s)
    pipeline.ingest(4 * LANES)
    sandbox.hold_requests("POST", CREATE)
    lanes = ("--concurrency", str(LANES), "--batch-size", "1")
    worker = pipeline.spawn_worker(FAST, *lanes)
    try:
        assert sandbox.wait_until_held(LANES, timeout=DEADLINE_S), sandbox.held_requests()
        # Every lane's create has reached Jira and none is answered: kill the worker.
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=DEADLINE_S)
    finally:
        sandbox.release_requests()  # Jira handles what reached it, though nobody reads it
        if worker.stderr is not None:
            worker.stderr.close()
    sent = sandbox.held_requests()[1]  # LANES, or more if a held create timed out meanwhile
    assert sent >= LANES
    _wait(lambda: len(_creates(sandbox)) == sent, "the held creates were handled")

    again = pipeline.spawn_worker(FAST, *lanes, "--until-idle", "--poll-interval", "0.5")
    assert again.wait(timeout=120) == 0, again.stderr.read() if again.stderr else ""
    if again.stderr is not None:
        again.stderr.close()
    pipeline.assert_exactly_once(4 * LANES)
    assert _creates(pipeline.sandbox).count(201) == 4 * LANES  # nothing was created twice
    # The creates of the killed lanes were found again by their label, not sent again.
    assert pipeline.outcomes().count("adopted") == sent


def _ingest_assigned(pipeline: Pipeline, prefix: str, count: int) -> None:
    lines = [
        json.dumps(
            {
                "title": f"Beacon {prefix}-{number}",
                "severity": ["critical", "high", "medium", "low"][number % 4],
                "source": "EDR",
                "detected_at": "2026-11-27T08:00:00Z",
                "external_id": f"{prefix}-{number}",
                "assignee_email": (ANALYST_EMAIL, PRIVATE_EMAIL)[number % 2],
                "mitre": ["T1059.001"],
            }
        )
        for number in range(count)
    ]
    report = ingest_text(pipeline.app, pipeline.workspace_id, "\n".join(lines), actor="t")
    assert report.accepted == count


@pytest.mark.parametrize("lanes", [1, LANES])
def test_a_create_costs_one_request_once_metadata_and_users_are_cached(
    patient: Pipeline, lanes: int
) -> None:
    pipeline = patient  # a loaded machine must not turn a slow answer into a retry and a search
    sandbox = pipeline.sandbox
    _ingest_assigned(pipeline, "warm", 2)  # loads project, create screen and both assignees
    pipeline.worker(concurrency=lanes).run(until_idle=True, poll_interval=0.05)
    warm = sandbox.requests()  # the first creates cost more: metadata and user lookups

    _ingest_assigned(pipeline, "steady", 40)
    pipeline.worker(concurrency=lanes).run(until_idle=True, poll_interval=0.05)
    steady = sandbox.requests()[len(warm) :]
    assert [(r.method, r.path, r.status) for r in steady] == [("POST", CREATE, 201)] * 40
    pipeline.assert_exactly_once(42)
    # Each issue carries its idempotency key as label and property from that single request.
    for issue in sandbox.issues():
        assert any(label.startswith("siq-") for label in issue["fields"]["labels"])
        assert issue["properties"]
        assert issue["fields"]["assignee"] is not None


def test_concurrency_is_configurable_and_bounded() -> None:
    assert DeliverySettings.from_env({}).concurrency == 4
    assert DeliverySettings.from_env({"SENTINELIQ_WORKER_CONCURRENCY": "8"}).concurrency == 8
    for bad in ("0", "13", "two"):
        with pytest.raises(ValueError, match="SENTINELIQ_WORKER_CONCURRENCY"):
            DeliverySettings.from_env({"SENTINELIQ_WORKER_CONCURRENCY": bad})
