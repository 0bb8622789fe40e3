"""Durable delivery in the outbox: the possibly-sent marker, deferrals that do not count, pauses
that wait instead of dying, replays, and the attempt history operators read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from storage_samples import TOKEN, jira_config, make_alert

from outbox_reports import ReportingRepository
from sentineliq.outbox import Deferred, Failure, RetryScheduled, Unanswered
from sentineliq.storage import (
    AlertRepository,
    AttemptInfo,
    AttemptOutcome,
    AuditRepository,
    Database,
    DeliveryRecord,
    DeliveryStatus,
    DroppedField,
    InvalidStateError,
    LeaseLostError,
    NotFoundError,
    ProviderRepository,
    WorkspaceRecord,
    WorkspaceRepository,
)
from sentineliq.storage.types import utcnow

TICKET = ("10001", "SEC-1", "https://acme.atlassian.net/browse/SEC-1")


@pytest.fixture
def jira(providers: ProviderRepository, workspace: WorkspaceRecord) -> None:
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})


def _queue(alerts: AlertRepository, workspace: WorkspaceRecord, count: int = 1) -> None:
    batch = [make_alert(fingerprint=f"{workspace.name}-{i}") for i in range(count)]
    alerts.ingest(workspace.id, batch, actor="t")


def _claim(
    deliveries: ReportingRepository, worker: str, now: datetime | None = None
) -> DeliveryRecord:
    [claimed] = deliveries.claim_due(worker, limit=1, lease_seconds=60, now=now)
    return claimed


pytestmark = pytest.mark.usefixtures("jira")


def test_mark_sending_records_the_send_only_under_a_live_lease(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _queue(alerts, workspace)
    t0 = utcnow()
    claim = _claim(deliveries, "w1", t0)
    assert claim.claimed_at == t0
    assert claim.last_sent_at is None
    assert claim.reconcile_until is None
    with pytest.raises(LeaseLostError):
        deliveries.mark_sending(claim.id, "w2", now=t0)  # not ours
    sent_at = t0 + timedelta(seconds=5)
    marked = deliveries.mark_sending(
        claim.id, "w1", reconcile_until=sent_at + timedelta(seconds=30), now=sent_at
    )
    assert marked.status is DeliveryStatus.IN_FLIGHT
    assert marked.last_sent_at == sent_at
    assert marked.reconcile_until == sent_at + timedelta(seconds=30)
    assert marked.attempts == 1
    stored = deliveries.get(claim.id)
    assert stored is not None
    assert stored.last_sent_at == sent_at
    # Expired but not yet reclaimed: still refused, since another worker may claim it any moment.
    with pytest.raises(LeaseLostError):
        deliveries.mark_sending(claim.id, "w1", now=t0 + timedelta(seconds=61))
    # Reclaimed by another worker: refused, and the new holder sees the earlier send.
    taken = _claim(deliveries, "w2", t0 + timedelta(seconds=61))
    assert taken.last_sent_at == sent_at
    assert taken.reconcile_until == sent_at + timedelta(seconds=30)
    with pytest.raises(LeaseLostError):
        deliveries.mark_sending(claim.id, "w1", now=t0 + timedelta(seconds=62))


def test_defer_returns_the_delivery_without_counting_the_attempt(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _queue(alerts, workspace)
    now = utcnow()
    claim = _claim(deliveries, "w1", now)
    later = now + timedelta(seconds=3)
    deferred = deliveries.record(
        claim.id,
        "w1",
        Unanswered(now + timedelta(seconds=20)),
        Deferred(later, "search may lag the create"),
        now=now,
    )
    assert deferred.status is DeliveryStatus.PENDING
    assert deferred.attempts == 0
    assert deferred.claimed_by is None
    assert deferred.lease_until is None
    assert deferred.available_at == later
    assert deferred.reconcile_until == now + timedelta(seconds=20)
    assert deliveries.claim_due("w1", limit=1, lease_seconds=60, now=now) == []
    again = _claim(deliveries, "w1", later)
    assert again.attempts == 1  # the deferral did not use up the retry budget
    counted = deliveries.mark_failed(
        again.id, "w1", error_kind="unavailable", message="x", retry_at=later
    )
    assert counted.attempts == 1
    assert counted.reconcile_until == now + timedelta(seconds=20)  # kept when not given
    history = deliveries.history(claim.id)
    assert [(a.outcome, a.attempt, a.retry_at) for a in history] == [
        (AttemptOutcome.RECONCILE, 1, later),
        (AttemptOutcome.RETRY, 1, later),
    ]
    assert history[0].message == "search may lag the create"
    with pytest.raises(ValueError, match="cannot record"):
        deliveries.defer(claim.id, "w1", available_at=later, reason="x", outcome="delivered")


def test_mark_failed_sets_or_keeps_reconcile_until_and_records_http_details(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _queue(alerts, workspace)
    now = utcnow()
    claim = _claim(deliveries, "w1", now)
    window = now + timedelta(seconds=30)
    failed = deliveries.record(
        claim.id,
        "w1",
        Unanswered(window),
        RetryScheduled(Failure("ambiguous", "no answer to the create request"), now),
    )
    assert failed.reconcile_until == window
    again = _claim(deliveries, "w1", now)
    kept = deliveries.mark_failed(
        again.id,
        "w1",
        error_kind="unavailable",
        message="503 Service Unavailable",
        retry_at=now,
        http_status=503,
    )
    assert kept.reconcile_until == window
    [first, second] = deliveries.history(claim.id)
    assert (first.outcome, first.attempt, first.error_kind) == (
        AttemptOutcome.RETRY,
        1,
        "ambiguous",
    )
    assert (second.attempt, second.http_status, second.message) == (
        2,
        503,
        "503 Service Unavailable",
    )
    assert second.worker_id == "w1"
    assert second.started_at == now  # when the claim was made
    assert second.finished_at >= first.finished_at


def test_dead_letter_keeps_the_ticket_systems_field_messages_and_no_secrets(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace)
    claim = _claim(deliveries, "w1")
    field_errors = {"customfield_10050": "Field 'customfield_10050' cannot be set."}
    dead = deliveries.mark_failed(
        claim.id,
        "w1",
        error_kind="validation",
        message="400: customfield_10050: Field 'customfield_10050' cannot be set. "
        f"(sent with Authorization: Basic {TOKEN})",
        retry_at=None,
        http_status=400,
        details={"field_errors": field_errors, "api_token": TOKEN, "at": utcnow()},
    )
    assert dead.status is DeliveryStatus.DEAD
    [attempt] = deliveries.history(claim.id)
    assert attempt.outcome is AttemptOutcome.DEAD
    assert attempt.retry_at is None
    assert attempt.http_status == 400
    assert attempt.message is not None
    assert "cannot be set" in attempt.message
    assert attempt.details is not None
    assert attempt.details["field_errors"] == field_errors
    assert isinstance(attempt.details["at"], str)  # made JSON-safe
    everything = repr(deliveries.history(claim.id)) + repr(deliveries.get(claim.id))
    everything += repr(AuditRepository(database).list(workspace.id))
    assert TOKEN not in everything


def test_delivered_and_adopted_record_dropped_fields_and_clear_reconciliation(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace, 2)
    now = utcnow()
    first = _claim(deliveries, "w1", now)
    deliveries.mark_sending(first.id, "w1", reconcile_until=now + timedelta(seconds=30), now=now)
    dropped = [{"field": "priority", "reason": "Field 'priority' cannot be set."}]
    adopted = deliveries.mark_delivered(
        first.id,
        "w1",
        TICKET,
        dropped,
        adopted=True,
        attempt=AttemptInfo(message="found by its idempotency label", http_status=200),
    )
    assert adopted.status is DeliveryStatus.DELIVERED
    assert adopted.reconcile_until is None
    assert adopted.last_sent_at == now  # kept: the history of what was sent stays true
    assert adopted.dropped_fields == (DroppedField("priority", "Field 'priority' cannot be set."),)
    [attempt] = deliveries.history(first.id)
    assert attempt.outcome is AttemptOutcome.ADOPTED
    assert attempt.message == "found by its idempotency label"
    assert attempt.http_status == 200
    assert attempt.details is not None
    assert attempt.details["issue_key"] == "SEC-1"
    [entry] = [
        a for a in AuditRepository(database).list(workspace.id) if a.action == "delivery.delivered"
    ]
    assert entry.details["adopted"] is True
    assert entry.details["dropped_fields"] == dropped

    second = _claim(deliveries, "w1", now)
    delivered = deliveries.mark_delivered(
        second.id, "w1", ("10002", "SEC-2", "https://x/browse/SEC-2"), ("duedate",)
    )
    assert delivered.dropped_fields == (DroppedField("duedate", ""),)
    [attempt] = deliveries.history(second.id)
    assert attempt.outcome is AttemptOutcome.DELIVERED
    assert attempt.message == "filed without duedate"
    views = {v.id: v for v in deliveries.list_for_workspace(workspace.id)}
    assert views[second.id].dropped_fields == (DroppedField("duedate", ""),)
    with pytest.raises(TypeError):
        deliveries.mark_delivered(second.id, "w1", TICKET, "priority")  # a str is a Sequence too


def test_release_for_pause_waits_and_does_not_count(
    database: Database,
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace, 2)
    now = utcnow()
    first, second = deliveries.claim_due("w1", limit=2, lease_seconds=60, now=now)
    waiting = deliveries.release_for_pause(
        first.id, "w1", reason="401: the API token was rejected", http_status=401, now=now
    )
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.attempts == 0
    assert waiting.error_kind == "auth"
    assert waiting.last_error == "401: the API token was rejected"
    provider = providers.get(workspace.id, "jira", decrypt=False)
    assert provider is not None
    assert provider.paused_reason == "401: the API token was rejected"
    # The batch's other delivery follows; the pause is already there and stays as it was.
    deliveries.release_for_pause(second.id, "w1", reason="401 again", now=now)
    provider = providers.get(workspace.id, "jira", decrypt=False)
    assert provider is not None
    assert provider.paused_reason == "401: the API token was rejected"
    assert deliveries.claim_due("w1", limit=5, lease_seconds=60, now=now) == []
    [attempt] = deliveries.history(first.id)
    assert (attempt.outcome, attempt.attempt, attempt.http_status) == (
        AttemptOutcome.PAUSED,
        1,
        401,
    )
    actions = [a.action for a in AuditRepository(database).list(workspace.id)]
    assert actions.count("provider.paused") == 1
    assert actions.count("delivery.waiting") == 2
    assert deliveries.count_by_status(workspace.id)[DeliveryStatus.DEAD] == 0

    providers.resume(workspace.id, "jira", actor="cli")
    reclaimed = deliveries.claim_due("w2", limit=5, lease_seconds=60, now=now)
    assert sorted(r.attempts for r in reclaimed) == [1, 1]


def test_release_for_pause_pauses_even_when_the_lease_was_lost(
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace)
    now = utcnow()
    claim = _claim(deliveries, "w1", now)
    _claim(deliveries, "w2", now + timedelta(seconds=61))  # w1 stalled past its lease
    with pytest.raises(LeaseLostError):
        deliveries.release_for_pause(claim.id, "w1", reason="401")
    provider = providers.get(workspace.id, "jira", decrypt=False)
    assert provider is not None
    assert provider.is_paused
    current = deliveries.get(claim.id)
    assert current is not None
    assert (current.status, current.claimed_by) == (DeliveryStatus.IN_FLIGHT, "w2")
    assert deliveries.history(claim.id) == []
    with pytest.raises(NotFoundError):
        deliveries.release_for_pause("00000000-0000-0000-0000-000000000000", "w1", reason="401")


def test_release_is_in_the_history(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _queue(alerts, workspace)
    now = utcnow()
    claim = _claim(deliveries, "w1", now)
    released = deliveries.release(claim.id, "w1", reason="worker stopping")
    assert released.attempts == 0
    [attempt] = deliveries.history(claim.id)
    assert (attempt.outcome, attempt.attempt, attempt.message) == (
        AttemptOutcome.RELEASED,
        1,
        "worker stopping",
    )


def test_replay_keeps_the_key_and_refuses_delivered_ones(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace, 2)
    now = utcnow()
    dead_one, done_one = deliveries.claim_due("w1", limit=2, lease_seconds=60, now=now)
    deliveries.mark_sending(dead_one.id, "w1", reconcile_until=now + timedelta(seconds=30))
    deliveries.mark_failed(
        dead_one.id, "w1", error_kind="ambiguous", message="no answer", retry_at=None
    )
    deliveries.mark_delivered(done_one.id, "w1", TICKET)

    replayed = deliveries.requeue(dead_one.id, actor="cli")
    assert replayed.status is DeliveryStatus.PENDING
    assert replayed.attempts == 0
    assert replayed.idempotency_key == dead_one.idempotency_key
    # The create may have landed unseen: the worker still searches and waits out the window.
    assert replayed.reconcile_until == now + timedelta(seconds=30)
    assert replayed.last_sent_at is not None
    history = deliveries.history(dead_one.id)
    assert [a.outcome for a in history] == [AttemptOutcome.DEAD, AttemptOutcome.REPLAYED]
    assert (history[1].worker_id, history[1].attempt) == ("cli", 1)

    with pytest.raises(InvalidStateError, match=r"delivered already \(SEC-1\).*second ticket"):
        deliveries.requeue(done_one.id, actor="cli")
    with pytest.raises(InvalidStateError, match="is pending"):
        deliveries.requeue(dead_one.id, actor="cli")
    with pytest.raises(NotFoundError):
        deliveries.requeue("00000000-0000-0000-0000-000000000000", actor="cli")


def test_requeue_dead_replays_every_dead_letter_of_a_workspace(
    database: Database,
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    other = WorkspaceRepository(database).create("other-team")
    providers.save(other.id, "jira", jira_config(), secret_fields={"api_token"})
    _queue(alerts, workspace, 3)
    _queue(alerts, other, 2)
    for claim in deliveries.claim_due("w1", limit=10, lease_seconds=60):
        deliveries.mark_failed(
            claim.id, "w1", error_kind="validation", message="400", retry_at=None
        )
    assert len(deliveries.replay_dead(workspace.id, actor="cli")) == 3
    assert deliveries.count_by_status(workspace.id)[DeliveryStatus.PENDING] == 3
    assert deliveries.count_by_status(other.id)[DeliveryStatus.DEAD] == 2
    assert deliveries.replay_dead(workspace.id, actor="cli") == []
    audited = [a for a in AuditRepository(database).list(workspace.id) if a.action.endswith("ed")]
    assert sum(a.action == "delivery.requeued" for a in audited) == 3
    replayed = deliveries.replay_dead(None, actor="ops")
    assert [r.workspace_id for r in replayed] == [other.id, other.id]
    assert deliveries.count_by_status()[DeliveryStatus.DEAD] == 0


def test_detail_and_short_ids(
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace)
    claim = _claim(deliveries, "w1")
    deliveries.mark_delivered(claim.id, "w1", TICKET, [{"field": "labels", "reason": "screen"}])
    providers.pause(workspace.id, "jira", "401", actor="w9")
    detail = deliveries.detail(claim.id)
    assert detail is not None
    assert detail.delivery.id == claim.id
    assert detail.alert_title.startswith("Suspicious PowerShell")
    assert (detail.issue_key, detail.url) == ("SEC-1", TICKET[2])
    assert detail.provider_paused_reason == "401"
    assert [a.outcome for a in detail.history] == [AttemptOutcome.DELIVERED]
    assert detail.delivery.dropped_fields == (DroppedField("labels", "screen"),)
    assert deliveries.detail("00000000-0000-0000-0000-000000000000") is None
    with pytest.raises(NotFoundError):
        deliveries.history("00000000-0000-0000-0000-000000000000")
    assert deliveries.find_by_prefix(claim.id[:8]) == [claim.id]
    assert deliveries.find_by_prefix(claim.id.upper()[:8]) == [claim.id]
    assert deliveries.find_by_prefix("%") == []
    assert deliveries.find_by_prefix("abc") == []  # too short to be meant


def test_history_keeps_every_outcome_oldest_first(
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _queue(alerts, workspace)
    t = utcnow()
    claim = _claim(deliveries, "w1")
    deliveries.mark_failed(claim.id, "w1", error_kind="network", message="reset", retry_at=t)
    deliveries.defer(_claim(deliveries, "w1").id, "w1", available_at=t, reason="lag")
    deliveries.release(_claim(deliveries, "w2").id, "w2")
    deliveries.release_for_pause(_claim(deliveries, "w2").id, "w2", reason="401")
    providers.resume(workspace.id, "jira", actor="cli")
    deliveries.mark_failed(
        _claim(deliveries, "w1").id, "w1", error_kind="validation", message="400", retry_at=None
    )
    deliveries.requeue(claim.id, actor="cli")
    deliveries.mark_delivered(_claim(deliveries, "w3").id, "w3", TICKET)
    history = deliveries.history(claim.id)
    assert [(a.outcome, a.attempt, a.worker_id) for a in history] == [
        (AttemptOutcome.RETRY, 1, "w1"),
        (AttemptOutcome.RECONCILE, 2, "w1"),
        (AttemptOutcome.RELEASED, 2, "w2"),
        (AttemptOutcome.PAUSED, 2, "w2"),
        (AttemptOutcome.DEAD, 2, "w1"),
        (AttemptOutcome.REPLAYED, 2, "cli"),
        (AttemptOutcome.DELIVERED, 1, "w3"),
    ]
    assert all(a.delivery_id == claim.id for a in history)
