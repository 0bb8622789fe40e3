"""A project that starts requiring a field: deliveries pause (nothing dead-lettered) until the
configuration gives the field a value, then everything arrives. Sandbox over HTTP, SQLite and
PostgreSQL."""

from __future__ import annotations

from delivery_harness import Pipeline

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira.seed import TEAM_FIELD
from sentineliq.services.providers import configure
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryStatus
from sentineliq.storage.providers import ProviderRepository


def test_required_field_pauses_then_a_field_value_resumes(pipeline: Pipeline) -> None:
    pipeline.sandbox.require_field("SEC", TEAM_FIELD)
    pipeline.ingest(4)
    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert stats.paused >= 1
    assert stats.dead == 0
    provider = ProviderRepository(pipeline.app.db, pipeline.app.secrets).get(
        pipeline.workspace_id, "jira", decrypt=False
    )
    assert provider is not None
    assert provider.is_paused
    assert provider.paused_reason is not None
    assert "Team" in provider.paused_reason
    views = pipeline.deliveries()
    assert {v.status for v in views} == {DeliveryStatus.PENDING}
    assert all(v.provider_paused_reason for v in views)
    actions = [e.action for e in AuditRepository(pipeline.app.db).list(pipeline.workspace_id)]
    assert "provider.paused" in actions
    assert pipeline.sandbox.issues() == []
    # Paused: another pass sends nothing to Jira.
    posts = len([r for r in pipeline.sandbox.requests() if r.method == "POST"])
    pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert len([r for r in pipeline.sandbox.requests() if r.method == "POST"]) == posts

    config = {
        **sandbox_provider_config(pipeline.sandbox.url),
        "field_values": {"Team": "Red Team"},
    }
    configure(pipeline.app, pipeline.workspace_id, "jira", config, actor="test")
    pipeline.worker().run(until_idle=True, poll_interval=0.1)
    pipeline.assert_exactly_once(4)
    issues = pipeline.sandbox.issues()
    assert {i["fields"][TEAM_FIELD]["value"] for i in issues} == {"Red Team"}
