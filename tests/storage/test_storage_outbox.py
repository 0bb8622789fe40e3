"""The outbox: leased claims that never hand one row to two workers, and lease-checked results."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from storage_samples import jira_config, make_alert

from outbox_reports import ReportingRepository
from sentineliq.outbox import (
    Dead,
    Failure,
    IllegalTransitionError,
    Refused,
    Released,
    Replayed,
    RetryScheduled,
    Unanswered,
)
from sentineliq.storage import (
    AlertRepository,
    AuditRepository,
    Database,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    InvalidStateError,
    LeaseLostError,
    ProviderRepository,
    WorkspaceRecord,
    WorkspaceRepository,
)
from sentineliq.storage.deliveries import ConnectionLostError
from sentineliq.storage.tables import DeliveryRow, TicketLinkRow

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # in the future: rows created "now" are due by then


@pytest.fixture
def jira(providers: ProviderRepository, workspace: WorkspaceRecord) -> None:
    # Tests here queue more tickets than the storm guard lets through by default.
    config = {**jira_config(), "lifecycle": {"storm_threshold": 10_000}}
    providers.save(workspace.id, "jira", config, secret_fields={"api_token"})


def _ingest(alerts: AlertRepository, workspace: WorkspaceRecord, count: int) -> list[str]:
    batch = [make_alert(fingerprint=f"fp-{i}") for i in range(count)]
    return [o.alert_id for o in alerts.ingest(workspace.id, batch, actor="t")]


@pytest.mark.usefixtures("jira")
def test_claim_leases_due_rows_once(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 3)
    claimed = deliveries.claim_due("w1", limit=2, lease_seconds=60, now=T0)
    assert len(claimed) == 2
    for record in claimed:
        assert record.status is DeliveryStatus.IN_FLIGHT
        assert record.claimed_by == "w1"
        assert record.attempts == 1
        assert record.lease_until == T0 + timedelta(seconds=60)
    rest = deliveries.claim_due("w2", limit=10, lease_seconds=60, now=T0)
    assert len(rest) == 1
    assert rest[0].id not in {r.id for r in claimed}
    assert deliveries.claim_due("w3", limit=10, lease_seconds=60, now=T0) == []
    assert deliveries.count_by_status()[DeliveryStatus.IN_FLIGHT] == 3


@pytest.mark.usefixtures("jira")
def test_nothing_is_claimed_before_it_is_due(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 1)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    assert deliveries.claim_due("w1", limit=5, lease_seconds=60, now=long_ago) == []


@pytest.mark.usefixtures("jira")
def test_expired_lease_is_reclaimed_and_the_late_worker_is_refused(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    [alert_id] = _ingest(alerts, workspace, 1)
    [first] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0)
    # Still leased half-way through.
    assert (
        deliveries.claim_due("w2", limit=1, lease_seconds=30, now=T0 + timedelta(seconds=15)) == []
    )
    # w1 stalls past its lease; w2 takes over.
    [second] = deliveries.claim_due("w2", limit=1, lease_seconds=30, now=T0 + timedelta(seconds=31))
    assert second.id == first.id
    assert second.attempts == 2
    assert second.claimed_by == "w2"
    with pytest.raises(LeaseLostError):
        deliveries.mark_delivered(first.id, "w1", ("10001", "SEC-1", "https://x/browse/SEC-1"))
    with pytest.raises(LeaseLostError):
        deliveries.mark_failed(first.id, "w1", error_kind="network", message="x", retry_at=None)
    with pytest.raises(LeaseLostError):
        deliveries.release(first.id, "w1")
    with database.session() as session:
        assert session.scalar(select(TicketLinkRow.id)) is None  # the refused report wrote nothing
    delivered = deliveries.mark_delivered(
        first.id, "w2", ("10001", "SEC-1", "https://x/browse/SEC-1"), dropped_fields=("priority",)
    )
    assert delivered.status is DeliveryStatus.DELIVERED
    assert delivered.delivered_at is not None
    assert delivered.lease_until is None
    stored = alerts.get(alert_id)
    assert [(t.provider, t.issue_key, t.url) for t in stored.tickets] == [
        ("jira", "SEC-1", "https://x/browse/SEC-1")
    ]
    [entry] = [
        a for a in AuditRepository(database).list(workspace.id) if a.action == "delivery.delivered"
    ]
    assert entry.actor == "w2"
    assert entry.details["dropped_fields"] == [{"field": "priority", "reason": ""}]
    assert entry.details["issue_key"] == "SEC-1"
    # A delivered row is never claimed again, however late it is.
    assert deliveries.claim_due("w3", limit=5, lease_seconds=30, now=T0 + timedelta(days=9)) == []


@pytest.mark.usefixtures("jira")
def test_failed_retry_and_dead_letter_then_requeue(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _ingest(alerts, workspace, 1)
    [claim] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0)
    retry_at = T0 + timedelta(minutes=5)
    failed = deliveries.mark_failed(
        claim.id,
        "w1",
        error_kind="rate_limited",
        message="Jira asked us to wait",
        retry_at=retry_at,
    )
    assert failed.status is DeliveryStatus.FAILED
    assert failed.available_at == retry_at
    assert failed.last_error == "Jira asked us to wait"
    assert failed.error_kind == "rate_limited"
    assert deliveries.next_due_at() == retry_at
    assert (
        deliveries.claim_due("w1", limit=1, lease_seconds=30, now=retry_at - timedelta(seconds=1))
        == []
    )
    [again] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=retry_at)
    assert again.attempts == 2
    dead = deliveries.mark_failed(
        again.id, "w1", error_kind="validation", message="x" * 5000, retry_at=None
    )
    assert dead.status is DeliveryStatus.DEAD
    assert dead.last_error is not None
    assert len(dead.last_error) == 2000
    assert deliveries.next_due_at() is None
    assert deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0 + timedelta(days=30)) == []
    [view] = deliveries.list_for_workspace(workspace.id, status="dead")
    assert view.alert_title.startswith("Suspicious PowerShell")
    assert view.error_kind == "validation"
    assert view.issue_key is None

    requeued = deliveries.requeue(dead.id, actor="cli")
    assert requeued.status is DeliveryStatus.PENDING
    assert requeued.attempts == 0
    with pytest.raises(InvalidStateError):
        deliveries.requeue(dead.id, actor="cli")
    actions = [a.action for a in AuditRepository(database).list(workspace.id)]
    assert {"delivery.failed", "delivery.dead", "delivery.requeued"} <= set(actions)


@pytest.mark.usefixtures("jira")
def test_release_returns_the_row_without_counting_the_attempt(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 1)
    [claim] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0)
    released = deliveries.release(claim.id, "w1", now=T0)
    assert released.status is DeliveryStatus.PENDING
    assert released.attempts == 0
    assert released.claimed_by is None
    [again] = deliveries.claim_due("w2", limit=1, lease_seconds=30, now=T0)
    assert again.attempts == 1


def test_disabled_provider_holds_its_deliveries(
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
    _ingest(alerts, workspace, 2)
    providers.set_enabled(workspace.id, "jira", False)  # e.g. paused after an auth failure
    assert deliveries.claim_due("w1", limit=5, lease_seconds=30, now=T0) == []
    assert deliveries.next_due_at() is None
    assert deliveries.count_by_status(workspace.id)[DeliveryStatus.PENDING] == 2
    providers.set_enabled(workspace.id, "jira", True)
    assert len(deliveries.claim_due("w1", limit=5, lease_seconds=30, now=T0)) == 2


def test_a_paused_providers_older_rows_never_fill_a_claim(
    database: Database,
    providers: ProviderRepository,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    # Each branch of the claim (waiting rows, expired leases) stops at `limit` rows: the
    # provider check must come before that cut, or a head of paused rows would hide due ones.
    config = {**jira_config(), "lifecycle": {"storm_threshold": 10_000}}
    providers.save(workspace.id, "jira", config, secret_fields={"api_token"})
    other = WorkspaceRepository(database).create("other-soc")
    providers.save(other.id, "jira", config, secret_fields={"api_token"})
    stale = _ingest(alerts, workspace, 6)
    leased = deliveries.claim_due("crashed", limit=3, lease_seconds=30, now=T0)
    assert {d.alert_id for d in leased} <= set(stale)
    fresh = _ingest(alerts, other, 2)
    providers.pause(workspace.id, "jira", "401 from Jira", actor="t")

    later = T0 + timedelta(seconds=60)  # the crashed worker's leases have expired too
    claimed = deliveries.claim_due("w1", limit=2, lease_seconds=30, now=later)
    assert sorted(d.alert_id for d in claimed) == sorted(fresh)
    assert deliveries.claim_due("w1", limit=2, lease_seconds=30, now=later) == []
    # Next due: w1's leases expiring, not the paused provider's older rows.
    assert deliveries.next_due_at() == later + timedelta(seconds=30)

    providers.resume(workspace.id, "jira", actor="t")
    again = deliveries.claim_due("w2", limit=10, lease_seconds=30, now=later)
    assert sorted(d.alert_id for d in again) == sorted(stale)


@pytest.mark.usefixtures("jira")
def test_views_and_counts(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 3)
    claims = deliveries.claim_due("w1", limit=2, lease_seconds=30, now=T0)
    deliveries.mark_delivered(claims[0].id, "w1", ("1", "SEC-9", "https://x/browse/SEC-9"))
    counts = deliveries.count_by_status(workspace.id)
    assert counts == {
        DeliveryStatus.PENDING: 1,
        DeliveryStatus.IN_FLIGHT: 1,
        DeliveryStatus.DELIVERED: 1,
        DeliveryStatus.FAILED: 0,
        DeliveryStatus.DEAD: 0,
        DeliveryStatus.HELD: 0,
        DeliveryStatus.DISCARDED: 0,
    }
    views = deliveries.list_for_workspace(workspace.id)
    assert len(views) == 3
    [delivered] = [v for v in views if v.status is DeliveryStatus.DELIVERED]
    assert (delivered.issue_key, delivered.url) == ("SEC-9", "https://x/browse/SEC-9")
    assert delivered.attempts == 1
    due = deliveries.next_due_at()
    assert due is not None
    assert due <= T0  # the pending row is due already


def _claim_all(
    database: Database, workers: int, batch: int, now: datetime
) -> dict[str, list[DeliveryRecord]]:
    claimed: dict[str, list[DeliveryRecord]] = {f"w{i}": [] for i in range(workers)}
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(worker_id: str) -> None:
        repo = ReportingRepository(database)
        try:
            barrier.wait(timeout=30)
            while got := repo.claim_due(worker_id, limit=batch, lease_seconds=300, now=now):
                claimed[worker_id].extend(got)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return claimed


@pytest.mark.usefixtures("jira")
def test_concurrent_workers_claim_disjoint_rows(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 60)
    claimed = _claim_all(database, workers=4, batch=3, now=T0)
    ids = [record.id for records in claimed.values() for record in records]
    assert len(ids) == 60
    assert len(set(ids)) == 60  # no row went to two workers
    with database.session() as session:
        rows = session.execute(select(DeliveryRow.claimed_by, DeliveryRow.attempts)).all()
    assert all(attempts == 1 for _, attempts in rows)
    owners = Counter(claimed_by for claimed_by, _ in rows)
    assert owners == Counter({w: len(r) for w, r in claimed.items() if r})


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[Database]:
    from sentineliq.storage import upgrade_to_head

    upgrade_to_head(pg_url)
    with Database(pg_url) as db:
        yield db


@pytest.mark.postgres
def test_rows_locked_by_another_claimer_are_skipped_not_waited_for(pg_database: Database) -> None:
    from sentineliq.storage import SecretBox, WorkspaceRepository

    workspace = WorkspaceRepository(pg_database).create("skip-locked")
    ProviderRepository(pg_database, SecretBox([SecretBox.generate_key()])).save(
        workspace.id, "github", {"repo": "a/b"}
    )
    AlertRepository(pg_database).ingest(
        workspace.id, [make_alert(fingerprint=f"s{i}") for i in range(4)], actor="t"
    )
    # The claimer gives up on any lock wait after 5 s: waiting would fail the test, not hang it.
    options = pg_database.url.query["options"]
    impatient = Database(
        pg_database.url.update_query_dict({"options": f"{options} -clock_timeout=5s"})
    )
    try:
        with pg_database.session() as holder:
            # Another claimer's transaction holds the two oldest rows mid-claim.
            locked = holder.scalars(
                select(DeliveryRow.id)
                .order_by(DeliveryRow.available_at, DeliveryRow.id)
                .limit(2)
                .with_for_update()
            ).all()
            claimed = DeliveryRepository(impatient).claim_due(
                "w1", limit=10, lease_seconds=60, now=T0
            )
            assert len(claimed) == 2
            assert not {c.id for c in claimed} & set(locked)
    finally:
        impatient.dispose()
    with pg_database.session() as session:
        statuses = session.scalars(select(DeliveryRow.status).where(DeliveryRow.id.in_(locked)))
        assert set(statuses) == {"pending"}


# --- reports as events (issue 9) -----------------------------------------------------------------


@pytest.mark.usefixtures("jira")
def test_an_illegal_report_is_refused_before_anything_is_written(
    database: Database,
    deliveries: ReportingRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
) -> None:
    _ingest(alerts, workspace, 1)
    [claim] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0)
    failure = Failure("network", "reset")
    with pytest.raises(IllegalTransitionError):
        deliveries.record(claim.id, "w1", Replayed())  # an operator's, never a worker's
    with pytest.raises(ValueError, match="last event"):
        deliveries.record(claim.id, "w1", Dead(failure), Refused())
    with pytest.raises(ValueError, match="at least one"):
        deliveries.record(claim.id, "w1")
    assert deliveries.get(claim.id) == claim
    assert deliveries.history(claim.id) == []
    actions = [a.action for a in AuditRepository(database).list(workspace.id)]
    assert [a for a in actions if a.startswith("delivery.")] == []


@pytest.mark.usefixtures("jira")
def test_a_refusal_clears_the_marker_and_a_lost_answer_sets_it(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 1)
    [claim] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=T0)
    deliveries.mark_sending(claim.id, "w1", reconcile_until=T0 + timedelta(seconds=9), now=T0)
    refused = deliveries.record(
        claim.id, "w1", Refused(), RetryScheduled(Failure("auth", "401"), T0), now=T0
    )
    assert (refused.status, refused.reconcile_until) == (DeliveryStatus.FAILED, None)
    later = T0 + timedelta(seconds=1)
    [again] = deliveries.claim_due("w1", limit=1, lease_seconds=30, now=later)
    window = T0 + timedelta(seconds=60)
    dead = deliveries.record(
        again.id, "w1", Unanswered(window), Dead(Failure("ambiguous", "no answer")), now=later
    )
    assert (dead.status, dead.reconcile_until, dead.attempts) == (DeliveryStatus.DEAD, window, 2)
    outcomes = [(a.outcome.value, a.attempt) for a in deliveries.history(claim.id)]
    assert outcomes == [("retry", 1), ("dead", 2)]


@pytest.mark.usefixtures("jira")
def test_leased_to_names_a_workers_leases_expired_or_not(
    deliveries: ReportingRepository, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    _ingest(alerts, workspace, 3)
    mine = deliveries.claim_due("w1", limit=2, lease_seconds=1, now=T0)
    deliveries.claim_due("w2", limit=1, lease_seconds=30, now=T0)
    assert {r.id for r in deliveries.leased_to("w1")} == {r.id for r in mine}
    deliveries.release(mine[0].id, "w1", now=T0)
    assert [r.id for r in deliveries.leased_to("w1")] == [mine[1].id]


def test_an_unreachable_database_is_reported_as_a_lost_connection() -> None:
    unreachable = Database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    try:
        with pytest.raises(ConnectionLostError):
            DeliveryRepository(unreachable).record("x", "w1", Released())
    finally:
        unreachable.dispose()
