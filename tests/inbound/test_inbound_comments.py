"""People's comments in Jira become alert notes (when switched on); SentinelIQ's own never do."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx2
from inbound_harness import PAT_NAME, Inbound

from sentineliq.storage.alertstate import AlertStateRepository


def _notes(inbound: Inbound, alert_id: str) -> list[tuple[str, str, str]]:
    return [
        (n.author, n.body, n.source) for n in AlertStateRepository(inbound.app.db).notes(alert_id)
    ]


def test_a_persons_comment_is_mirrored_and_our_own_is_not(inbound: Inbound) -> None:
    inbound.reconfigure(mirror_comments=True)
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()

    ours = inbound.comment(key, "Posted by the integration", client=inbound.admin_jira())
    theirs = inbound.comment(key, "Confirmed malicious, host isolated.")
    inbound.wait()

    assert _notes(inbound, alert_id) == [
        (f"jira:{PAT_NAME}", "Confirmed malicious, host isolated.", f"jira:{theirs}")
    ]
    assert ours != theirs
    # Every comment_created delivery of a person's comment replayed: still one note.
    for delivery in inbound.sandbox.webhook_deliveries():
        if delivery.event == "comment_created":
            inbound.sandbox.replay_webhook(delivery.identifier)
    inbound.wait()
    assert len(_notes(inbound, alert_id)) == 1


def test_a_comment_carrying_our_property_is_never_mirrored(inbound: Inbound) -> None:
    inbound.reconfigure(mirror_comments=True)
    alert_id, key = inbound.ticketed_alert()
    secret = inbound.connect_webhook()
    issue_id = inbound.sandbox.issues()[0]["id"]
    payload = {
        "webhookEvent": "comment_created",
        "timestamp": 1,
        "issue": {"id": issue_id, "key": key},
        "comment": {
            "id": "77001",
            "author": {"accountId": "712020:someone-else", "displayName": "Automation"},
            "body": "SentinelIQ: 3 more occurrences",
            "created": "2026-12-02T12:00:00.000+0000",
            "properties": [{"key": "sentineliq.delivery", "value": {"delivery": "d-1"}}],
        },
    }
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with httpx2.Client(timeout=10) as client:
        answer = client.post(
            inbound.webhook_url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Atlassian-Webhook-Identifier": "c-1",
                "X-Hub-Signature": signature,
            },
        )
    assert answer.status_code == 200
    assert answer.json()["detail"] == "SentinelIQ's own comment"
    assert _notes(inbound, alert_id) == []


def test_comments_are_not_mirrored_unless_switched_on(inbound: Inbound) -> None:
    alert_id, key = inbound.ticketed_alert()
    inbound.connect_webhook()
    inbound.comment(key, "Looking into it")
    inbound.wait()
    assert _notes(inbound, alert_id) == []
    assert all(d.status in (200, 204) for d in inbound.sandbox.webhook_deliveries())
