"""Delivery lists are keyset-paged over their index: every delivery exactly once, in order,
also when many share an update time (one ingest batch)."""

from __future__ import annotations

from sentineliq.storage import Database, DeliveryRepository
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import ListCursor
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.workspaces import WorkspaceRepository

from storage_samples import jira_config, make_alert  # isort: skip


def test_pages_cover_every_delivery_once_in_order(database: Database) -> None:
    from sentineliq.storage import SecretBox

    workspace = WorkspaceRepository(database).create("Pages")
    providers = ProviderRepository(database, SecretBox([SecretBox.generate_key()]))
    config = {**jira_config(), "lifecycle": {"storm_threshold": 10_000}}
    providers.save(workspace.id, "jira", config, secret_fields={"api_token"})
    alerts = AlertRepository(database)
    for batch in range(3):  # three batches: each shares one update time
        alerts.ingest(
            workspace.id,
            [make_alert(fingerprint=f"fp-{batch}-{n}") for n in range(25)],
            actor="t",
        )
    deliveries = DeliveryRepository(database)
    whole = deliveries.list_for_workspace(workspace.id)
    assert len(whole) == 75
    assert whole == sorted(whole, key=lambda v: (v.updated_at, v.id), reverse=True)
    paged = [v for page in deliveries.iter_for_workspace(workspace.id, page_size=10) for v in page]
    assert [v.id for v in paged] == [v.id for v in whole]
    second = deliveries.list_for_workspace(workspace.id, limit=10, after=ListCursor.of(whole[9]))
    assert [v.id for v in second] == [v.id for v in whole[10:20]]
