"""Secrets planted in an alert never reach Jira: alerts sent to the running service over HTTP,
delivered by its worker to the sandbox, then every request the sandbox received is searched.
SQLite and PostgreSQL (the `database_url` fixture under `app_context`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
from live_support import wait_for

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure

# Fabricated, correctly shaped credentials; none of them is live.
AWS_KEY = "AKIAQ3EGRJ7ZPLANTED1"
GITHUB_TOKEN = "ghp_Pl4ntedT0kenPl4ntedT0kenPl4ntedT0ken"
PEM_BODY = "MIIEowIBAAKCAQEAPlantedPrivateKeyMaterial0123"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIiwiYWRtaW4iOnRydWV9"
    ".Qm9ndXNTaWduYXR1cmVQbGFudGVkMDEyMzQ1Njc4OQ"
)
URL_PASSWORD = "Pl4ntedPassw0rd"
SLACK_TOKEN = "xoxb-1111-2222-PlantedSlackToken"
API_KEY = "b1f0c2e9d8a7PlantedKey55"
SECRETS = (AWS_KEY, GITHUB_TOKEN, PEM_BODY, JWT, URL_PASSWORD, SLACK_TOKEN, API_KEY)

ALERT: dict[str, Any] = {
    "title": f"Cloud key {AWS_KEY} used from an unknown host",
    "description": (
        f"The CI log printed a private key:\n\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n"
        f"-----END RSA PRIVATE KEY-----\n\nand a session token {JWT} with api_key={API_KEY}."
    ),
    "severity": "high",
    "source": f"DLP {SLACK_TOKEN}",  # routed into a custom field below
    "detected_at": "2026-12-01T08:00:00Z",
    "fingerprint": "planted-secrets",
    "tags": [GITHUB_TOKEN],
    "affected_assets": [f"build-agent-7 ({JWT})"],
    "observables": [
        {"type": "url", "value": f"https://deploy:{URL_PASSWORD}@git.evil.example/repo.git"},
        {"type": "domain", "value": "git.evil.example"},
    ],
}
# The same problem again: its occurrence comment lists a new observable carrying a secret.
REPEAT: dict[str, Any] = {
    **ALERT,
    "detected_at": "2026-12-01T09:00:00Z",
    "severity": "critical",
    "observables": [
        *ALERT["observables"],
        {"type": "url", "value": f"https://ops:{URL_PASSWORD}@cdn.evil.example/p?token={JWT}"},
    ],
}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_secrets_planted_in_an_alert_never_reach_jira(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
    serve: Callable[..., Any],
) -> None:
    workspace = people.workspace("Redaction")
    admin = people.user("admin@redaction.test", {workspace.id: Role.ADMIN})
    key = people.api_key(workspace.id)
    custom = {"customfield_10051": "source", "customfield_10052": "title"}
    configure(app_context, workspace.id, "jira", jira_settings(custom_fields=custom), actor="t")
    live = serve(run_worker=True)
    base = f"{live.url}/api/v1/workspaces/{workspace.id}"
    with httpx2.Client(timeout=30) as http:
        sent = http.post(f"{base}/alerts", headers={"Authorization": f"Bearer {key}"}, json=ALERT)
        assert sent.status_code == 200, sent.text
        alert_id = sent.json()["results"][0]["alert_id"]

        def ticket() -> Any:
            body = http.get(f"{base}/alerts/{alert_id}", headers=admin.headers).json()
            return body["tickets"]

        issue_key = wait_for(ticket, timeout=60)[0]["issue_key"]
        again = http.post(f"{base}/alerts", headers={"Authorization": f"Bearer {key}"}, json=REPEAT)
        assert again.json()["results"][0]["status"] == "occurrence", again.text

        def commented() -> bool:
            return any(
                r.method == "POST" and r.path.endswith(f"/issue/{issue_key}/comment")
                for r in jira_sandbox.requests()
            )

        wait_for(commented, timeout=60)

    received = jira_sandbox.requests()
    bodies = [r.body for r in received if r.body]
    # The test sees what it should: the create, its custom fields, the comment, the edits.
    create = next(json.loads(r.body) for r in received if r.path == "/rest/api/3/issue")
    fields = create["fields"]
    assert fields["summary"] == "Cloud key [redacted-aws-key] used from an unknown host"
    assert fields["customfield_10051"] == "DLP [redacted-api-token]"
    assert "redacted-api-token" in fields["labels"]  # Jira labels drop the brackets
    description = json.dumps(create["fields"]["description"])
    assert "[redacted-private-key]" in description
    assert "hxxps://deploy:[redacted-password](at)git[.]evil[.]example/repo[.]git" in description
    comment = next(r.body for r in received if r.path.endswith("/comment"))
    assert "hxxps://ops:[redacted-password](at)cdn[.]evil[.]example" in comment
    for secret in SECRETS:
        for request in received:
            where = f"{request.method} {request.path}?{request.query}"
            assert secret not in request.body, where
            assert secret not in request.query, where
            if request.body.startswith(("{", "[")):
                assert not [s for s in _strings(json.loads(request.body)) if secret in s], where
    assert len(bodies) >= 3
    # The issue as Jira keeps it says the same.
    stored = json.dumps(jira_sandbox.issues())
    for secret in SECRETS:
        assert secret not in stored
