"""Issue 9: a delivery carries an operation. A kind of work registered by this test alone goes
through the real worker, outbox storage and retry path; only its work and its idempotency rule
are its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from delivery_harness import Pipeline

from sentineliq.delivery import operations
from sentineliq.delivery.operations import Done, Job, Operation
from sentineliq.outbox import TicketRef
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRepository, DeliveryStatus
from sentineliq.storage.providers import ProviderRepository


class Stamp(Operation):
    """Stamps a note on the alert's ticket in a "remote" of its own. Idempotency: the remote keyed
    by the delivery's key. Scripted failures: a retryable one, then a lost answer after the
    stamp landed."""

    kind = "test_stamp"

    def __init__(self) -> None:
        self.remote: dict[str, str] = {}
        self.script: list[str] = ["unavailable", "lost_answer"]
        self.sends = 0

    def find_done(self, job: Job) -> Done | None:
        key = job.delivery.idempotency_key
        return Done(TicketRef(key, self.remote[key], "")) if key in self.remote else None

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        before_send()
        self.sends += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "unavailable":
            raise ProviderError(ErrorKind.UNAVAILABLE, "503 Service Unavailable", status=503)
        key = job.delivery.idempotency_key
        self.remote[key] = f"STAMP-{len(self.remote) + 1}"
        if step == "lost_answer":
            raise ProviderError(ErrorKind.AMBIGUOUS, "no answer to the stamp request")
        return Done(TicketRef(key, self.remote[key], ""))


@pytest.fixture
def stamp() -> Iterator[Stamp]:
    operation = Stamp()
    unregister = operations.register(operation)
    try:
        yield operation
    finally:
        unregister()


def _alerts_without_deliveries(pipeline: Pipeline, count: int) -> list[str]:
    """Alerts that arrived while the provider was disabled: nothing is queued for them (and
    switching it back on through the repository backfills nothing)."""
    providers = ProviderRepository(pipeline.app.db, pipeline.app.secrets)
    providers.set_enabled(pipeline.workspace_id, "jira", False, actor="t")
    pipeline.ingest(count)
    providers.set_enabled(pipeline.workspace_id, "jira", True, actor="t")
    assert pipeline.deliveries() == []
    summaries = AlertRepository(pipeline.app.db).list_for_workspace(pipeline.workspace_id)
    return [a.id for a in summaries]


def test_a_registered_operation_shares_lease_retry_and_exactly_once(
    pipeline: Pipeline, stamp: Stamp
) -> None:
    repo = DeliveryRepository(pipeline.app.db)
    alert_ids = _alerts_without_deliveries(pipeline, 2)
    queued = [repo.enqueue(a, "jira", operation=stamp.kind, actor="t") for a in alert_ids]
    assert {q.operation for q in queued} == {stamp.kind}

    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)

    assert {v.status for v in pipeline.deliveries()} == {DeliveryStatus.DELIVERED}
    assert len(stamp.remote) == 2  # each stamped once, although one answer was lost
    assert stamp.sends == 3  # 503, lost answer (it landed: found by the search), one more
    assert stats.adopted == 1
    assert stats.delivered == 1
    assert stats.dead == 0
    assert sorted(pipeline.outcomes()) == ["adopted", "delivered", "retry", "retry"]
    assert pipeline.sandbox.issues() == []  # no create_issue ran


def test_an_unknown_operation_is_dead_lettered_as_a_configuration_problem(
    pipeline: Pipeline,
) -> None:
    [alert_id] = _alerts_without_deliveries(pipeline, 1)
    DeliveryRepository(pipeline.app.db).enqueue(alert_id, "jira", operation="nope", actor="t")
    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert stats.dead == 1
    [view] = pipeline.deliveries()
    assert view.error_kind == "config"
    assert "unknown delivery operation 'nope'" in (view.last_error or "")
    assert operations.operation_for(CREATE_ISSUE).kind == CREATE_ISSUE


def test_an_operation_queued_again_for_an_alert_is_its_next_delivery(pipeline: Pipeline) -> None:
    repo = DeliveryRepository(pipeline.app.db)
    [alert_id] = _alerts_without_deliveries(pipeline, 1)
    first = repo.enqueue(alert_id, "jira", operation="nope", actor="t")
    second = repo.enqueue(alert_id, "jira", operation="nope", actor="t")
    assert (first.sequence, second.sequence) == (0, 1)
    assert first.idempotency_key != second.idempotency_key
