"""Ingest warnings are kept with the alert; enabling a provider backfills what it missed, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from storage_samples import jira_config, make_alert

from sentineliq.alerts.normalize import IngestWarning
from sentineliq.storage import (
    AlertRepository,
    Database,
    InvalidStateError,
    NotFoundError,
    ProviderRepository,
    WorkspaceRecord,
)
from sentineliq.storage.backfill import backfill_deliveries
from sentineliq.storage.tables import AlertRow, AuditRow, DeliveryRow
from sentineliq.storage.types import utcnow


def _deliveries(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(DeliveryRow.alert_id, DeliveryRow.provider)).all()
        return sorted((alert_id, provider) for alert_id, provider in rows)


def test_ingest_warnings_are_stored_and_read_back(
    alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    warned = (
        IngestWarning("category", "null; treated as absent"),
        IngestWarning("tags[1]", "empty string dropped"),
    )
    first, second = alerts.ingest(
        workspace.id,
        [make_alert(external_id="w-1"), make_alert(external_id="w-2")],
        actor="test",
        warnings=[warned, ()],
    )
    assert alerts.get(first.alert_id).warnings == warned
    assert alerts.get(second.alert_id).warnings == ()


def test_ingest_refuses_misaligned_warnings(
    alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    with pytest.raises(ValueError, match="one list of warnings per alert"):
        alerts.ingest(workspace.id, [make_alert()], actor="test", warnings=[])


def _stranded(alerts: AlertRepository, workspace: WorkspaceRecord, count: int) -> list[str]:
    outcomes = alerts.ingest(
        workspace.id, [make_alert(external_id=f"s-{n}") for n in range(count)], actor="test"
    )
    assert [o.deliveries for o in outcomes] == [0] * count  # no provider: nothing queued
    return [o.alert_id for o in outcomes]


def test_backfill_queues_missing_deliveries_once_and_is_audited(
    database: Database,
    alerts: AlertRepository,
    providers: ProviderRepository,
    workspace: WorkspaceRecord,
) -> None:
    stranded = _stranded(alerts, workspace, 3)
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
    # An alert ingested after the enable got its delivery from ingest itself.
    [later] = alerts.ingest(workspace.id, [make_alert(external_id="later")], actor="test")
    assert later.deliveries == 1

    result = backfill_deliveries(database, workspace.id, "jira", hours=24, actor="alice")
    assert result.created == 3
    assert sorted(result.alert_ids) == sorted(stranded)
    assert _deliveries(database) == sorted((a, "jira") for a in [*stranded, later.alert_id])
    again = backfill_deliveries(database, workspace.id, "jira", hours=24, actor="alice")
    assert again.created == 0
    assert len(_deliveries(database)) == 4
    with database.session() as session:
        audits = session.scalars(
            select(AuditRow).where(AuditRow.action == "provider.backfilled").order_by(AuditRow.at)
        ).all()
        assert [(a.actor, a.details["created"], a.details["hours"]) for a in audits] == [
            ("alice", 3, 24),
            ("alice", 0, 24),
        ]


def test_alerts_older_than_the_window_are_not_backfilled(
    database: Database,
    alerts: AlertRepository,
    providers: ProviderRepository,
    workspace: WorkspaceRecord,
) -> None:
    old, recent = _stranded(alerts, workspace, 2)
    with database.session() as session:
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == old)
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
    result = backfill_deliveries(database, workspace.id, "jira", hours=24, actor="t")
    assert result.alert_ids == (recent,)
    assert _deliveries(database) == [(recent, "jira")]
    wider = backfill_deliveries(database, workspace.id, "jira", hours=48, actor="t")
    assert wider.alert_ids == (old,)


def test_backfill_needs_an_enabled_provider_and_a_sane_window(
    database: Database,
    alerts: AlertRepository,
    providers: ProviderRepository,
    workspace: WorkspaceRecord,
) -> None:
    _stranded(alerts, workspace, 1)
    with pytest.raises(NotFoundError):
        backfill_deliveries(database, workspace.id, "jira", hours=24, actor="t")
    providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"}, enabled=False)
    with pytest.raises(InvalidStateError):
        backfill_deliveries(database, workspace.id, "jira", hours=24, actor="t")
    for hours in (-1, 10_000):
        with pytest.raises(ValueError, match="backfill_hours: must be between 0 and 720"):
            backfill_deliveries(database, workspace.id, "jira", hours=hours, actor="t")
    assert _deliveries(database) == []
