"""The provider API's field_values and gateway settings, over the in-process ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import TEAM_FIELD
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.web.app import create_app


@pytest.fixture
def api(app_context: AppContext, people: Any) -> tuple[TestClient, str, dict[str, str]]:
    workspace = people.workspace("Fields")
    admin = people.user("admin@fields.test", {workspace.id: Role.ADMIN})
    client = TestClient(create_app(app_context))
    return client, f"/api/v1/workspaces/{workspace.id}/providers/jira", admin.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_field_values_through_the_api(
    api: tuple[TestClient, str, dict[str, str]],
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    client, url, headers = api
    jira_sandbox.require_field("SEC", TEAM_FIELD)
    put = client.put(url, headers=headers, json={"config": jira_settings()})
    assert put.status_code == 201, put.text
    failed = client.post(f"{url}/test", headers=headers, json={}).json()
    check = {c["name"]: c for c in failed["checks"]}["required fields"]
    assert not check["ok"]
    assert "Team (customfield_10060), allowed: Blue Team, Red Team" in check["detail"]

    settings = jira_settings(api_token="", field_values={"Team": "Red Team"})
    put = client.put(url, headers=headers, json={"config": settings})
    assert put.status_code == 200, put.text
    assert put.json()["config"]["field_values"] == {"Team": "Red Team"}
    passed = client.post(f"{url}/test", headers=headers, json={}).json()
    assert passed["ok"] is True, passed

    refused = client.put(
        url,
        headers=headers,
        json={"config": jira_settings(api_token="", field_values={"Team": {"id": 1}})},
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors == [
        {
            "field": "config.field_values",
            "message": "'Team' must be a text, a number or a list of texts",
        }
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_openapi_describes_field_values_and_site_url(
    api: tuple[TestClient, str, dict[str, str]],
) -> None:
    client, _, _ = api
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["ProviderSettingsIn"]["properties"]["config"]["$ref"].endswith("/JiraConfig")
    config = schemas["JiraConfig"]
    assert "field_values" in config["properties"]
    assert config["properties"]["field_values"]["additionalProperties"]["anyOf"]
    assert "gateway" in config["properties"]["site_url"]["description"]
