"""The storm guard in a real browser: alerts sent over the API past a low storm threshold are
held, every workspace page shows the banner, the held list releases them all, and they become
pending deliveries. The service runs without its worker here, so "pending" is what stays (the
worker's filing is tested elsewhere). Screenshot: docs/screenshots/held-tickets.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from admin_fixtures import OWNER, PASSWORD, open_context, populate
from browser_support import CHROMIUM_ARGS, LiveServer
from playwright.sync_api import expect, sync_playwright

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.identity import IdentityService
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.web.app import create_app
from sentineliq.web.server import BackgroundServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def quiet_server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    """The panel and API without the delivery worker."""
    app = open_context(tmp_path, sqlite_url)
    world = populate(app)
    server = BackgroundServer.start(create_app(app, run_worker=False))
    try:
        yield LiveServer(server.url, world)
    finally:
        server.stop()
        app.close()


def test_release_all_held_tickets_from_the_banner(
    chromium_path: Path, quiet_server: LiveServer, sandbox: JiraSandbox
) -> None:
    world = quiet_server.world
    config = {
        **sandbox_provider_config(sandbox.url),
        "lifecycle": {"storm_threshold": 2, "storm_window_s": 3600},
    }
    configure(world.app, world.acme.id, "jira", config, actor="test")
    _record, key = IdentityService(world.app).create_api_key(world.acme.id, "nids", actor="test")
    alerts = [
        {
            "title": f"Port scan from 198.51.100.{n} against the DMZ",
            "severity": "low",
            "source": "NIDS",
            "detected_at": f"2026-11-27T08:0{n}:00Z",
            "external_id": f"scan-{n}",
        }
        for n in range(1, 6)
    ]
    answer = httpx2.post(
        f"{quiet_server.url}/api/v1/workspaces/{world.acme.id}/alerts",
        content=json.dumps(alerts),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["held"] == 3

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(quiet_server.url + "/login")
            page.fill("#email", OWNER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.click(".sidenav >> text=Alerts")
            banner = page.locator(".held-banner")
            expect(banner).to_contain_text("3 new tickets held by the storm guard")

            banner.locator("text=review").click()
            expect(page.locator("h1")).to_have_text("Held tickets")
            rows = page.locator("#held tbody tr")
            expect(rows).to_have_count(3)
            expect(page.locator("#held input[type=checkbox]")).to_have_count(3)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "held-tickets.png"), full_page=True)

            page.click("#release-all")
            expect(page.locator(".flash-success")).to_have_text(
                "3 held tickets were released: the next worker run files them."
            )
            expect(page.locator(".held-banner")).to_have_count(0)
            expect(page.locator(".empty")).to_contain_text("No tickets are held.")

            page.click(".sidenav >> text=Deliveries")
            expect(page.locator("#deliveries tbody tr")).to_have_count(5)
            expect(page.locator("#deliveries .badge-pending")).to_have_count(5)
            expect(page.locator("#deliveries .badge-held")).to_have_count(0)
        finally:
            browser.close()

    statuses = {
        v.status for v in DeliveryRepository(world.app.db).list_for_workspace(world.acme.id)
    }
    assert statuses == {DeliveryStatus.PENDING}
