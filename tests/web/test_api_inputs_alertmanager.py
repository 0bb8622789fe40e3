"""POST /api/v1/workspaces/{ws}/inputs/alertmanager over real HTTP: Alertmanager's documented
notification (tests/inputs/fixtures) files correct tickets in the Jira sandbox, and the same
group resolved transitions them; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.web.api.inputs import ALERTMANAGER_EXAMPLE

FIXTURE = Path(__file__).parents[1] / "inputs" / "fixtures" / "alertmanager_webhook.json"


def notification() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


@dataclass
class Receiver:
    app: AppContext
    http: httpx2.Client
    sandbox: JiraSandbox
    base: str  # the workspace's API root
    key: str
    owner: dict[str, str]

    def post(self, body: Any, **headers: str) -> httpx2.Response:
        return self.http.post(
            f"{self.base}/inputs/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {self.key}", **headers},
        )

    def work(self) -> None:
        Worker(self.app, batch_size=20).run(until_idle=True, poll_interval=0.05)

    def issue(self, alert_id: str) -> dict[str, Any]:
        workspace_id = self.base.rsplit("/", 1)[1]
        keys = {
            v.issue_key
            for v in DeliveryRepository(self.app.db).list_for_workspace(
                workspace_id, alert_id=alert_id
            )
            if v.issue_key
        }
        (key,) = keys
        return next(i for i in self.sandbox.issues() if i["key"] == key)


@pytest.fixture
def receiver(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
    serve: Callable[..., Any],
) -> Iterator[Receiver]:
    ws = people.workspace("SRE")
    configure(app_context, ws.id, "jira", jira_settings(), actor="test")
    owner = people.user("owner@sre.test", {ws.id: Role.OWNER}).headers
    live = serve()
    with httpx2.Client(timeout=30) as http:
        yield Receiver(
            app_context,
            http,
            jira_sandbox,
            f"{live.url}/api/v1/workspaces/{ws.id}",
            people.api_key(ws.id, "alertmanager"),
            owner,
        )


def test_a_group_files_correct_tickets_and_resolving_it_closes_them(receiver: Receiver) -> None:
    answer = receiver.post(notification())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"]["accepted"] == 2
    assert body["source_changes"] == []
    first_id, second_id = (r["alert_id"] for r in body["results"])
    receiver.work()

    issue = receiver.issue(first_id)["fields"]
    assert issue["summary"] == "Host high CPU load (instance web-1.example.org:9100)"
    assert issue["priority"]["name"] == "Highest"
    assert {"severity-critical", "alertname=HostHighCpuLoad", "job=node"} <= set(issue["labels"])
    text = json.dumps(issue["description"])
    assert "http://prometheus.example.org:9090/graph?g0.expr=node_load1+%3E+0.8" in text
    assert "CPU load is > 80%" in text
    assert "runbook_url" in text
    second = receiver.issue(second_id)["fields"]
    assert second["summary"] == "HostHighCpuLoad on db-2.example.org:9100"
    assert second["priority"]["name"] == "Medium"

    # The notification is kept with each alert.
    shown = receiver.http.get(f"{receiver.base}/alerts/{first_id}", headers=receiver.owner)
    kept = shown.json()["source_payload"]
    assert kept["groupKey"] == notification()["groupKey"]
    assert kept["alerts"] == [notification()["alerts"][0]]

    # Alertmanager re-notifies the firing group: duplicates, nothing new.
    again = receiver.post(notification()).json()
    assert again["totals"]["duplicate"] == 2
    assert again["source_changes"] == []

    resolved = notification()
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-12-03T08:40:33.716Z"
    answer = receiver.post(resolved)
    assert answer.status_code == 200, answer.text
    changes = answer.json()["source_changes"]
    assert [(c["alert_id"], c["status"], len(c["transitions"])) for c in changes] == [
        (first_id, "resolved", 1),
        (second_id, "resolved", 1),
    ]
    receiver.work()
    for alert_id in (first_id, second_id):
        fields = receiver.issue(alert_id)["fields"]
        assert fields["status"]["statusCategory"]["key"] == "done"
        state = AlertStateRepository(receiver.app.db).state(alert_id)
        assert (state.status, state.status_changed_by) == ("resolved", "api_key:alertmanager")
    # The resolved notification again changes nothing.
    assert receiver.post(resolved).json()["source_changes"] == []

    # It fires again later (a new startsAt): a repeat, and the alert is open again.
    refired = notification()
    refired["alerts"] = [refired["alerts"][0]]
    refired["alerts"][0]["startsAt"] = "2026-12-03T10:00:00Z"
    body = receiver.post(refired).json()
    assert body["results"][0]["status"] == "occurrence"
    assert [(c["alert_id"], c["status"]) for c in body["source_changes"]] == [(first_id, "new")]


def test_the_document_shows_the_inputs_with_a_real_example(receiver: Receiver) -> None:
    root = receiver.base.split("/api/v1/")[0]
    document = receiver.http.get(f"{root}/api/v1/openapi.json").json()
    post = document["paths"]["/api/v1/workspaces/{workspace_id}/inputs/alertmanager"]["post"]
    example = post["requestBody"]["content"]["application/json"]["example"]
    assert example == ALERTMANAGER_EXAMPLE
    # The example is what Alertmanager sends: posted as is, it is stored.
    answer = receiver.post(example)
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["accepted"] == 1
    settings = document["paths"]["/api/v1/workspaces/{workspace_id}/inputs/alertmanager/settings"]
    assert set(settings) == {"get", "put"}
    (shown,) = document["components"]["schemas"]["AlertmanagerSettings"]["examples"]
    put = receiver.http.put(
        f"{receiver.base}/inputs/alertmanager/settings", json=shown, headers=receiver.owner
    )
    assert put.status_code == 200, put.text


def test_only_the_workspace_api_key_as_a_bearer_token_is_let_in(receiver: Receiver) -> None:
    url = f"{receiver.base}/inputs/alertmanager"
    assert receiver.http.post(url, json=notification()).status_code == 401
    wrong = {"Authorization": "Bearer siq_not-a-key"}
    assert receiver.http.post(url, json=notification(), headers=wrong).status_code == 401
    basic = {"Authorization": "Basic YWxlcnRtYW5hZ2VyOnNlY3JldA=="}
    answer = receiver.http.post(url, json=notification(), headers=basic)
    assert answer.status_code == 401
    assert "Bearer" in answer.json()["detail"]


def test_refusals_name_the_field(receiver: Receiver) -> None:
    payload = notification()
    del payload["alerts"][1]["fingerprint"]
    payload["truncatedAlerts"] = 2
    answer = receiver.post(payload)
    assert answer.status_code == 207
    assert "Alertmanager left 2 alert(s)" in answer.json()["warnings"][0]
    results = answer.json()["results"]
    assert results[0]["status"] == "accepted"
    assert results[1]["status"] == "refused"
    assert results[1]["errors"][0]["field"] == "fingerprint"

    answer = receiver.post({"version": "4", "receiver": "x"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "alerts"
    raw = receiver.http.post(
        f"{receiver.base}/inputs/alertmanager",
        content=b'{"alerts": [',
        headers={"Authorization": f"Bearer {receiver.key}", "Content-Type": "application/json"},
    )
    assert raw.status_code == 400
    assert "invalid JSON" in raw.json()["errors"][0]["message"]
    text = receiver.http.post(
        f"{receiver.base}/inputs/alertmanager",
        content=b"alerts",
        headers={"Authorization": f"Bearer {receiver.key}", "Content-Type": "text/plain"},
    )
    assert text.status_code == 415


def test_the_severity_map_is_set_per_workspace_and_audited(receiver: Receiver) -> None:
    url = f"{receiver.base}/inputs/alertmanager/settings"
    shown = receiver.http.get(url, headers=receiver.owner).json()
    assert shown["severity_map"]["warning"] == "medium"
    assert shown["default_severity"] == "medium"
    put = receiver.http.put(url, json={"severity_map": {"warning": "high"}}, headers=receiver.owner)
    assert put.status_code == 200, put.text
    assert receiver.http.get(url, headers=receiver.owner).json()["severity_map"] == {
        "warning": "high"
    }
    bad = receiver.http.put(url, json={"severity_map": {"x": "urgent"}}, headers=receiver.owner)
    assert bad.status_code == 422
    body = receiver.post(notification()).json()
    (entry,) = [
        e
        for e in AuditRepository(receiver.app.db).list(receiver.base.rsplit("/", 1)[1])
        if e.action == "workspace.input_settings_changed"
    ]
    assert entry.details["input"] == "alertmanager"
    assert entry.actor == "owner@sre.test"
    # "critical" is no longer mapped: the default, with a warning naming the label.
    first, second = body["results"]
    assert first["warnings"][0]["field"] == "labels.severity"
    receiver.work()
    assert receiver.issue(second["alert_id"])["fields"]["priority"]["name"] == "High"
