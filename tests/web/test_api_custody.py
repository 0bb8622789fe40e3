"""The custody endpoints on SQLite and PostgreSQL: verify names a row altered in the database,
entries are added and evidence deleted (its chain kept), refusals are problems naming the field,
and another workspace's evidence looks missing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.app import create_app

PROBLEM = "application/problem+json"
ALERT = {
    "title": "Exfiltration over DNS",
    "severity": "high",
    "source": "NDR",
    "detected_at": "2026-11-27T08:00:00Z",
    "evidence": [
        {
            "name": "dns.pcap",
            "type": "network",
            "hashes": {"sha256": "a" * 64},
            "custody": [
                {"action": "collected", "actor": "ndr-sensor", "at": "2026-11-27T08:01:00Z"},
                {"action": "stored", "actor": "vault", "at": "2026-11-27T08:05:00Z"},
            ],
        }
    ],
}


class Api:
    def __init__(self, client: TestClient, workspace_id: str, headers: dict[str, Any]) -> None:
        self.client = client
        self.workspace_id = workspace_id
        self.headers = headers

    def url(self, path: str) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}{path}"

    def verify(self, who: str = "member", **params: str) -> Any:
        return self.client.get(self.url("/custody"), params=params, headers=self.headers[who])

    def post(self, who: str, path: str, body: Any) -> Any:
        return self.client.post(self.url(path), json=body, headers=self.headers[who])


@pytest.fixture
def api(app_context: AppContext, people: Any) -> Iterator[Api]:
    ws = people.workspace("SOC")
    other = people.workspace("Other")
    headers = {
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}).headers,
        "outsider": people.user("owner@other.test", {other.id: Role.OWNER}).headers,
        "api_key": {"Authorization": f"Bearer {people.api_key(ws.id, 'siem')}"},
    }
    with TestClient(create_app(app_context)) as client:
        api = Api(client, ws.id, headers)
        answer = api.post("api_key", "/alerts", ALERT)
        assert answer.status_code == 200, answer.text
        yield api


def test_verify_names_an_entry_altered_in_the_database(api: Api, app_context: AppContext) -> None:
    [chain] = api.verify().json()
    assert (chain["status"], chain["broken_entry"], chain["problem"]) == ("intact", None, None)
    assert [e["actor"] for e in chain["entries"]] == ["ndr-sensor", "vault"]
    with app_context.db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE custody_entries SET location = 'my car' WHERE position = 1")
        )
    [chain] = api.verify(alert_id=chain["alert_id"]).json()
    assert (chain["status"], chain["broken_entry"]) == ("broken", 2)
    assert (
        chain["problem"] == "custody entry #2 (stored by vault) was altered after it was recorded"
    )
    assert chain["checked_at"].startswith("20")


def test_entries_are_added_and_a_deleted_evidence_keeps_its_chain(
    api: Api, app_context: AppContext
) -> None:
    [chain] = api.verify().json()
    evidence = f"/evidence/{chain['evidence_id']}"
    added = api.post(
        "api_key",
        f"{evidence}/custody",
        {"action": "transferred", "at": "2026-11-28T10:00:00+01:00", "location": "lab"},
    )
    assert added.status_code == 201, added.text
    entry = added.json()["entries"][-1]
    assert (entry["number"], entry["actor"], entry["at"]) == (
        3,
        "api_key:siem",
        "2026-11-28T09:00:00+00:00",
    )
    deleted = api.post("member", f"{evidence}/delete", {"reason": "retention: 90 days"})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted_at"] is not None
    [kept] = api.verify().json()
    assert (kept["status"], [e["action"] for e in kept["entries"]]) == (
        "intact",
        ["collected", "stored", "transferred", "deleted"],
    )
    assert kept["entries"][-1]["actor"] == "member@soc.test"
    again = api.post("member", f"{evidence}/custody", {"action": "accessed"})
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    audit = [(e.action, e.actor) for e in AuditRepository(app_context.db).list(api.workspace_id)]
    assert ("custody.appended", "api_key:siem") in audit
    assert ("evidence.deleted", "member@soc.test") in audit


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "eaten"}, "body.action"),
        ({"action": "accessed", "at": "yesterday"}, "body.at"),
        ({"action": "accessed", "at": "2026-11-28T10:00:00"}, "body.at"),
        ({"action": "accessed", "actor": "   "}, "body.actor"),
        ({"action": "accessed", "colour": "red"}, "body.colour"),
    ],
    ids=["action", "at-unreadable", "at-naive", "actor-blank", "unknown-field"],
)
def test_refusals_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    [chain] = api.verify().json()
    answer = api.post("member", f"/evidence/{chain['evidence_id']}/custody", body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_other_workspaces_see_nothing(api: Api) -> None:
    [chain] = api.verify().json()
    other = api.client.get(
        f"/api/v1/workspaces/{api.workspace_id}/custody", headers=api.headers["outsider"]
    )
    assert other.status_code == 404
    missing = api.verify(alert_id="00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert api.verify("api_key").status_code == 403  # a key sends alerts; it cannot read them
    evidence = f"/evidence/{chain['evidence_id']}/custody"
    outsider = api.client.post(
        f"/api/v1/workspaces/{api.workspace_id}{evidence}",
        json={"action": "accessed"},
        headers=api.headers["outsider"],
    )
    assert outsider.status_code == 404
    unknown = api.post("member", "/evidence/nope/custody", {"action": "accessed"})
    assert unknown.status_code == 404
