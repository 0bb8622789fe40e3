"""Delivery lists are keyset-paged over their index: every delivery exactly once, in order,
also when many share an update time (one ingest batch)."""

from __future__ import annotations

from sentineliq.storage import Database, DeliveryRepository
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import ListCursor
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.workspaces import WorkspaceRepository

from query_plans import sqlite_plan  # isort: skip
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


def test_lists_and_the_claim_read_their_index_in_order(sqlite_url: str) -> None:
    # The cost of a page or a claim must not grow with the table: each reads an index range in
    # the order asked for (no sort of every matching row). SQLite's plan says which.
    from sentineliq.storage import SecretBox, upgrade_to_head

    upgrade_to_head(sqlite_url)
    database = Database(sqlite_url)
    try:
        workspace = WorkspaceRepository(database).create("Plans")
        providers = ProviderRepository(database, SecretBox([SecretBox.generate_key()]))
        providers.save(workspace.id, "jira", jira_config(), secret_fields={"api_token"})
        AlertRepository(database).ingest(
            workspace.id, [make_alert(fingerprint=f"fp-{n}") for n in range(5)], actor="t"
        )
        deliveries = DeliveryRepository(database)
        dead_page = sqlite_plan(
            database, lambda: deliveries.list_for_workspace(workspace.id, "dead", limit=200)
        )
        assert any("ix_deliveries_workspace_id_status_updated_at_id" in s for s in dead_page)
        claim = sqlite_plan(
            database,
            lambda: deliveries.claim_due("w", limit=5, lease_seconds=30),
            containing="lease_until",
        )
        waiting = "USING INDEX ix_deliveries_due_waiting_by_provider (workspace_id=? AND provider=?"
        assert any(waiting in s for s in claim)
        assert any("USING INDEX ix_deliveries_due_leased (lease_until<?)" in s for s in claim)
        for plan in (dead_page, claim):
            # Only the claim's merge of its two short branches (2 x limit rows) is sorted.
            sorts = [s for s in plan if "TEMP B-TREE" in s]
            assert sorts == ([] if plan is dead_page else ["USE TEMP B-TREE FOR ORDER BY"])
    finally:
        database.dispose()
