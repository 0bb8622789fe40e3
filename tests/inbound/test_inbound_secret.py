"""The webhook secret: generated on request, shown once, stored encrypted, never seen again."""

from __future__ import annotations

import io
import json

import httpx2
from inbound_harness import Inbound
from sqlalchemy import MetaData, select

from sentineliq.services.identity import IdentityService, Role
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.inbound import InboundRepository

PASSWORD = "correct horse battery staple"


def _database_text(inbound: Inbound) -> str:
    metadata = MetaData()
    metadata.reflect(inbound.app.db.engine)
    with inbound.app.db.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        )


def test_the_secret_is_shown_once_and_never_again(inbound: Inbound, json_logs: io.StringIO) -> None:
    identity = IdentityService(inbound.app)
    admin = identity.create_user("admin@soc.test", PASSWORD, actor="test")
    identity.add_member(inbound.workspace_id, admin.id, Role.ADMIN, actor="test")
    session = identity.start_session(admin.id, ip="127.0.0.1", user_agent="pytest")
    headers = {"Cookie": f"siq_session={session.token}", "X-CSRF-Token": session.csrf_token}
    base = f"{inbound.url}/api/v1/workspaces/{inbound.workspace_id}/providers/jira"
    alert_id, key = inbound.ticketed_alert()

    with httpx2.Client(timeout=10, headers=headers) as client:
        made = client.post(f"{base}/webhook-secret")
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        assert made.json()["url"] == inbound.webhook_url
        assert made.json()["events"] == ["jira:issue_updated", "comment_created"]
        assert made.headers["cache-control"] == "no-store"
        inbound.sandbox.add_webhook(inbound.webhook_url, secret)
        inbound.move(key, "Done")
        inbound.wait()
        setup = client.get(f"{base}/webhook")
        provider = client.get(base)
        alert = client.get(
            f"{inbound.url}/api/v1/workspaces/{inbound.workspace_id}/alerts/{alert_id}"
        )
    audit = AuditRepository(inbound.app.db).list(inbound.workspace_id)
    audit_text = json.dumps([dict(a.details) for a in audit], default=str)
    assert "provider.webhook_secret_generated" in {a.action for a in audit}
    assert len(secret) >= 40
    assert setup.status_code == 200
    assert setup.json()["secret_set"] is True
    assert alert.json()["status"] == "resolved"
    assert alert.json()["resolution"] == "Done"
    for answer in (setup.text, provider.text, alert.text, audit_text):
        assert secret not in answer
    logs = json_logs.getvalue()
    assert "sync.alert_status" in logs  # the capture works
    assert secret not in logs
    assert secret not in _database_text(inbound)
    assert inbound.state(alert_id).status == "resolved"  # the secret did sign the webhook


def test_the_panel_shows_the_webhook_setup_and_the_new_secret_once(inbound: Inbound) -> None:
    identity = IdentityService(inbound.app)
    admin = identity.create_user("owner@soc.test", PASSWORD, actor="test")
    identity.add_member(inbound.workspace_id, admin.id, Role.OWNER, actor="test")
    session = identity.start_session(admin.id, ip="127.0.0.1", user_agent="pytest")
    page_url = f"{inbound.url}/w/{inbound.workspace_id}/settings/integrations"
    cookies = {"Cookie": f"siq_session={session.token}"}
    with httpx2.Client(timeout=10, headers=cookies) as client:
        before = client.get(page_url)
        made = client.post(
            f"{page_url}/jira/webhook-secret", data={"csrf_token": session.csrf_token}
        )
        after = client.get(page_url)
    assert before.status_code == 200
    assert inbound.webhook_url in before.text
    assert "Generate secret" in before.text
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = InboundRepository(inbound.app.db, inbound.app.secrets).webhook_secret(
        inbound.provider.id
    )
    assert secret is not None
    assert secret in made.text
    assert secret not in after.text
    assert "Replace secret" in after.text
