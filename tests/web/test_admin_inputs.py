"""The panel's Inputs pages over HTTP: members see and try mappings but cannot save; an admin
saves field by field, a bad expression is shown under its field, a saved mapping is deleted;
another workspace's people see none of it."""

from __future__ import annotations

import json
from dataclasses import replace
from unittest.mock import ANY

import admin_fixtures
from admin_fixtures import ADMIN, MEMBER, OUTSIDER, World, sign_in
from fastapi.testclient import TestClient

from sentineliq.services.mappings import find_mapping, list_mappings
from sentineliq.services.urltokens import UrlTokens
from sentineliq.web.api.mappings import SPLUNK_EXAMPLE

admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client

FIELDS = {
    "mode": "fields",
    "origin": "new",
    "f_title": "finding.name",
    "f_fingerprint": "finding.id",
    "f_severity": "finding.level",
    "o_ip": "finding.ip",
    "source": "Scanner",
    "default_severity": "low",
    "severity_map": "4 = critical\n3 = high",
    "sample": json.dumps({"finding": {"id": "F-1", "name": "Open RDP", "level": 4}}),
}


def test_a_member_sees_and_tries_but_cannot_save(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, MEMBER)
    base = f"/w/{admin_world.acme.id}/settings/inputs"
    listing = admin_client.get(base)
    assert listing.status_code == 200
    assert "splunk" in listing.text
    assert "Copy splunk" not in listing.text  # no new mappings for members
    editor = admin_client.get(f"{base}/edit?name=splunk")
    assert "results_link" in editor.text
    assert "Save mapping" not in editor.text
    document = find_mapping(admin_world.app, admin_world.acme.id, "splunk").mapping
    tried = admin_client.post(
        f"{base}/edit",
        data={
            "csrf_token": csrf,
            "name": "splunk",
            "mode": "yaml",
            "document": document.model_dump_json(),
            "sample": json.dumps(SPLUNK_EXAMPLE),
            "action": "try",
        },
    )
    assert tried.status_code == 200
    assert "Would be accepted" in tried.text
    assert "Brute force against a domain controller" in tried.text
    saved = admin_client.post(
        f"{base}/edit", data={"csrf_token": csrf, **FIELDS, "name": "scanner", "action": "save"}
    )
    assert saved.status_code == 403
    assert [v.name for v in list_mappings(admin_world.app, admin_world.acme.id)] == [
        "splunk",
        "elastic",
        "wazuh",
    ]


def test_an_admin_saves_field_by_field_and_deletes(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    base = f"/w/{admin_world.acme.id}/settings/inputs"
    bad = admin_client.post(
        f"{base}/edit",
        data={"csrf_token": csrf, **FIELDS, "f_severity": "finding.[", "name": "scanner",
              "action": "save"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert 'id="f_severity-error"' in bad.text
    assert "not a JMESPath expression" in bad.text
    tried = admin_client.post(
        f"{base}/edit", data={"csrf_token": csrf, **FIELDS, "name": "scanner", "action": "try"}
    )
    assert "Open RDP" in tried.text
    assert "badge-severity-critical" in tried.text
    clash = admin_client.post(
        f"{base}/edit", data={"csrf_token": csrf, **FIELDS, "name": "ocsf", "action": "save"}
    )
    assert clash.status_code == 422
    assert "built-in input" in clash.text
    saved = admin_client.post(
        f"{base}/edit", data={"csrf_token": csrf, **FIELDS, "name": "scanner", "action": "save"}
    )
    assert saved.status_code == 303
    assert "done=mapping_saved" in saved.headers["location"]
    found = find_mapping(admin_world.app, admin_world.acme.id, "scanner").mapping
    assert found.severity_map == {"4": "critical", "3": "high"}
    assert found.observables == {"ip": "finding.ip"}
    assert found.default_severity == "low"
    shown = admin_client.get(saved.headers["location"])
    assert "Mapping saved" in shown.text
    deleted = admin_client.post(f"{base}/delete", data={"csrf_token": csrf, "name": "scanner"})
    assert deleted.status_code == 303
    assert admin_client.get(f"{base}/edit?name=scanner").status_code == 404


def test_another_workspace_sees_nothing(admin_client: TestClient, admin_world: World) -> None:
    sign_in(admin_client, OUTSIDER)
    assert admin_client.get(f"/w/{admin_world.acme.id}/settings/inputs").status_code == 404


def test_an_admin_creates_a_sender_url_once_and_revokes_it(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    base = f"/w/{admin_world.acme.id}/settings/inputs"
    page = admin_client.get(base).text
    assert "Create sender URL" in page
    unknown = admin_client.post(f"{base}/url-tokens", data={"csrf_token": csrf, "name": "nagios"})
    assert unknown.status_code == 404
    made = admin_client.post(f"{base}/url-tokens", data={"csrf_token": csrf, "name": "splunk"})
    assert made.status_code == 201
    assert "/api/v1/hooks/siqh_" in made.text
    (record,) = UrlTokens(admin_world.app).list(admin_world.acme.id)
    token = made.text.split("/api/v1/hooks/", 1)[1].split('"', 1)[0]
    assert UrlTokens(admin_world.app).verify(token) == replace(record, last_used_at=ANY)
    listed = admin_client.get(base).text
    assert record.prefix in listed
    assert token not in listed
    revoked = admin_client.post(
        f"{base}/url-tokens/revoke", data={"csrf_token": csrf, "name": "splunk", "id": record.id}
    )
    assert revoked.status_code == 303
    assert "The sender URL was revoked" in admin_client.get(revoked.headers["location"]).text
    assert UrlTokens(admin_world.app).verify(token) is None


def test_a_member_cannot_create_a_sender_url(admin_client: TestClient, admin_world: World) -> None:
    csrf = sign_in(admin_client, MEMBER)
    base = f"/w/{admin_world.acme.id}/settings/inputs"
    assert "Create sender URL" not in admin_client.get(base).text
    made = admin_client.post(f"{base}/url-tokens", data={"csrf_token": csrf, "name": "splunk"})
    assert made.status_code == 403
    assert UrlTokens(admin_world.app).list(admin_world.acme.id) == []
