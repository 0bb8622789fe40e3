"""POST /api/v1/workspaces/{ws}/inputs/ocsf over real HTTP: an OCSF Detection Finding in its
published shape (tests/inputs/fixtures) files a correct ticket in the Jira sandbox (title,
priority, ATT&CK technique and tactic, observables, the link), and the same finding resolved
at its source transitions it; published Security Findings as an array; on SQLite and
PostgreSQL."""

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
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.tickets.defang import defang
from sentineliq.web.api.ocsf import OCSF_EXAMPLE

FIXTURES = Path(__file__).parents[1] / "inputs" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"ocsf_{name}.json").read_text())


@dataclass
class Receiver:
    app: AppContext
    http: httpx2.Client
    sandbox: JiraSandbox
    base: str  # the workspace's API root
    key: str
    owner: dict[str, str]

    def post(self, body: Any) -> httpx2.Response:
        return self.http.post(
            f"{self.base}/inputs/ocsf", json=body, headers={"Authorization": f"Bearer {self.key}"}
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
        found: dict[str, Any] = next(i for i in self.sandbox.issues() if i["key"] == key)
        return found


@pytest.fixture
def receiver(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
    serve: Callable[..., Any],
) -> Iterator[Receiver]:
    ws = people.workspace("SOC")
    configure(app_context, ws.id, "jira", jira_settings(), actor="test")
    owner = people.user("owner@soc.test", {ws.id: Role.OWNER}).headers
    live = serve()
    with httpx2.Client(timeout=30) as http:
        yield Receiver(
            app_context,
            http,
            jira_sandbox,
            f"{live.url}/api/v1/workspaces/{ws.id}",
            people.api_key(ws.id, "security-hub"),
            owner,
        )


def test_a_detection_finding_files_a_correct_ticket_and_resolving_it_closes_it(
    receiver: Receiver,
) -> None:
    finding = fixture("guardduty_detection_finding")
    answer = receiver.post(finding)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"]["accepted"] == 1
    assert body["source_changes"] == []
    (result,) = body["results"]
    alert_id = result["alert_id"]
    receiver.work()

    issue = receiver.issue(alert_id)["fields"]
    assert issue["summary"] == "Backdoor:EC2/C&CActivity.B!DNS"
    assert issue["priority"]["name"] == "High"  # severity_id 4
    labels = set(issue["labels"])
    assert {"severity-high", "attack-T1071.004", "attack-T1071", "attack-TA0011"} <= labels
    assert "attack-T1568" in labels  # the second attack entry
    text = json.dumps(issue["description"])
    assert "T1071.004" in text
    assert "TA0011" in text
    # Observables (defanged in the ticket) and the link back to the console.
    assert defang("GuardDutyC2ActivityB.com") in text
    assert defang("10.0.0.23") in text
    assert finding["finding_info"]["src_url"] in text
    assert "i-99999999" in text  # the affected resource

    # The finding is kept with the alert.
    shown = receiver.http.get(f"{receiver.base}/alerts/{alert_id}", headers=receiver.owner)
    assert shown.json()["source_payload"] == finding

    # Sent again (a retry, or an update of the same finding): a duplicate.
    finding["time"] += 60_000
    again = receiver.post(finding).json()
    assert again["totals"]["duplicate"] == 1

    finding["status_id"], finding["status"] = 4, "Resolved"
    answer = receiver.post(finding)
    assert answer.status_code == 200, answer.text
    changes = answer.json()["source_changes"]
    assert [(c["alert_id"], c["status"], len(c["transitions"])) for c in changes] == [
        (alert_id, "resolved", 1)
    ]
    receiver.work()
    assert receiver.issue(alert_id)["fields"]["status"]["statusCategory"]["key"] == "done"
    state = AlertStateRepository(receiver.app.db).state(alert_id)
    assert (state.status, state.status_changed_by) == ("resolved", "api_key:security-hub")
    assert receiver.post(finding).json()["source_changes"] == []


def test_published_security_findings_as_an_array_and_refusals_naming_the_field(
    receiver: Receiver,
) -> None:
    findings = fixture("securityscorecard_findings")
    broken = fixture("qradar_offense")
    del broken["finding"]["uid"]
    answer = receiver.post([*findings, broken])
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "refused"]
    assert results[2]["errors"][0]["field"] == "finding.uid"
    receiver.work()
    issue = receiver.issue(results[0]["alert_id"])["fields"]
    assert issue["summary"] == "Infection found on 1.183.190.110"
    assert issue["priority"]["name"] == "Low"  # severity_id 1: informational
    assert "platform.securityscorecard.io" in json.dumps(issue["description"])

    answer = receiver.post({"detail": {"findings": []}})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "detail.findings"
    text = receiver.http.post(
        f"{receiver.base}/inputs/ocsf",
        content=b"{}",
        headers={"Authorization": f"Bearer {receiver.key}", "Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    assert receiver.http.post(f"{receiver.base}/inputs/ocsf", json=findings).status_code == 401


def test_the_document_shows_the_input_with_a_real_example(receiver: Receiver) -> None:
    root = receiver.base.split("/api/v1/")[0]
    document = receiver.http.get(f"{root}/api/v1/openapi.json").json()
    post = document["paths"]["/api/v1/workspaces/{workspace_id}/inputs/ocsf"]["post"]
    example = post["requestBody"]["content"]["application/json"]["example"]
    assert example == OCSF_EXAMPLE
    answer = receiver.post(example)
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["accepted"] == 1


def test_security_hubs_eventbridge_event_is_posted_as_eventbridge_sends_it(
    receiver: Receiver,
) -> None:
    # The "Findings Imported V2" event an EventBridge API destination posts as is.
    event = {
        "version": "0",
        "id": "5b2c8a9e-1f0d-4e3b-9c7a-6d5e4f3a2b1c",
        "detail-type": "Findings Imported V2",
        "source": "aws.securityhub",
        "account": "123456789012",
        "time": "2025-12-04T08:23:14Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"findings": [fixture("guardduty_detection_finding")]},
    }
    answer = receiver.post(event)
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "accepted"
    shown = receiver.http.get(
        f"{receiver.base}/alerts/{result['alert_id']}", headers=receiver.owner
    )
    assert shown.json()["source_payload"] == fixture("guardduty_detection_finding")
