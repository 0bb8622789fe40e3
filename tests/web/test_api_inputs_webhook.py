"""The generic webhook over real HTTP, on SQLite and PostgreSQL: a Splunk-shaped payload through
the splunk preset files a correct ticket in the Jira sandbox; mappings are saved (checked,
audited), listed, shown and deleted; a dry run answers the alert and stores nothing; only the
workspace's API key gets in."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.tables import AlertRow, AuditRow, DeliveryRow
from sentineliq.web.api.mappings import ELASTIC_EXAMPLE, SPLUNK_EXAMPLE

FIXTURES = Path(__file__).parents[1] / "inputs" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


SCANNER = {
    "description": "Our scanner",
    "source": "Scanner",
    "fields": {
        "title": "finding.name",
        "fingerprint": "finding.id",
        "severity": "finding.level",
        "link": "finding.url",
    },
    "observables": {"ip": "finding.ip"},
    "severity_map": {"4": "critical", "3": "high"},
}
FINDING = {
    "finding": {
        "id": "F-1",
        "name": "Open RDP",
        "level": 4,
        "url": "https://scanner.example/f/1",
        "ip": "192.0.2.10",
    }
}


@dataclass
class Hook:
    app: AppContext
    http: httpx2.Client
    sandbox: JiraSandbox
    base: str  # the workspace's API root
    key: str
    owner: dict[str, str]

    @property
    def workspace_id(self) -> str:
        return self.base.rsplit("/", 1)[1]

    def post(self, name: str, body: Any, suffix: str = "") -> httpx2.Response:
        return self.http.post(
            f"{self.base}/inputs/{name}{suffix}",
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def work(self) -> None:
        Worker(self.app, batch_size=20).run(until_idle=True, poll_interval=0.05)

    def issue(self, alert_id: str) -> dict[str, Any]:
        views = DeliveryRepository(self.app.db).list_for_workspace(
            self.workspace_id, alert_id=alert_id
        )
        (key,) = {v.issue_key for v in views if v.issue_key}
        return next(i for i in self.sandbox.issues() if i["key"] == key)

    def counts(self) -> tuple[int, int, int]:
        with self.app.db.session() as session:
            return (
                session.scalar(select(func.count()).select_from(AlertRow)) or 0,
                session.scalar(select(func.count()).select_from(DeliveryRow)) or 0,
                session.scalar(select(func.count()).select_from(AuditRow)) or 0,
            )


@pytest.fixture
def hook(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
    serve: Callable[..., Any],
) -> Iterator[Hook]:
    ws = people.workspace("SOC")
    configure(app_context, ws.id, "jira", jira_settings(), actor="test")
    owner = people.user("owner@soc.test", {ws.id: Role.OWNER}).headers
    live = serve()
    with httpx2.Client(timeout=30) as http:
        yield Hook(
            app_context,
            http,
            jira_sandbox,
            f"{live.url}/api/v1/workspaces/{ws.id}",
            people.api_key(ws.id, "splunk"),
            owner,
        )


def test_a_splunk_alert_files_a_correct_ticket(hook: Hook) -> None:
    payload = fixture("splunk_webhook_detection.json")
    answer = hook.post("splunk", payload)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"]["accepted"] == 1
    (result,) = body["results"]
    hook.work()

    fields = hook.issue(result["alert_id"])["fields"]
    assert fields["summary"] == "Brute force against a domain controller"
    assert fields["priority"]["name"] == "High"
    text = json.dumps(fields["description"])
    assert payload["results_link"] in text
    assert "203.0.113" in text  # the source IP observable (shown defanged)
    assert "T1110.001" in text
    assert "severity-high" in fields["labels"]

    shown = hook.http.get(f"{hook.base}/alerts/{result['alert_id']}", headers=hook.owner).json()
    assert shown["source_payload"] == payload
    assert shown["alert"]["source"] == "Splunk"

    # Splunk retries the same delivery: a duplicate, no second ticket.
    again = hook.post("splunk", payload).json()
    assert again["totals"]["duplicate"] == 1


def test_an_array_is_several_records_and_a_missing_field_refuses_one(hook: Hook) -> None:
    bad = fixture("splunk_webhook_detection.json")
    del bad["sid"], bad["result"]
    good = fixture("splunk_webhook.json")
    answer = hook.post("splunk", [good, bad])
    assert answer.status_code == 207, answer.text
    first, second = answer.json()["results"]
    assert first["status"] == "accepted"
    assert second["status"] == "refused"
    assert second["errors"][0]["field"] == "[sid, result]"
    assert "fingerprint is required" in second["errors"][0]["message"]


def test_mappings_are_saved_checked_audited_listed_and_deleted(hook: Hook) -> None:
    url = f"{hook.base}/input-mappings"
    names = [m["name"] for m in hook.http.get(url, headers=hook.owner).json()["mappings"]]
    assert names == ["splunk", "elastic", "wazuh"]

    bad = json.loads(json.dumps(SCANNER))
    bad["fields"]["severity"] = "finding.[level"
    refused = hook.http.put(f"{url}/scanner", json=bad, headers=hook.owner)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.fields.severity"
    del bad["fields"]["title"]
    refused = hook.http.put(f"{url}/scanner", json=bad, headers=hook.owner)
    assert "body.fields.title" in {e["field"] for e in refused.json()["errors"]}
    clash = hook.http.put(f"{url}/alertmanager", json=SCANNER, headers=hook.owner)
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "name"

    saved = hook.http.put(f"{url}/scanner", json=SCANNER, headers=hook.owner)
    assert saved.status_code == 200, saved.text
    assert saved.json()["origin"] == "saved"
    listed = hook.http.get(url, headers=hook.owner).json()["mappings"]
    assert [m["name"] for m in listed] == ["scanner", "splunk", "elastic", "wazuh"]
    (entry,) = [
        e
        for e in AuditRepository(hook.app.db).list(hook.workspace_id)
        if e.action == "workspace.input_settings_changed"
    ]
    assert entry.details["input"] == "webhook:scanner"
    assert entry.actor == "owner@soc.test"

    answer = hook.post("scanner", FINDING)
    assert answer.status_code == 200, answer.text
    hook.work()
    fields = hook.issue(answer.json()["results"][0]["alert_id"])["fields"]
    assert fields["summary"] == "Open RDP"
    assert fields["priority"]["name"] == "Highest"

    # A preset's name replaces it here; deleting brings it back.
    replaced = hook.http.put(f"{url}/splunk", json=SCANNER, headers=hook.owner)
    assert replaced.json()["origin"] == "saved (replaces the preset)"
    assert hook.http.delete(f"{url}/splunk", headers=hook.owner).status_code == 204
    assert hook.http.get(f"{url}/splunk", headers=hook.owner).json()["origin"] == "preset"
    assert hook.http.delete(f"{url}/splunk", headers=hook.owner).status_code == 404
    assert hook.http.delete(f"{url}/scanner", headers=hook.owner).status_code == 204
    assert hook.post("scanner", FINDING).status_code == 404


def test_a_dry_run_answers_the_alert_and_stores_nothing(hook: Hook) -> None:
    before = hook.counts()
    answer = hook.post("splunk", fixture("splunk_webhook_detection.json"), "/dry-run")
    assert answer.status_code == 200, answer.text
    (record,) = answer.json()["records"]
    assert record["status"] == "accepted"
    assert record["alert"]["title"] == "Brute force against a domain controller"
    assert record["alert"]["severity"] == "high"
    assert record["alert"]["observables"][0]["value"] == "203.0.113.45"

    unsaved = hook.http.post(
        f"{hook.base}/input-mappings/dry-run",
        json={"mapping": SCANNER, "payload": [FINDING, {"finding": {"id": "F-2"}}]},
        headers={"Authorization": f"Bearer {hook.key}"},
    )
    assert unsaved.status_code == 200, unsaved.text
    first, second = unsaved.json()["records"]
    assert first["alert"]["severity"] == "critical"
    assert second["status"] == "refused"
    assert second["errors"][0]["field"] == "finding.name"
    invalid = hook.http.post(
        f"{hook.base}/input-mappings/dry-run",
        json={"mapping": {"fields": {"title": "a"}}, "payload": FINDING},
        headers={"Authorization": f"Bearer {hook.key}"},
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "body.mapping.fields.fingerprint"
    # A built-in input can be tried too.
    alertmanager = hook.post("alertmanager", fixture("alertmanager_webhook.json"), "/dry-run")
    assert [r["status"] for r in alertmanager.json()["records"]] == ["accepted", "accepted"]
    assert hook.counts() == before
    assert hook.sandbox.issues() == []


def test_only_the_workspace_api_key_gets_in(hook: Hook) -> None:
    for suffix in ("", "/dry-run"):
        url = f"{hook.base}/inputs/splunk{suffix}"
        assert hook.http.post(url, json=SPLUNK_EXAMPLE).status_code == 401
        wrong = {"Authorization": "Bearer siq_not-a-key"}
        assert hook.http.post(url, json=SPLUNK_EXAMPLE, headers=wrong).status_code == 401
    anonymous = hook.http.get(f"{hook.base}/input-mappings")
    assert anonymous.status_code == 401
    assert hook.post("no-such-mapping", SPLUNK_EXAMPLE).status_code == 404
    assert hook.post("Not_A_Name", SPLUNK_EXAMPLE).status_code == 422


def test_the_document_carries_real_examples_that_post_as_they_are(hook: Hook) -> None:
    root = hook.base.split("/api/v1/")[0]
    document = hook.http.get(f"{root}/api/v1/openapi.json").json()
    post = document["paths"]["/api/v1/workspaces/{workspace_id}/inputs/{name}"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert examples["splunk"]["value"] == SPLUNK_EXAMPLE
    assert examples["elastic"]["value"] == ELASTIC_EXAMPLE
    for name, example in examples.items():
        answer = hook.post(name, example["value"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["totals"]["accepted"] == 1
    # The alertmanager route is still its own.
    assert "/api/v1/workspaces/{workspace_id}/inputs/alertmanager" in document["paths"]
    (shown,) = document["components"]["schemas"]["WebhookMapping"]["examples"]
    put = hook.http.put(f"{hook.base}/input-mappings/example", json=shown, headers=hook.owner)
    assert put.status_code == 200, put.text


def test_elastics_recovered_action_resolves_the_alert_and_its_ticket(hook: Hook) -> None:
    firing = fixture("elastic_webhook.json")
    answer = hook.post("elastic", firing)
    assert answer.status_code == 200, answer.text
    alert_id = answer.json()["results"][0]["alert_id"]
    hook.work()
    fields = hook.issue(alert_id)["fields"]
    assert fields["summary"] == "rule 'esq' matched query for group host-2"
    assert fields["priority"]["name"] == "Medium"

    recovered = fixture("elastic_webhook.json")
    recovered["alert"]["actionGroup"] = "recovered"
    recovered["date"] = "2023-04-27T22:45:34.153Z"
    body = hook.post("elastic", recovered).json()
    assert body["results"][0]["alert_id"] == alert_id  # the same alert (alert.uuid)
    assert [(c["alert_id"], c["status"]) for c in body["source_changes"]] == [
        (alert_id, "resolved")
    ]
    hook.work()
    assert hook.issue(alert_id)["fields"]["status"]["statusCategory"]["key"] == "done"


def _actions(hook: Hook, prefix: str) -> list[str]:
    return [
        e.action for e in AuditRepository(hook.app.db).list(hook.workspace_id) if prefix in e.action
    ]


def test_a_sender_url_files_the_splunk_alert_without_any_header_and_never_logs_its_token(
    json_logs: io.StringIO, hook: Hook
) -> None:
    tokens = f"{hook.base}/inputs/splunk/url-tokens"
    # The ingest key cannot make one; an owner can, for a known input only.
    assert (
        hook.http.post(tokens, headers={"Authorization": f"Bearer {hook.key}"}).status_code == 403
    )
    unknown = f"{hook.base}/inputs/nagios/url-tokens"
    assert hook.http.post(unknown, headers=hook.owner).status_code == 404
    made = hook.http.post(tokens, headers=hook.owner)
    assert made.status_code == 201, made.text
    created = made.json()
    url, prefix = created["url"], created["prefix"]
    token = url.rsplit("/", 1)[1]
    assert url == f"{hook.base.split('/api/')[0]}/api/v1/hooks/{token}"
    assert token.startswith(f"siqh_{prefix}_")
    assert created["input"] == "splunk"
    assert created["created_by"] == "owner@soc.test"

    payload = fixture("splunk_webhook_detection.json")
    answer = hook.http.post(url, json=payload)  # no header at all, as Splunk sends it
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "accepted"
    hook.work()
    fields = hook.issue(result["alert_id"])["fields"]
    assert fields["summary"] == "Brute force against a domain controller"
    assert fields["priority"]["name"] == "High"
    shown = hook.http.get(f"{hook.base}/alerts/{result['alert_id']}", headers=hook.owner).json()
    assert shown["source_payload"] == payload
    (ingested,) = [
        e
        for e in AuditRepository(hook.app.db).list(hook.workspace_id)
        if e.action == "api.inputs.ingested"
    ]
    assert ingested.actor == f"url_token:{prefix}"
    assert ingested.details["input"] == "splunk"

    (listed,) = hook.http.get(tokens, headers=hook.owner).json()["url_tokens"]
    assert listed["prefix"] == prefix
    assert listed["last_used_at"] is not None
    assert listed["revoked_at"] is None
    assert "url" not in listed

    # Only a sender URL: not a Bearer key, not the dry run, not another path.
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/inputs/splunk", "/inputs/splunk/dry-run", "/alerts"):
        assert hook.http.post(f"{hook.base}{path}", json=payload, headers=bearer).status_code == 401
    assert hook.http.post(f"{url}/dry-run", json=payload).status_code == 404

    # A wrong secret under a real prefix and a made-up token answer alike.
    wrong = hook.http.post(
        url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB"), json=payload
    )
    made_up = hook.http.post(url.rsplit("/", 1)[0] + "/siqh_zzzzzzzz_" + "x" * 43, json=payload)
    for refused in (wrong, made_up):
        assert refused.status_code == 401
        assert refused.json()["detail"] == "the sender URL is unknown or revoked"
        assert token not in refused.text

    gone = hook.http.delete(f"{tokens}/{created['id']}", headers=hook.owner)
    assert gone.status_code == 204
    revoked = hook.http.post(url, json=payload)
    assert revoked.status_code == 401
    assert revoked.json()["detail"] == "the sender URL is unknown or revoked"
    assert hook.http.delete(f"{tokens}/{created['id']}", headers=hook.owner).status_code == 204
    assert _actions(hook, "input_url_token.") == [
        "input_url_token.revoked",
        "input_url_token.created",
    ]
    audit = json.dumps([e.details for e in AuditRepository(hook.app.db).list()], default=str)
    assert prefix in audit
    assert token not in audit

    logs = json_logs.getvalue()
    assert '"logger": "uvicorn.access"' in logs
    assert "/api/v1/hooks/********" in logs  # the posts were logged, masked
    assert token not in logs
    assert token.split("_", 2)[2] not in logs  # nor its secret part alone


def test_a_sender_url_posts_to_its_own_input_and_workspace_only(hook: Hook, people: Any) -> None:
    scanner = hook.http.put(f"{hook.base}/input-mappings/scanner", json=SCANNER, headers=hook.owner)
    assert scanner.status_code == 200, scanner.text
    made = hook.http.post(f"{hook.base}/inputs/splunk/url-tokens", headers=hook.owner).json()
    url = made["url"]
    # The scanner's finding goes through the splunk mapping it was made for: refused, not mapped
    # as a scanner alert.
    answer = hook.http.post(url, json=FINDING)
    assert answer.status_code == 207, answer.text
    assert answer.json()["results"][0]["status"] == "refused"
    assert hook.http.post(f"{url}/scanner", json=FINDING).status_code == 404
    assert hook.counts()[0] == 0

    # Another input's and another workspace's listings do not show it, nor can they revoke it.
    other = people.workspace("Other")
    other_owner = people.user("owner@other.test", {other.id: Role.OWNER}).headers
    other_base = hook.base.rsplit("/", 1)[0] + f"/{other.id}"
    for base, headers, name in (
        (hook.base, hook.owner, "scanner"),
        (other_base, other_owner, "splunk"),
    ):
        tokens = f"{base}/inputs/{name}/url-tokens"
        assert hook.http.get(tokens, headers=headers).json() == {"url_tokens": []}
        assert hook.http.delete(f"{tokens}/{made['id']}", headers=headers).status_code == 404
    # Nor can the other workspace's owner reach this one's.
    mine = f"{hook.base}/inputs/splunk/url-tokens"
    assert hook.http.get(mine, headers=other_owner).status_code == 404
    assert hook.http.post(url, json=fixture("splunk_webhook.json")).status_code == 200
