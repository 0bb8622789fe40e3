"""The API tells what it repaired and when an alert got no delivery; enabling a provider with
backfill then files that alert's ticket, once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.web.app import create_app

ALERT = {
    "title": "Credential phishing page reported by a user",
    "severity": "high",
    "source": "Mail gateway",
    "detected_at": "2026-11-27T08:00:00Z",
}
# What real senders emit: nulls, empty tag strings, an empty location, an internal domain, and a
# line separator inside a string (which the old reader cut the record at).
SLOPPY = {
    **ALERT,
    "title": "Macro document\u2028opened on FIN-LT-0142",
    "category": None,
    "tags": ["phishing", ""],
    "assignee_email": "analyst@corp.local",
    "evidence": [{"name": "invoice.docm", "type": "file", "location": ""}],
}


def _ndjson(*records: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"


def test_stranded_alert_is_reported_then_backfilled_and_delivered_once(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    admin = people.user("admin@soc.test", {workspace.id: Role.ADMIN})
    base = f"/api/v1/workspaces/{workspace.id}"
    with TestClient(create_app(app_context)) as http:
        answer = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(SLOPPY, {**ALERT, "severity": "extreme"}).encode(),
        )
        assert answer.status_code == 207, answer.text
        body = answer.json()
        accepted, refused = body["results"]
        assert refused["errors"] == [
            {
                "field": "severity",
                "message": "Input should be 'critical', 'high', 'medium', 'low' or 'info'",
            }
        ]
        assert accepted["status"] == "accepted"
        assert {(w["field"], w["message"]) for w in accepted["warnings"]} == {
            ("title", "1 control character replaced by spaces"),
            ("category", "null; treated as absent"),
            ("tags[1]", "empty string dropped"),
            ("evidence[0].location", "empty; treated as absent"),
        }
        assert (accepted["deliveries"], accepted["without_delivery"]) == (0, True)
        assert body["without_delivery"] == 1
        assert body["warnings"] == [
            "1 alert was stored without a delivery: the workspace has no enabled ticket "
            "provider, so no ticket will be filed for them until one is enabled (enabling "
            "backfills the alerts of the last 24 hours by default)"
        ]
        alert_id = accepted["alert_id"]

        # The warnings are kept with the alert.
        shown = http.get(f"{base}/alerts/{alert_id}", headers=admin.headers).json()
        assert len(shown["warnings"]) == 4
        assert shown["alert"]["assignee_email"] == "analyst@corp.local"
        assert shown["alert"]["tags"] == ["phishing"]
        assert shown["deliveries"] == []

        configure(app_context, workspace.id, "jira", jira_settings(), enabled=False, actor="t")
        enabled = http.post(
            f"{base}/providers/jira/enable", headers=admin.headers, json={"backfill_hours": 24}
        )
        assert enabled.status_code == 200, enabled.text
        assert (enabled.json()["enabled"], enabled.json()["backfilled"]) == (True, 1)

        worker = Worker(app_context)
        try:
            assert worker.run_once() == 1
            [issue] = jira_sandbox.issues()
            assert issue["fields"]["summary"] == "Macro document opened on FIN-LT-0142"
            shown = http.get(f"{base}/alerts/{alert_id}", headers=admin.headers).json()
            assert [d["status"] for d in shown["deliveries"]] == ["delivered"]

            # Enabling again (no body: the default window) finds nothing missing.
            again = http.post(f"{base}/providers/jira/enable", headers=admin.headers)
            assert (again.json()["backfill_hours"], again.json()["backfilled"]) == (24, 0)
            assert worker.run_once() == 0
            assert len(jira_sandbox.issues()) == 1
        finally:
            worker.close()

        # With a provider enabled, an alert is queued at once and the answer has no warning.
        queued = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}"},
            json={**ALERT, "title": "Second"},
        ).json()
        assert (queued["without_delivery"], queued["warnings"]) == (0, [])
        [second] = queued["results"]
        assert (second["deliveries"], second["without_delivery"], second["warnings"]) == (
            1,
            False,
            [],
        )


def test_enable_refuses_a_bad_backfill_window_naming_the_field(
    app_context: AppContext, people: Any, jira_settings: Callable[..., dict[str, Any]]
) -> None:
    workspace = people.workspace("SOC")
    admin = people.user("admin@soc.test", {workspace.id: Role.ADMIN})
    configure(app_context, workspace.id, "jira", jira_settings(), enabled=False, actor="t")
    url = f"/api/v1/workspaces/{workspace.id}/providers/jira/enable"
    with TestClient(create_app(app_context)) as http:
        for bad in (-1, 721, "24", True, 2.5):
            answer = http.post(url, headers=admin.headers, json={"backfill_hours": bad})
            assert answer.status_code == 422, answer.text
            assert [e["field"] for e in answer.json()["errors"]] == ["body.backfill_hours"]
        still = http.get(
            f"/api/v1/workspaces/{workspace.id}/providers/jira", headers=admin.headers
        ).json()
        assert still["enabled"] is False


def test_creating_an_enabled_provider_backfills_too(
    app_context: AppContext, people: Any, jira_settings: Callable[..., dict[str, Any]]
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    admin = people.user("admin@soc.test", {workspace.id: Role.ADMIN})
    base = f"/api/v1/workspaces/{workspace.id}"
    with TestClient(create_app(app_context)) as http:
        stored = http.post(
            f"{base}/alerts", headers={"Authorization": f"Bearer {key}"}, json=ALERT
        ).json()
        assert stored["without_delivery"] == 1
        alert_id = stored["results"][0]["alert_id"]
        created = http.put(
            f"{base}/providers/jira", headers=admin.headers, json={"config": jira_settings()}
        )
        assert created.status_code == 201, created.text
        shown = http.get(f"{base}/alerts/{alert_id}", headers=admin.headers).json()
        assert [(d["provider"], d["status"]) for d in shown["deliveries"]] == [("jira", "pending")]
        # Saving it again (still enabled) is no new enable: nothing is queued twice.
        again = http.put(
            f"{base}/providers/jira", headers=admin.headers, json={"config": jira_settings()}
        )
        assert again.status_code == 200, again.text
        shown = http.get(f"{base}/alerts/{alert_id}", headers=admin.headers).json()
        assert len(shown["deliveries"]) == 1
