"""Provider pauses: set after an auth failure, cleared by an operator or a changed configuration,
and while set the provider's deliveries wait (never dead) and are not claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from storage_samples import TOKEN, jira_config, make_alert

from sentineliq.storage import (
    AlertRepository,
    AuditRepository,
    Database,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    NotFoundError,
    ProviderRecord,
    ProviderRepository,
    WorkspaceRecord,
)

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def jira(providers: ProviderRepository, workspace: WorkspaceRecord) -> ProviderRecord:
    return providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})


def _actions(database: Database, workspace: WorkspaceRecord, prefix: str) -> list[str]:
    entries = AuditRepository(database).list(workspace.id, limit=1000)
    return [e.action for e in reversed(entries) if e.action.startswith(prefix)]


def test_pause_and_resume_are_recorded_and_idempotent(
    database: Database,
    providers: ProviderRepository,
    workspace: WorkspaceRecord,
    jira: ProviderRecord,
) -> None:
    assert not jira.is_paused
    assert jira.paused_at is None
    paused = providers.pause(workspace.id, "jira", "401: token rejected", actor="w1")
    assert paused.is_paused
    assert paused.paused_reason == "401: token rejected"
    assert paused.paused_at is not None
    # A second worker hitting the same 401 changes nothing: the first time and reason stand.
    again = providers.pause(workspace.id, "jira", "401 again", actor="w2")
    assert (again.paused_at, again.paused_reason) == (paused.paused_at, paused.paused_reason)
    stored = providers.get(workspace.id, "jira", decrypt=False)
    assert stored is not None
    assert stored.paused_reason == "401: token rejected"
    assert "paused=True" in repr(stored)
    assert _actions(database, workspace, "provider.") == ["provider.configured", "provider.paused"]

    resumed = providers.resume(workspace.id, "jira", actor="cli")
    assert not resumed.is_paused
    assert resumed.paused_reason is None
    assert providers.resume(workspace.id, "jira", actor="cli") == resumed  # no-op, no audit
    assert _actions(database, workspace, "provider.") == [
        "provider.configured",
        "provider.paused",
        "provider.resumed",
    ]
    [entry] = [
        a for a in AuditRepository(database).list(workspace.id) if a.action == "provider.resumed"
    ]
    assert entry.actor == "cli"
    assert entry.details["paused_reason"] == "401: token rejected"

    with pytest.raises(NotFoundError):
        providers.pause(workspace.id, "servicenow", "x", actor="w1")
    with pytest.raises(NotFoundError):
        providers.resume(workspace.id, "servicenow", actor="cli")


def test_changing_the_configuration_resumes_but_saving_it_unchanged_does_not(
    database: Database,
    providers: ProviderRepository,
    workspace: WorkspaceRecord,
    jira: ProviderRecord,
) -> None:
    providers.pause(workspace.id, "jira", "401: token rejected", actor="w1")
    unchanged = providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
    assert unchanged.is_paused  # same plaintext: nothing was fixed
    assert unchanged.config_version == jira.config_version
    fixed = providers.save(
        workspace.id, "jira", jira_config("a-new-token"), secret_fields={"api_token"}, actor="cli"
    )
    assert not fixed.is_paused
    assert fixed.config_version == jira.config_version + 1
    [entry] = [
        a for a in AuditRepository(database).list(workspace.id) if a.action == "provider.resumed"
    ]
    assert entry.details["reason"] == "configuration changed"
    assert entry.actor == "cli"
    assert "a-new-token" not in repr(entry)


def test_a_pause_from_a_replaced_configuration_is_ignored(
    providers: ProviderRepository, workspace: WorkspaceRecord, jira: ProviderRecord
) -> None:
    # A worker's request failed with version 1 while an operator was saving version 2.
    providers.save(workspace.id, "jira", jira_config("fixed"), secret_fields={"api_token"})
    stale = providers.pause(
        workspace.id, "jira", "401", actor="w1", config_version=jira.config_version
    )
    assert not stale.is_paused
    current = providers.pause(
        workspace.id, "jira", "401", actor="w1", config_version=jira.config_version + 1
    )
    assert current.is_paused


def test_pause_reason_is_scrubbed_of_credentials(
    providers: ProviderRepository, workspace: WorkspaceRecord, jira: ProviderRecord
) -> None:
    paused = providers.pause(
        workspace.id, "jira", f"401 for Authorization: Basic {TOKEN}", actor="w1"
    )
    assert paused.paused_reason is not None
    assert TOKEN not in paused.paused_reason
    assert "401 for Authorization" in paused.paused_reason


def test_paused_provider_holds_its_deliveries_until_resumed(
    providers: ProviderRepository,
    deliveries: DeliveryRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
    jira: ProviderRecord,
) -> None:
    alerts.ingest(workspace.id, [make_alert(fingerprint=f"p{i}") for i in range(3)], actor="t")
    providers.pause(workspace.id, "jira", "401", actor="w1")
    # Paused, yet enabled: pausing is not the operator's switch, and new alerts still queue.
    record = providers.get(workspace.id, "jira", decrypt=False)
    assert record is not None
    assert record.is_enabled
    assert deliveries.claim_due("w1", limit=10, lease_seconds=30, now=T0) == []
    assert deliveries.next_due_at() is None
    [view, *_] = deliveries.list_for_workspace(workspace.id)
    assert view.provider_paused_reason == "401"
    assert view.provider_paused_at is not None
    providers.resume(workspace.id, "jira", actor="cli")
    assert deliveries.next_due_at() is not None
    claimed = deliveries.claim_due("w1", limit=10, lease_seconds=30, now=T0)
    assert len(claimed) == 3
    assert all(c.status is DeliveryStatus.IN_FLIGHT for c in claimed)
    assert deliveries.list_for_workspace(workspace.id)[0].provider_paused_reason is None


def test_resume_credits_the_pause_to_waiting_deliveries(
    providers: ProviderRepository,
    deliveries: DeliveryRepository,
    alerts: AlertRepository,
    workspace: WorkspaceRecord,
    jira: ProviderRecord,
) -> None:
    alerts.ingest(workspace.id, [make_alert(fingerprint="before")], actor="t")
    paused = providers.pause(workspace.id, "jira", "CAPTCHA", actor="w1")
    alerts.ingest(workspace.id, [make_alert(fingerprint="during")], actor="t")
    assert paused.paused_at is not None
    resumed_at = paused.paused_at + timedelta(days=4)
    providers.resume(workspace.id, "jira", actor="cli", now=resumed_at)
    ids = [view.id for view in deliveries.list_for_workspace(workspace.id)]

    def records() -> list[DeliveryRecord]:
        found = [deliveries.get(delivery_id) for delivery_id in ids]
        return sorted((r for r in found if r is not None), key=lambda r: r.created_at)

    before, during = records()
    # Queued before the pause: the whole pause. Queued during it: from its creation on.
    assert before.paused_seconds == pytest.approx(4 * 24 * 3600)
    assert during.paused_seconds == pytest.approx((resumed_at - during.created_at).total_seconds())
    assert abs((during.age_origin - resumed_at).total_seconds()) < 0.01
    # Resuming again credits nothing more; only a lifted pause counts.
    providers.resume(workspace.id, "jira", actor="cli", now=resumed_at + timedelta(days=1))
    assert [r.paused_seconds for r in records()] == [before.paused_seconds, during.paused_seconds]
