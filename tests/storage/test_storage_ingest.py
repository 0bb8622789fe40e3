"""Ingest: alert, children, custody and outbox rows commit together, once per fingerprint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from storage_samples import jira_config, make_alert

from sentineliq.lifecycle.fingerprint import fingerprint_of
from sentineliq.storage import (
    AlertRepository,
    AuditRepository,
    Database,
    DeliveryStatus,
    NotFoundError,
    ProviderRepository,
    WorkspaceRecord,
    WorkspaceRepository,
    idempotency_key_for,
)
from sentineliq.storage.tables import (
    AlertAttackRefRow,
    AlertObservableRow,
    AlertOccurrenceRow,
    AlertRow,
    AuditRow,
    CustodyEntryRow,
    DeliveryRow,
    EvidenceRow,
    new_id,
)

CHILD_TABLES = (
    AlertRow,
    AlertObservableRow,
    AlertAttackRefRow,
    EvidenceRow,
    CustodyEntryRow,
    DeliveryRow,
)


def _counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (*CHILD_TABLES, AuditRow)
        }


@pytest.fixture
def two_providers(providers: ProviderRepository, workspace: WorkspaceRecord) -> None:
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
    providers.save(workspace.id, "github", {"repo": "acme/sec"})
    providers.save(workspace.id, "servicenow", {"instance": "acme"}, enabled=False)


@pytest.mark.usefixtures("two_providers")
def test_ingest_writes_alert_children_and_one_delivery_per_enabled_provider(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    alert = make_alert()
    [outcome] = alerts.ingest(workspace.id, [alert], actor="cli")
    assert outcome.status == "accepted"
    assert outcome.deliveries == 2
    assert outcome.fingerprint == fingerprint_of(alert)
    counts = _counts(database)
    assert counts["alerts"] == 1
    assert counts["alert_observables"] == 3
    assert counts["alert_attack_refs"] == 3
    assert counts["evidence"] == 2
    assert counts["custody_entries"] == 3
    assert counts["deliveries"] == 2

    stored = alerts.get(outcome.alert_id)
    assert stored.alert == alert  # rebuilt exactly from the payload
    assert stored.workspace_name == "acme-soc"
    assert len(stored.evidence_ids) == 2
    assert stored.tickets == ()

    with database.session() as session:
        row = session.get_one(AlertRow, outcome.alert_id)
        assert row.detected_at == datetime(2026, 11, 27, 7, 15, tzinfo=UTC)
        assert row.severity == "high"
        assert row.tags == ["powershell", "initial-access"]
        attack_ids = session.scalars(
            select(AlertAttackRefRow.attack_id).order_by(AlertAttackRefRow.position)
        ).all()
        assert attack_ids == ["T1059.001", "T1105", "TA0002"]
        tlps = session.scalars(
            select(AlertObservableRow.tlp).order_by(AlertObservableRow.position)
        ).all()
        assert tlps == ["amber", "clear", "amber"]
        outbox = session.scalars(select(DeliveryRow).order_by(DeliveryRow.provider)).all()
        assert [d.provider for d in outbox] == ["github", "jira"]
        for delivery in outbox:
            assert delivery.status == DeliveryStatus.PENDING
            assert delivery.attempts == 0
            assert delivery.idempotency_key == idempotency_key_for(delivery.id)
            assert delivery.idempotency_key.startswith("siq-")
            assert len(delivery.idempotency_key) == 28

    audit = AuditRepository(database).list(workspace.id)
    ingested = [entry for entry in audit if entry.action == "alert.ingested"]
    assert len(ingested) == 1
    assert ingested[0].actor == "cli"
    assert ingested[0].target == f"alert:{outcome.alert_id}"


@pytest.mark.usefixtures("two_providers")
def test_duplicate_fingerprint_creates_nothing(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    [first] = alerts.ingest(workspace.id, [make_alert()], actor="cli")
    before = _counts(database)
    # Same source and external id: the same problem, even with a new title.
    again = alerts.ingest(
        workspace.id, [make_alert(), make_alert(title="Re-sent with a new title")], actor="api"
    )
    assert [(o.status, o.alert_id, o.deliveries) for o in again] == [
        ("duplicate", first.alert_id, 0),
        ("duplicate", first.alert_id, 0),
    ]
    assert _counts(database) == before


def test_duplicates_within_one_batch_and_across_workspaces(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    other = WorkspaceRepository(database).create("other-team")
    alert = make_alert(fingerprint="fp-1")
    outcomes = alerts.ingest(
        workspace.id, [alert, make_alert(fingerprint="fp-2"), alert], actor="t"
    )
    assert [o.status for o in outcomes] == ["accepted", "accepted", "duplicate"]
    assert outcomes[2].alert_id == outcomes[0].alert_id
    assert outcomes[0].deliveries == 0  # no providers configured: nothing to deliver
    # Fingerprints are unique per workspace, not globally.
    [elsewhere] = alerts.ingest(other.id, [alert], actor="t")
    assert elsewhere.status == "accepted"
    assert elsewhere.alert_id != outcomes[0].alert_id


@pytest.mark.usefixtures("two_providers")
def test_failure_mid_ingest_leaves_nothing(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    before = _counts(database)

    # Break the chunk's last write (its audit entries): by then both alerts, their children
    # and their outbox rows have been written inside the transaction.
    seen = {"audit": 0}

    def fail_on_audit(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            seen["audit"] += 1
            raise OperationalError(statement, {}, Exception("disk full (injected)"))

    event.listen(database.engine, "before_cursor_execute", fail_on_audit)
    try:
        with pytest.raises(OperationalError, match="injected"):
            alerts.ingest(
                workspace.id,
                [make_alert(fingerprint="a"), make_alert(fingerprint="b")],
                actor="cli",
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", fail_on_audit)
    assert seen["audit"] == 1
    assert _counts(database) == before
    # And the same batch goes through afterwards.
    outcomes = alerts.ingest(
        workspace.id, [make_alert(fingerprint="a"), make_alert(fingerprint="b")], actor="cli"
    )
    assert [o.status for o in outcomes] == ["accepted", "accepted"]


def test_unknown_workspace_and_alert(alerts: AlertRepository) -> None:
    with pytest.raises(NotFoundError):
        alerts.ingest("00000000-0000-0000-0000-000000000000", [make_alert()], actor="t")
    with pytest.raises(NotFoundError):
        alerts.get("00000000-0000-0000-0000-000000000000")


def test_list_for_workspace(alerts: AlertRepository, workspace: WorkspaceRecord) -> None:
    alerts.ingest(
        workspace.id, [make_alert(fingerprint="x"), make_alert(fingerprint="y")], actor="t"
    )
    listed = alerts.list_for_workspace(workspace.id)
    assert {a.fingerprint for a in listed} == {"x", "y"}
    assert all(a.severity == "high" for a in listed)


@pytest.mark.usefixtures("two_providers")
def test_concurrent_ingest_of_one_fingerprint_accepts_exactly_once(
    database: Database, workspace: WorkspaceRecord
) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def ingest() -> None:
        try:
            repo = AlertRepository(database)
            barrier.wait(timeout=30)
            results.extend(repo.ingest(workspace.id, [make_alert()], actor="t"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ingest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(o.status for o in results) == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert len({o.alert_id for o in results}) == 1
    assert _counts(database)["deliveries"] == 2


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[Database]:
    from sentineliq.storage import upgrade_to_head

    upgrade_to_head(pg_url)
    with Database(pg_url) as db:
        yield db


@pytest.mark.postgres
def test_race_lost_at_the_unique_constraint_records_an_occurrence(pg_database: Database) -> None:
    """Force the interleaving the pre-check cannot see: another transaction has inserted the
    same fingerprint but not committed. Our insert must wait, then record its alert as a repeat
    of the winner's (never lose it)."""
    workspace = WorkspaceRepository(pg_database).create("race")
    ProviderRepository(pg_database, _box()).save(workspace.id, "github", {"repo": "a/b"})
    alert = make_alert()
    rival_id = new_id()
    outcome: list[Any] = []
    with pg_database.session() as rival:
        rival.add(_bare_alert_row(rival_id, workspace.id, fingerprint_of(alert)))
        rival.flush()  # holds the unique-index entry until commit
        worker = threading.Thread(
            target=lambda: outcome.extend(
                AlertRepository(pg_database).ingest(workspace.id, [alert], actor="t")
            )
        )
        worker.start()
        _wait_for_lock_waiter(pg_database)
    # The rival committed on leaving the block; the worker's insert now fails and it recovers.
    worker.join(timeout=30)
    assert [(o.status, o.alert_id) for o in outcome] == [("occurrence", rival_id)]
    with pg_database.session() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryRow)) == 0
        assert session.scalar(select(func.count()).select_from(AlertOccurrenceRow)) == 1


def _box() -> Any:
    from sentineliq.storage import SecretBox

    return SecretBox([SecretBox.generate_key()])


def _bare_alert_row(alert_id: str, workspace_id: str, fingerprint: str) -> AlertRow:
    now = datetime.now(UTC)
    return AlertRow(
        id=alert_id,
        workspace_id=workspace_id,
        fingerprint=fingerprint,
        module="aegis",
        title="rival",
        severity="low",
        status="new",
        source="rival",
        detected_at=now,
        description="",
        affected_assets=[],
        tags=[],
        payload={},
        created_at=now,
    )


def _wait_for_lock_waiter(database: Database) -> None:
    """Poll until some backend of this database waits on a lock (the worker's blocked insert)."""
    deadline = time.monotonic() + 30
    probe = Database(database.url)
    try:
        while time.monotonic() < deadline:
            with probe.engine.connect() as connection:
                waiting = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND query ILIKE 'INSERT INTO alerts%'"
                    )
                )
            if waiting:
                return
            time.sleep(0.05)
        raise AssertionError("the concurrent ingest never blocked on the uncommitted rival row")
    finally:
        probe.dispose()
