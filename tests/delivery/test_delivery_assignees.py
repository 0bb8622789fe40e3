"""An assignee Jira cannot resolve leaves the ticket unassigned and says why on the delivery; a
mapping made afterwards assigns the next ticket (the worker's provider reads it live)."""

from __future__ import annotations

import json

from delivery_harness import Pipeline

from sentineliq.sandbox.jira.model import account_id_for
from sentineliq.services.assignees import map_assignee
from sentineliq.services.ingest import ingest_text

SHARED = "soc@corp.test"


def _ingest(pipeline: Pipeline, external_id: str, email: str) -> None:
    line = json.dumps(
        {
            "title": f"Beacon {external_id}",
            "severity": "high",
            "source": "EDR",
            "detected_at": "2026-11-27T08:00:00Z",
            "external_id": external_id,
            "assignee_email": email,
        }
    )
    report = ingest_text(pipeline.app, pipeline.workspace_id, line, actor="t")
    assert report.accepted == 1


def test_unresolved_assignee_shows_on_the_delivery_then_a_mapping_fixes_it(
    pipeline: Pipeline,
) -> None:
    pipeline.sandbox.add_user(SHARED, "SOC Shared Mailbox", email_visible=False)
    pipeline.sandbox.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
    _ingest(pipeline, "first", SHARED)
    pipeline.worker().run(until_idle=True)
    (view,) = pipeline.deliveries()
    (dropped,) = view.dropped_fields
    assert dropped.field == "assignee"
    assert dropped.reason.startswith("2 accounts with hidden email addresses match")
    (issue,) = pipeline.sandbox.issues()
    assert issue["fields"].get("assignee") is None

    map_assignee(pipeline.app, pipeline.workspace_id, SHARED, account_id_for(SHARED), actor="t")
    _ingest(pipeline, "second", SHARED)
    pipeline.worker().run(until_idle=True)
    second = next(v for v in pipeline.deliveries() if "second" in v.alert_title)
    assert second.dropped_fields == ()
    filed = next(i for i in pipeline.sandbox.issues() if i["key"] == second.issue_key)
    assert filed["fields"]["assignee"]["accountId"] == account_id_for(SHARED)
