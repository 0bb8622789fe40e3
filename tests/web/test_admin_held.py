"""The panel's storm-guard banner and held list (release selected / all, discard selected), and
repeats and operations where alerts and deliveries are shown: the real app over HTTP, SQLite."""

from __future__ import annotations

import json
import re
from typing import Any

import admin_fixtures
import pytest
from admin_fixtures import ADMIN, MEMBER, World, sign_in
from fastapi.testclient import TestClient

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client
BANNER = re.compile(r'class="flash flash-warning held-banner"[^>]*><strong>([^<]+)</strong>')


def _alert(n: int, **extra: Any) -> str:
    return json.dumps(
        {
            "title": f"Mass mailing from account {n}",
            "severity": "medium",
            "source": "Mail gateway",
            "detected_at": f"2026-11-27T08:{n:02d}:00Z",
            "external_id": f"mail-{n}",
            **extra,
        }
    )


@pytest.fixture
def stormy(admin_world: World) -> World:
    """Acme with Jira enabled at a storm threshold of 1, and 3 alerts: 1 queued, 2 held."""
    config = {
        **sandbox_provider_config("http://127.0.0.1:9"),  # never contacted here
        "lifecycle": {"storm_threshold": 1, "storm_window_s": 3600},
    }
    configure(admin_world.app, admin_world.acme.id, "jira", config, actor="test")
    report = ingest_text(
        admin_world.app,
        admin_world.acme.id,
        "\n".join(_alert(n) for n in (1, 2, 3)),
        actor="test",
    )
    assert report.held == {"jira": 2}
    return admin_world


def _held_ids(world: World) -> list[str]:
    views = DeliveryRepository(world.app.db).list_for_workspace(world.acme.id, DeliveryStatus.HELD)
    return sorted(v.id for v in views)


def _banner(html: str) -> str | None:
    found = BANNER.search(html)
    return found.group(1) if found else None


def test_every_workspace_page_shows_the_banner_and_a_member_may_only_look(
    admin_client: TestClient, stormy: World
) -> None:
    sign_in(admin_client, MEMBER)
    base = f"/w/{stormy.acme.id}"
    for path in ("/alerts", "/deliveries", "/assignees", "/settings/integrations"):
        page = admin_client.get(base + path)
        assert page.status_code == 200, path
        assert _banner(page.text) == "2 new tickets held by the storm guard", path
        assert f'href="{base}/deliveries/held">review</a>' in page.text
    # Other workspaces know nothing of it.
    held = admin_client.get(f"{base}/deliveries/held")
    assert held.status_code == 200
    assert held.text.count("Mass mailing from account") == 2
    assert 'name="ids"' not in held.text
    assert "Release all" not in held.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', held.text)
    assert token is not None
    refused = admin_client.post(
        f"{base}/deliveries/held/release", data={"csrf_token": token.group(1), "all": "1"}
    )
    assert refused.status_code == 403
    assert len(_held_ids(stormy)) == 2


def test_release_selected_then_discard_selected_then_release_all(
    admin_client: TestClient, stormy: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    base = f"/w/{stormy.acme.id}"
    held = admin_client.get(f"{base}/deliveries/held")
    first, second = _held_ids(stormy)
    for delivery_id in (first, second):
        assert f'name="ids" value="{delivery_id}"' in held.text
    assert "Release all (2)" in held.text

    # Without the CSRF token nothing changes.
    forged = admin_client.post(f"{base}/deliveries/held/release", data={"ids": first})
    assert forged.status_code == 403
    # Nothing ticked: said so, nothing changes.
    none = admin_client.post(f"{base}/deliveries/held/release", data={"csrf_token": csrf})
    assert none.headers["location"] == f"{base}/deliveries/held?done=held_none"
    assert (
        "Select at least one held ticket first." in admin_client.get(none.headers["location"]).text
    )

    released = admin_client.post(
        f"{base}/deliveries/held/release", data={"csrf_token": csrf, "ids": [first]}
    )
    assert released.status_code == 303
    page = admin_client.get(released.headers["location"])
    assert "1 held ticket was released: the next worker run files it." in page.text
    assert _banner(page.text) == "1 new ticket held by the storm guard"
    repository = DeliveryRepository(stormy.app.db)
    assert (found := repository.get(first)) is not None
    assert found.status is DeliveryStatus.PENDING

    # A stale selection (the first is no longer held) changes nothing, not even the second.
    stale = admin_client.post(
        f"{base}/deliveries/held/discard", data={"csrf_token": csrf, "ids": [first, second]}
    )
    assert stale.headers["location"] == f"{base}/deliveries/held?done=held_changed"
    assert "Nothing was changed" in admin_client.get(stale.headers["location"]).text
    assert _held_ids(stormy) == [second]

    discarded = admin_client.post(
        f"{base}/deliveries/held/discard", data={"csrf_token": csrf, "ids": [second]}
    )
    page = admin_client.get(discarded.headers["location"])
    assert "1 held ticket was discarded: it will not be filed." in page.text
    assert _banner(page.text) is None
    assert "No tickets are held." in page.text
    assert (found := repository.get(second)) is not None
    assert found.status is DeliveryStatus.DISCARDED

    # Release all: one more storm, then everything held is released at once.
    ingest_text(stormy.app, stormy.acme.id, "\n".join(_alert(n) for n in (4, 5)), actor="t")
    assert len(_held_ids(stormy)) == 2
    everything = admin_client.post(
        f"{base}/deliveries/held/release", data={"csrf_token": csrf, "all": "1"}
    )
    page = admin_client.get(everything.headers["location"])
    assert "2 held tickets were released: the next worker run files them." in page.text
    assert _held_ids(stormy) == []
    actions = [e.action for e in AuditRepository(stormy.app.db).list(stormy.acme.id, limit=500)]
    assert actions.count("deliveries.held_released") == 2
    assert actions.count("deliveries.held_discarded") == 1
    assert actions.count("delivery.unheld") == 3


def test_lists_and_pages_show_operations_held_status_and_repeats(
    admin_client: TestClient, stormy: World
) -> None:
    sign_in(admin_client, MEMBER)
    base = f"/w/{stormy.acme.id}"
    listed = admin_client.get(f"{base}/deliveries?status=held").text
    assert listed.count('class="badge badge-held"') == 2
    assert listed.count('<span class="operation">create issue</span>') == 2
    held_id = _held_ids(stormy)[0]
    detail = admin_client.get(f"{base}/deliveries/{held_id}").text
    assert "<dt>Operation</dt><dd>create issue</dd>" in detail
    assert "Held by the storm guard" in detail

    # A repeat of the first alert (queued, not held): counted and listed on the alert's page.
    again = ingest_text(
        stormy.app,
        stormy.acme.id,
        _alert(1, detected_at="2026-11-27T09:00:00Z", severity="high"),
        actor="test",
    )
    [outcome] = again.outcomes
    assert (outcome.outcome.status, outcome.outcome.occurrence) == ("occurrence", 1)
    page = admin_client.get(f"{base}/alerts/{outcome.outcome.alert_id}").text
    assert '<dd id="occurrence-count">1</dd>' in page
    assert "(latest 1 of 1, newest first)" in page
    assert "up from medium" in page
    assert "report occurrences" in page  # the comment delivery, told from the create
