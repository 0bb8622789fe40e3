"""/api/v1/workspaces/{ws}/assignees: members read, owners and admins change, bad input is a
problem naming the field, changes are audited with their origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.storage.assignees import AssigneeRepository
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.app import create_app

ACCOUNT = "712020:6b0ed771-fd7f-5f7d-a3e7-0dd9854ec5c2"
PROBLEM = "application/problem+json"


@dataclass
class Api:
    app: AppContext
    client: TestClient
    workspace_id: str
    headers: dict[str, dict[str, str]]

    @property
    def path(self) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}/assignees"

    def put(self, who: str, email: str, account_id: str = ACCOUNT) -> Any:
        body = {"email": email, "account_id": account_id}
        return self.client.put(self.path, json=body, headers=self.headers[who])

    def delete(self, who: str, email: str) -> Any:
        return self.client.delete(self.path, params={"email": email}, headers=self.headers[who])

    def mappings(self) -> list[tuple[str, str]]:
        records = AssigneeRepository(self.app.db).list(self.workspace_id)
        return [(m.email, m.account_id) for m in records]


@pytest.fixture
def api(app_context: AppContext, people: Any) -> Iterator[Api]:
    ws = people.workspace("SOC")
    other = people.workspace("Other")
    headers = {
        "owner": people.user("owner@soc.test", {ws.id: Role.OWNER}).headers,
        "admin": {
            **people.user("admin@soc.test", {ws.id: Role.ADMIN}).headers,
            "User-Agent": "assignee-test/1.0",
        },
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}).headers,
        "outsider": people.user("owner@other.test", {other.id: Role.OWNER}).headers,
        "api_key": {"Authorization": f"Bearer {people.api_key(ws.id)}"},
    }
    with TestClient(create_app(app_context)) as client:
        yield Api(app_context, client, ws.id, headers)


def test_admin_maps_replaces_and_removes(api: Api) -> None:
    created = api.put("admin", " Analyst@Corp.TEST ")
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "analyst@corp.test"
    assert created.json()["updated_by"] == "admin@soc.test"
    replaced = api.put("owner", "analyst@corp.test", "5b10ac8d82e05b22cc7d4ef5")
    assert replaced.status_code == 200
    listed = api.client.get(api.path, headers=api.headers["member"])
    assert listed.status_code == 200
    assert [(a["email"], a["account_id"]) for a in listed.json()["assignees"]] == [
        ("analyst@corp.test", "5b10ac8d82e05b22cc7d4ef5")
    ]
    assert api.delete("admin", "ANALYST@corp.test").status_code == 204
    assert api.mappings() == []
    again = api.delete("admin", "analyst@corp.test")
    assert again.status_code == 404
    assert again.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("who", ["member", "api_key"])
def test_only_owners_and_admins_change_mappings(api: Api, who: str) -> None:
    api.put("admin", "analyst@corp.test")
    before = api.mappings()
    for response in (api.put(who, "new@corp.test"), api.delete(who, "analyst@corp.test")):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == PROBLEM
    assert api.mappings() == before
    listed = api.client.get(api.path, headers=api.headers[who])
    assert listed.status_code == (200 if who == "member" else 403)


def test_other_workspaces_cannot_see_or_change_them(api: Api) -> None:
    api.put("admin", "analyst@corp.test")
    assert api.client.get(api.path, headers=api.headers["outsider"]).status_code == 404
    assert api.put("outsider", "x@corp.test").status_code == 404
    assert api.delete("outsider", "analyst@corp.test").status_code == 404
    assert api.mappings() == [("analyst@corp.test", ACCOUNT)]


@pytest.mark.parametrize(
    ("email", "account_id", "field"),
    [
        ("not-an-email", ACCOUNT, "email"),
        ("a@corp.test", "has space", "account_id"),
        ("a@corp.test", "", "account_id"),
        ("a@corp.test", "x" * 129, "body.account_id"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    api: Api, email: str, account_id: str, field: str
) -> None:
    response = api.put("admin", email, account_id)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert api.mappings() == []


def test_changes_are_audited_with_their_origin(api: Api) -> None:
    api.put("admin", "analyst@corp.test")
    api.delete("admin", "analyst@corp.test")
    entries = {e.action: e for e in AuditRepository(api.app.db).list(api.workspace_id)}
    mapped, unmapped = entries["assignee.mapped"], entries["assignee.unmapped"]
    assert mapped.actor == unmapped.actor == "admin@soc.test"
    assert mapped.details["account_id"] == ACCOUNT
    assert mapped.details["user_agent"] == unmapped.details["user_agent"] == "assignee-test/1.0"
    assert unmapped.details["ip"]


def test_the_operations_are_in_the_openapi_document(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    item = document["paths"]["/api/v1/workspaces/{workspace_id}/assignees"]
    assert set(item) == {"get", "put", "delete"}
    assert "AssigneeIn" in document["components"]["schemas"]
    assert item["put"]["responses"]["422"]["content"] == {
        PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
