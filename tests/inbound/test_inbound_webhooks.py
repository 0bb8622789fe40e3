"""Jira -> SentinelIQ through real webhooks: the sandbox POSTs signed payloads to the service
served on loopback, after a person changed the issue through Jira's REST API."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx2
from inbound_harness import PAT_NAME, Inbound
from sqlalchemy import select

from sentineliq.services.alertstatus import StatusOrigin, change_status
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.tables import WebhookReceiptRow


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_done_in_jira_resolves_the_alert_and_reopening_reopens_it(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()

    inbound.move(key, "Done")
    inbound.wait()

    state = inbound.state(alert_id)
    assert state.status == "resolved"
    assert state.resolution == "Done"
    assert state.status_changed_by == f"jira:{PAT_NAME}"
    assert state.status_changed_at is not None
    sent = inbound.sandbox.webhook_deliveries()
    assert sent
    assert all(d.status in (200, 204) for d in sent), sent
    audit = AuditRepository(inbound.app.db).list(inbound.workspace_id)
    changes = [a for a in audit if a.action == "alert.status_changed"]
    assert changes[0].details["origin"] == "ticket"
    assert changes[0].details["to"] == "resolved"

    inbound.move(key, "In Progress")
    inbound.wait()
    reopened = inbound.state(alert_id)
    assert reopened.status == "new"
    assert reopened.resolution is None


def test_a_forged_or_missing_signature_is_refused_and_audited(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()
    issue = inbound.sandbox.issues()[0]
    payload = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1,
        "issue": {
            "id": issue["id"],
            "key": key,
            "fields": {
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "resolution": {"name": "Done"},
            },
        },
    }
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": "forged-1"}
    with httpx2.Client(timeout=10) as client:
        forged = client.post(
            inbound.webhook_url,
            content=body,
            headers={**headers, "X-Hub-Signature": _sign("not-the-secret", body)},
        )
        missing = client.post(inbound.webhook_url, content=body, headers=headers)
    for answer in (forged, missing):
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert inbound.state(alert_id).status == "new"
    refused = [
        a
        for a in AuditRepository(inbound.app.db).list(inbound.workspace_id)
        if a.action == "webhook.refused"
    ]
    assert len(refused) == 2
    assert {a.details["reason"] for a in refused} == {
        "signature mismatch",
        "no X-Hub-Signature header",
    }
    assert all(a.details["ip"] == "127.0.0.1" for a in refused)
    assert all(a.details["provider_id"] == inbound.provider.id for a in refused)


def test_a_replayed_delivery_changes_nothing(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook(events=("jira:issue_updated",))
    inbound.move(key, "Done")
    inbound.wait()
    assert inbound.state(alert_id).status == "resolved"
    # An analyst reopens the alert in SentinelIQ; a replay of the old "done" webhook (same bytes,
    # same signature, same identifier) must not resolve it again.
    change_status(
        inbound.app,
        alert_id,
        "new",
        actor="analyst@soc.test",
        reason="not fixed",
        origin=StatusOrigin.USER,
    )
    first = inbound.sandbox.webhook_deliveries()[0]
    inbound.sandbox.replay_webhook(first.identifier)
    inbound.wait()

    replayed = inbound.sandbox.webhook_deliveries()[-1]
    assert replayed.replay
    assert replayed.identifier == first.identifier
    assert replayed.status == 200
    assert inbound.state(alert_id).status == "new"
    with inbound.app.db.session() as session:
        receipts = session.scalars(select(WebhookReceiptRow.identifier)).all()
    assert receipts.count(first.identifier) == 1


def test_unknown_provider_unknown_event_and_oversized_bodies(inbound: Inbound) -> None:
    secret = inbound.connect_webhook()
    body = json.dumps({"webhookEvent": "worklog_created", "timestamp": 1}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": "wl-1",
        "X-Hub-Signature": _sign(secret, body),
    }
    big = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    with httpx2.Client(timeout=10) as client:
        ignored = client.post(inbound.webhook_url, content=body, headers=headers)
        unknown = client.post(
            inbound.url + "/api/v1/webhooks/jira/00000000-0000-0000-0000-000000000000",
            content=body,
            headers=headers,
        )
        too_big = client.post(
            inbound.webhook_url,
            content=big,
            headers={**headers, "X-Hub-Signature": _sign(secret, big)},
        )
        garbage = b"not json"
        bad = client.post(
            inbound.webhook_url,
            content=garbage,
            headers={
                **headers,
                "X-Atlassian-Webhook-Identifier": "g-1",
                "X-Hub-Signature": _sign(secret, garbage),
            },
        )
    assert ignored.status_code == 204
    assert unknown.status_code == 404
    assert too_big.status_code == 413
    assert bad.status_code == 400
    assert "JSON" in bad.json()["detail"]


def test_the_sandbox_retries_a_failed_delivery_with_the_same_identifier(inbound: Inbound) -> None:
    _alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook(events=("jira:issue_updated",))
    inbound.server.stop()  # the receiver is unreachable: connection refused, then retried
    inbound.move(key, "Done")
    inbound.wait()
    attempts = inbound.sandbox.webhook_deliveries()
    assert [a.retry for a in attempts] == [0, 1, 2, 3]
    assert len({a.identifier for a in attempts}) == 1
    assert all(a.status is None and a.error for a in attempts)


def test_a_person_whose_email_starts_with_jira_is_not_the_ticket(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()
    change_status(
        inbound.app,
        alert_id,
        "resolved",
        actor="jira-admin@corp.example",
        reason="handled",
        origin=StatusOrigin.USER,
    )
    inbound.wait()  # the worker has not moved the issue: it is still open in Jira
    inbound.comment(key, "looking at it")  # an issue change: a webhook with the open issue
    inbound.wait()
    assert inbound.state(alert_id).status == "resolved"


def test_an_older_view_of_the_issue_never_undoes_a_newer_change(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()
    inbound.move(key, "Done")
    inbound.wait()
    done = [d for d in inbound.sandbox.webhook_deliveries() if d.status in (200, 204)]
    inbound.move(key, "In Progress")
    inbound.wait()
    assert inbound.state(alert_id).status == "new"
    # The "done" body comes again under a new identifier (a captured body re-sent, or Jira's
    # late retry): it is older than the reopening and changes nothing.
    inbound.sandbox.replay_webhook(done[-1].identifier, new_identifier=True)
    inbound.wait()
    assert inbound.state(alert_id).status == "new"


def test_a_signed_but_absurdly_nested_body_is_a_bad_request_not_a_crash(inbound: Inbound) -> None:
    secret = inbound.connect_webhook()
    body = b"[" * 200_000 + b"]" * 200_000  # under the 1 MiB limit, deeper than any parser
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": "deep-1",
        "X-Hub-Signature": _sign(secret, body),
    }
    with httpx2.Client(timeout=30) as client:
        answer = client.post(inbound.webhook_url, content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
