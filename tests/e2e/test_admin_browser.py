"""The admin panel in a real browser: configure Jira against the sandbox, test the connection
(a failure with a clear message, then a pass), save, enable, ingest through the API, deliver,
and see the Jira issue key in the delivery log. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx2
from admin_fixtures import OWNER, PASSWORD
from browser_support import CHROMIUM_ARGS, LiveServer
from playwright.sync_api import Page, expect, sync_playwright

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import ADMIN_EMAIL, ADMIN_TOKEN

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WRONG_TOKEN = "wrong-token-e2e"

ALERTS = [
    {
        "title": "Impossible travel: sign-in from two countries within 5 minutes",
        "severity": "high",
        "source": "aegis-identity",
        "detected_at": "2026-11-27T08:00:00Z",
        "external_id": "idp-7781",
        "mitre": ["T1078"],
        "threat_score": 81,
    },
    {
        "title": "Lookalike domain registered: acme-logins.com",
        "severity": "medium",
        "source": "eclipse-brand",
        "module": "eclipse",
        "detected_at": "2026-11-27T08:05:00Z",
        "external_id": "brand-311",
    },
]


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def fill_jira_form(page: Page, sandbox: JiraSandbox, token: str) -> None:
    page.fill("#base_url", sandbox.url)
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#api_token", token)
    page.fill("#project_key", "SEC")
    page.fill("#issue_type", "Task")


def test_configure_jira_then_see_tickets_in_the_delivery_log(
    chromium_path: Path, live_server: LiveServer, sandbox: JiraSandbox
) -> None:
    world = live_server.world
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(live_server.url + "/")
            expect(page).to_have_url(live_server.url + "/login?next=%2F")
            page.fill("#email", OWNER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator(".sidenav")).to_contain_text("Integrations")

            page.click(".sidenav >> text=Integrations")
            expect(page.locator("h1")).to_have_text("Integrations")
            expect(page.locator(".provider-card .badge")).to_have_text("Not configured")

            # A wrong token: the test fails on credentials and says why; nothing is saved.
            fill_jira_form(page, sandbox, WRONG_TOKEN)
            page.click("button[value=test]")
            report = page.locator("#test-result")
            expect(report.locator("h3")).to_have_text("Connection test failed")
            credentials = report.locator(".check").first
            expect(credentials).to_contain_text("Credentials")
            expect(credentials.locator(".check-result")).to_have_text("fail")
            expect(credentials.locator(".check-detail")).to_contain_text("rejected")
            assert WRONG_TOKEN not in page.content()
            expect(page.locator("#api_token")).to_have_value("")  # never sent back
            expect(page.locator("#base_url")).to_have_value(sandbox.url)  # the rest is kept
            shoot(page, "test-connection-failed.png")

            # The right token: every check passes.
            page.fill("#api_token", ADMIN_TOKEN)
            page.click("button[value=test]")
            expect(report.locator("h3")).to_have_text("Connection test passed")
            expect(report.locator(".check-fail")).to_have_count(0)
            expect(report).to_contain_text("project SEC")
            shoot(page, "test-connection.png")

            page.fill("#api_token", ADMIN_TOKEN)
            page.click("button[value=save]")
            expect(page.locator(".flash")).to_contain_text("Jira settings saved.")
            expect(page.locator(".provider-card .badge")).to_have_text("Disabled")
            page.click("text=Enable")
            expect(page.locator(".provider-card .badge")).to_have_text("Enabled")
            assert ADMIN_TOKEN not in page.content()
            shoot(page, "integrations.png")

            # An API key made in the panel, shown once.
            page.click(".sidenav >> text=API keys")
            page.fill("#name", "e2e source")
            page.click("text=Create key")
            key = page.locator("#new-key").input_value()
            assert key.startswith("siq_")

            answer = httpx2.post(
                f"{live_server.url}/api/v1/workspaces/{world.acme.id}/alerts",
                content=json.dumps(ALERTS),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text

            # The service's worker files the issues; the delivery log shows their keys.
            page.click(".sidenav >> text=Deliveries")
            deadline = time.monotonic() + 60
            while page.locator("#deliveries .issue-key").count() < 2:
                assert time.monotonic() < deadline, "the service's worker delivered nothing"
                page.wait_for_timeout(300)
                page.reload()
            rows = page.locator("#deliveries tbody tr")
            expect(rows).to_have_count(2)
            keys = page.locator("#deliveries .issue-key")
            expect(keys).to_have_count(2)
            expect(keys.first).to_have_text(_issue_key_pattern())
            expect(page.locator("#deliveries .badge-delivered")).to_have_count(2)
            shoot(page, "delivery-log.png")

            # The issue link leads to the sandbox's issue; the alert page shows the ticket too.
            href = keys.first.get_attribute("href")
            assert href is not None
            assert href.startswith(sandbox.url + "/browse/SEC-")
            page.click("#deliveries tbody tr >> nth=0 >> td >> nth=0 >> a")
            expect(page.locator(".issue-key").first).to_have_text(_issue_key_pattern())
            assert len(sandbox.issues()) == 2
        finally:
            browser.close()


def _issue_key_pattern() -> re.Pattern[str]:
    return re.compile(r"^SEC-\d+$")
