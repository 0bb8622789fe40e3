"""The sandbox's required-field condition and scoped-token gateway, over HTTP, as Jira Cloud
answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.sandbox import CLOUD_ID

TEAM = "customfield_10060"
SYSTEMS = "customfield_10061"
META = "/rest/api/3/issue/createmeta/SEC/issuetypes/10001"
Create = Callable[..., httpx2.Response]


def screen_field(client: httpx2.Client, field_id: str) -> dict[str, Any] | None:
    fields = client.get(META, params={"maxResults": 200}).json()["fields"]
    return next((f for f in fields if f["fieldId"] == field_id), None)


def test_require_over_http_adds_a_required_select_to_createmeta(
    client: httpx2.Client, anon: httpx2.Client, sandbox: JiraSandbox
) -> None:
    assert screen_field(client, TEAM) is None  # defined, but on no screen by default
    done = anon.post("/_sandbox/screen/require", json={"project": "SEC", "field": TEAM})
    assert done.status_code == 200, done.text
    team = screen_field(client, TEAM)
    assert team is not None
    assert team["required"] is True
    assert team["hasDefaultValue"] is False
    assert team["schema"] == {
        "type": "option",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
        "customId": 10060,
    }
    assert [(v["id"], v["value"]) for v in team["allowedValues"]] == [
        ("10100", "Blue Team"),
        ("10101", "Red Team"),
    ]
    assert team["allowedValues"][0]["self"] == f"{sandbox.url}/rest/api/3/customFieldOption/10100"
    # Every issue type of the project, as a field configuration applies.
    other = client.get("/rest/api/3/issue/createmeta/SEC/issuetypes/10003").json()["fields"]
    assert any(f["fieldId"] == TEAM and f["required"] for f in other)


def test_missing_and_invalid_required_values_are_refused_like_cloud(
    sandbox: JiraSandbox, create: Create
) -> None:
    sandbox.require_field("SEC", TEAM)
    missing = create()
    assert missing.status_code == 400
    assert missing.json() == {"errorMessages": [], "errors": {TEAM: "Team is required."}}
    invalid = create(**{TEAM: {"value": "Green Team"}})
    assert invalid.json()["errors"] == {TEAM: "Option value 'Green Team' is not valid"}
    by_id = create(**{TEAM: {"id": "99999"}})
    assert by_id.json()["errors"] == {TEAM: "Option id '99999' is not valid"}
    assert sandbox.issues() == []
    made = create(**{TEAM: {"value": "Red Team"}})
    assert made.status_code == 201, made.text
    (issue,) = sandbox.issues()
    assert issue["fields"][TEAM] == {"id": "10101", "value": "Red Team"}


def test_multi_select_and_components(sandbox: JiraSandbox, create: Create) -> None:
    sandbox.require_field("SEC", SYSTEMS, "Task")
    sandbox.require_field("SEC", "components", "Task")
    refused = create(**{SYSTEMS: [{"value": "Endpoints"}], "components": ["Detection"]})
    assert refused.json()["errors"] == {"components": "Please provide Component"}
    empty = create(**{SYSTEMS: [], "components": [{"name": "Nope"}]})
    assert empty.json()["errors"] == {
        SYSTEMS: "Affected systems is required.",
        "components": "Component name 'Nope' is not valid",
    }
    made = create(**{SYSTEMS: [{"value": "Cloud"}], "components": [{"name": "Response"}]})
    assert made.status_code == 201, made.text
    fields = sandbox.issues()[0]["fields"]
    assert fields[SYSTEMS] == [{"id": "10112", "value": "Cloud"}]
    assert fields["components"] == [{"id": "10201", "name": "Response"}]


def test_reset_removes_the_requirement(sandbox: JiraSandbox, create: Create) -> None:
    sandbox.require_field("SEC", TEAM)
    sandbox.reset()
    assert create().status_code == 201


def test_gateway_serves_the_api_under_the_cloud_id(
    sandbox: JiraSandbox, anon: httpx2.Client, client: httpx2.Client
) -> None:
    path = f"/ex/jira/{CLOUD_ID}/rest/api/3/serverInfo"
    assert anon.get(path).status_code == 404  # off by default
    assert anon.post("/_sandbox/gateway", json={"enabled": True}).status_code == 200
    assert sandbox.gateway_url == f"{sandbox.url}/ex/jira/{CLOUD_ID}"
    info = anon.get(path).json()
    assert info["baseUrl"] == sandbox.url  # the site, not the gateway
    assert client.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself").status_code == 200
    assert anon.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself").status_code == 401
    other = "11111111-2222-4333-8444-555555555555"
    assert anon.get(f"/ex/jira/{other}/rest/api/3/serverInfo").status_code == 404
    assert [r.path for r in sandbox.requests()][-1] == f"/ex/jira/{other}/rest/api/3/serverInfo"
    assert anon.post("/_sandbox/gateway", json={"enabled": False}).status_code == 200
    assert anon.get(path).status_code == 404
