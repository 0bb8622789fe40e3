"""The authorization matrix: two workspaces x roles x every API endpoint.

Every (principal, endpoint) pair of workspace A gets its expected status; every principal of A
gets 404 for workspace B and for B's alerts and deliveries reached through A's paths; and a
refused request changes nothing in either workspace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.assignees import AssigneeRepository
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.providers import ProviderRepository
from sentineliq.web.app import create_app

ALERT = {
    "title": "Credential dumping on host-7",
    "severity": "high",
    "source": "EDR",
    "detected_at": "2026-11-27T08:00:00Z",
}

PRINCIPALS = ("owner", "admin", "member", "api_key", "outsider", "anonymous")


@dataclass
class Endpoint:
    name: str
    method: str
    path: str  # {ws}, {alert}, {delivery} are filled in
    body: Any = None
    ok: int = 200  # the status for a principal allowed to call it
    permission: str = "view"  # view | ingest | manage | replay


ENDPOINTS = [
    Endpoint("ingest", "POST", "/workspaces/{ws}/alerts", ALERT, permission="ingest"),
    Endpoint("get alert", "GET", "/workspaces/{ws}/alerts/{alert}"),
    Endpoint("list providers", "GET", "/workspaces/{ws}/providers", permission="manage"),
    Endpoint("get provider", "GET", "/workspaces/{ws}/providers/jira", permission="manage"),
    Endpoint(
        "put provider",
        "PUT",
        "/workspaces/{ws}/providers/jira",
        "CONFIG",
        permission="manage",
    ),
    Endpoint("enable", "POST", "/workspaces/{ws}/providers/jira/enable", permission="manage"),
    Endpoint("disable", "POST", "/workspaces/{ws}/providers/jira/disable", permission="manage"),
    Endpoint("test", "POST", "/workspaces/{ws}/providers/jira/test", permission="manage"),
    Endpoint("delete", "DELETE", "/workspaces/{ws}/providers/jira", ok=204, permission="manage"),
    Endpoint("list deliveries", "GET", "/workspaces/{ws}/deliveries"),
    Endpoint("get delivery", "GET", "/workspaces/{ws}/deliveries/{delivery}"),
    # The delivery is pending (no worker runs): an allowed replay is refused as a conflict.
    Endpoint(
        "replay",
        "POST",
        "/workspaces/{ws}/deliveries/{delivery}/replay",
        ok=409,
        permission="replay",
    ),
    Endpoint("replay dead", "POST", "/workspaces/{ws}/deliveries/replay-dead", permission="replay"),
    Endpoint("list assignees", "GET", "/workspaces/{ws}/assignees"),
    Endpoint(
        "map assignee",
        "PUT",
        "/workspaces/{ws}/assignees",
        {"email": "analyst@a.test", "account_id": "5b10ac8d82e05b22cc7d4ef5"},
        ok=201,
        permission="manage",
    ),
    Endpoint(
        "unmap assignee",
        "DELETE",
        "/workspaces/{ws}/assignees?email=analyst@a.test",
        ok=204,
        permission="manage",
    ),
]

ALLOWED = {
    "owner": {"view", "ingest", "manage", "replay"},
    "admin": {"view", "ingest", "manage", "replay"},
    "member": {"view"},
    "api_key": {"ingest"},
}


def expected(principal: str, endpoint: Endpoint) -> int:
    if principal == "anonymous":
        return 401
    if principal == "outsider":
        return 404
    return endpoint.ok if endpoint.permission in ALLOWED[principal] else 403


@dataclass
class World:
    app: AppContext
    client: TestClient
    settings: Callable[..., dict[str, Any]]
    ids: dict[str, dict[str, str]]  # workspace letter -> ws / alert / delivery ids
    headers: dict[str, dict[str, str]]  # principal -> headers (for workspace A)

    def restore(self, letter: str) -> None:
        """The provider configured and enabled, so every call has something to act on."""
        configure(self.app, self.ids[letter]["ws"], "jira", self.settings(), actor="t")

    def snapshot(self, letter: str) -> Any:
        ws = self.ids[letter]["ws"]
        provider = ProviderRepository(self.app.db, self.app.secrets).get(ws, "jira", decrypt=True)
        return (
            None
            if provider is None
            else (provider.is_enabled, provider.config_version, dict(provider.config)),
            [
                (v.id, v.status, v.attempts)
                for v in DeliveryRepository(self.app.db).list_for_workspace(ws)
            ],
            [a.id for a in AlertRepository(self.app.db).list_for_workspace(ws)],
            [(m.email, m.account_id) for m in AssigneeRepository(self.app.db).list(ws)],
        )

    def call(self, endpoint: Endpoint, principal: str, letter: str = "A", **ids: str) -> Any:
        values = {**self.ids[letter], **ids}
        path = "/api/v1" + endpoint.path.format(**values)
        body = endpoint.body
        if body == "CONFIG":
            body = {"config": self.settings(issue_type="Bug"), "enabled": True}
        return self.client.request(
            endpoint.method,
            path,
            headers=self.headers[principal],
            content=json.dumps(body) if body is not None else None,
        )


@pytest.fixture
def world(
    app_context: AppContext, people: Any, jira_settings: Callable[..., dict[str, Any]]
) -> Iterator[World]:
    ids: dict[str, dict[str, str]] = {}
    for letter in "AB":
        ws = people.workspace(f"Workspace {letter}")
        configure(app_context, ws.id, "jira", jira_settings(), actor="t")
        key = people.api_key(ws.id)
        response_ids = AlertRepository(app_context.db).ingest(ws.id, [_alert(letter)], actor="t")
        alert_id = response_ids[0].alert_id
        delivery = DeliveryRepository(app_context.db).list_for_workspace(ws.id)[0]
        ids[letter] = {"ws": ws.id, "alert": alert_id, "delivery": delivery.id, "key": key}
    a, b = ids["A"]["ws"], ids["B"]["ws"]
    owner = people.user("owner@a.test", {a: Role.OWNER})
    admin = people.user("admin@a.test", {a: Role.ADMIN})
    member = people.user("member@a.test", {a: Role.MEMBER})
    outsider = people.user("owner@b.test", {b: Role.OWNER})
    json_type = {"Content-Type": "application/json"}
    headers = {
        "owner": {**owner.headers, **json_type},
        "admin": {**admin.headers, **json_type},
        "member": {**member.headers, **json_type},
        "api_key": {"Authorization": f"Bearer {ids['A']['key']}", **json_type},
        "outsider": {**outsider.headers, **json_type},
        "anonymous": json_type,
    }
    with TestClient(create_app(app_context), raise_server_exceptions=True) as client:
        yield World(app_context, client, jira_settings, ids, headers)


def _alert(letter: str) -> Any:
    from sentineliq.alerts.model import Alert

    return Alert.model_validate_json(json.dumps({**ALERT, "title": f"Seed alert {letter}"}))


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_endpoint_answers_each_role_as_expected(world: World, principal: str) -> None:
    for endpoint in ENDPOINTS:
        world.restore("A")
        before = world.snapshot("A"), world.snapshot("B")
        response = world.call(endpoint, principal)
        want = expected(principal, endpoint)
        assert response.status_code == want, (endpoint.name, principal, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == want
            assert (world.snapshot("A"), world.snapshot("B")) == before, endpoint.name
        else:
            assert world.snapshot("B") == before[1], endpoint.name
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("principal", ["owner", "admin", "member", "api_key"])
def test_no_cross_workspace_reads_or_writes(world: World, principal: str) -> None:
    world.restore("B")
    before = world.snapshot("B")
    foreign = {"alert": world.ids["B"]["alert"], "delivery": world.ids["B"]["delivery"]}
    for endpoint in ENDPOINTS:
        # B's workspace directly, and B's ids through A's paths.
        direct = world.call(endpoint, principal, letter="B")
        assert direct.status_code == 404, (endpoint.name, principal, direct.text)
        if "{alert}" in endpoint.path or "{delivery}" in endpoint.path:
            sideways = world.call(endpoint, principal, **foreign)
            if endpoint.permission in ALLOWED[principal]:
                assert sideways.status_code == 404, (endpoint.name, principal, sideways.text)
            else:
                assert sideways.status_code == 403, (endpoint.name, principal, sideways.text)
        assert world.snapshot("B") == before, endpoint.name
    # Nothing B's users could read names A's principals acting on B.
    assert [
        e for e in AuditRepository(world.app.db).list(world.ids["B"]["ws"]) if "@a.test" in e.actor
    ] == []


def test_session_writes_need_the_csrf_header(world: World) -> None:
    world.restore("A")
    before = world.snapshot("A")
    cookie_only = {
        key: value for key, value in world.headers["owner"].items() if key != "X-CSRF-Token"
    }
    disable = "/api/v1/workspaces/{ws}/providers/jira/disable".format(**world.ids["A"])
    for headers in (cookie_only, {**cookie_only, "X-CSRF-Token": "forged"}):
        response = world.client.post(disable, headers=headers)
        assert response.status_code == 403
        assert response.json()["type"].endswith("/csrf")
    assert world.snapshot("A") == before
    # Reads with the cookie alone are fine; the same write with the header works.
    assert world.client.get(disable.rsplit("/", 1)[0], headers=cookie_only).status_code == 200
    assert world.client.post(disable, headers=world.headers["owner"]).status_code == 200


def test_bad_credentials_are_401(world: World) -> None:
    path = "/api/v1/workspaces/{ws}/deliveries".format(**world.ids["A"])
    for headers in (
        {"Authorization": "Bearer siq_nope1234_notakey"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Cookie": "siq_session=expired-or-forged"},
    ):
        response = world.client.get(path, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"


def test_state_changes_are_audited_with_origin(world: World) -> None:
    disable = "/api/v1/workspaces/{ws}/providers/jira/disable".format(**world.ids["A"])
    headers = {**world.headers["admin"], "User-Agent": "audit-check/1.0"}
    assert world.client.post(disable, headers=headers).status_code == 200
    entries = AuditRepository(world.app.db).list(world.ids["A"]["ws"])
    api_entry = next(e for e in entries if e.action == "api.provider.disabled")
    assert api_entry.actor == "admin@a.test"
    assert api_entry.details["user_agent"] == "audit-check/1.0"
    assert api_entry.details["ip"]
    assert any(e.action == "provider.disabled" and e.actor == "admin@a.test" for e in entries)
