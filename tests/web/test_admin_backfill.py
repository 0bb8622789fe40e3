"""The panel: the Enable form backfills (checkbox on by default), and an alert's page shows what
ingest repaired."""

from __future__ import annotations

import json

import admin_fixtures
from admin_fixtures import OWNER, World, sign_in
from fastapi.testclient import TestClient

from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository

admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client

JIRA = {
    "base_url": "http://127.0.0.1:9",
    "email": "bot@acme.test",
    "api_token": "ATATT-panel-secret-0123456789abcdef",
    "project_key": "SEC",
    "issue_type": "Task",
}
SLOPPY = {
    "title": "Impossible travel for j.doe",
    "severity": "medium",
    "source": "IdP",
    "detected_at": "2026-11-27T08:00:00Z",
    "tags": ["identity", ""],
    "category": None,
}


def _stranded_alert(world: World) -> str:
    report = ingest_text(world.app, world.acme.id, json.dumps(SLOPPY), actor="test")
    [outcome] = report.outcomes
    assert outcome.without_delivery
    return outcome.outcome.alert_id


def test_enable_form_backfills_by_default_and_says_how_many(
    admin_client: TestClient, admin_world: World
) -> None:
    alert_id = _stranded_alert(admin_world)
    configure(admin_world.app, admin_world.acme.id, "jira", JIRA, enabled=False, actor="t")
    csrf = sign_in(admin_client, OWNER)
    base = f"/w/{admin_world.acme.id}"
    card = admin_client.get(base + "/settings/integrations").text
    assert 'name="backfill" value="on" checked' in card

    done = admin_client.post(
        base + "/settings/integrations/jira/enable",
        data={"csrf_token": csrf, "backfill": "on"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=backfilled&count=1")
    shown = admin_client.get(done.headers["location"]).text
    assert "1 recent alert without a ticket was queued" in shown
    deliveries = DeliveryRepository(admin_world.app.db).list_for_workspace(
        admin_world.acme.id, alert_id=alert_id
    )
    assert [d.provider for d in deliveries] == ["jira"]

    # Unchecked: a plain enable, and in any case never a second delivery.
    plain = admin_client.post(
        base + "/settings/integrations/jira/enable",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert plain.headers["location"].endswith("?done=enabled")
    again = admin_client.post(
        base + "/settings/integrations/jira/enable",
        data={"csrf_token": csrf, "backfill": "on"},
        follow_redirects=False,
    )
    assert again.headers["location"].endswith("?done=backfilled&count=0")
    assert (
        "no recent alert was missing a ticket" in admin_client.get(again.headers["location"]).text
    )
    assert (
        len(
            DeliveryRepository(admin_world.app.db).list_for_workspace(
                admin_world.acme.id, alert_id=alert_id
            )
        )
        == 1
    )
    audit = admin_client.get(base + "/audit").text
    assert "provider.backfilled" in audit


def test_alert_page_shows_what_ingest_repaired(
    admin_client: TestClient, admin_world: World
) -> None:
    alert_id = _stranded_alert(admin_world)
    sign_in(admin_client, OWNER)
    page = admin_client.get(f"/w/{admin_world.acme.id}/alerts/{alert_id}")
    assert page.status_code == 200
    assert "Repaired at ingest" in page.text
    assert "tags[1]</span>: empty string dropped" in page.text
    assert "category</span>: null; treated as absent" in page.text


def test_a_forged_count_is_never_echoed(admin_client: TestClient, admin_world: World) -> None:
    sign_in(admin_client, OWNER)
    url = f"/w/{admin_world.acme.id}/settings/integrations?done=backfilled&count="
    for forged in ("<script>", "1e9", "\u0662", "9" * 12):
        page = admin_client.get(url + forged).text
        assert "recent alert" not in page
