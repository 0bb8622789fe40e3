"""A project that requires a field SentinelIQ does not fill, in a real browser: Test connection
fails its "required fields" check naming the field with its allowed values, the form offers a
select of them, and with a value chosen the test passes. Screenshot to docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

from admin_fixtures import OWNER, PASSWORD
from browser_support import CHROMIUM_ARGS, LiveServer
from playwright.sync_api import expect, sync_playwright
from test_admin_browser import fill_jira_form, shoot

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import ADMIN_TOKEN, TEAM_FIELD


def test_required_field_is_named_then_satisfied_in_the_browser(
    chromium_path: Path, live_server: LiveServer, sandbox: JiraSandbox
) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(live_server.url + "/login")
            page.fill("#email", OWNER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.click(".sidenav >> text=Integrations")

            fill_jira_form(page, sandbox, ADMIN_TOKEN)
            page.click("button[value=test]")
            report = page.locator("#test-result")
            expect(report.locator("h3")).to_have_text("Connection test failed")
            required = report.locator(".check", has_text="Required fields")
            expect(required.locator(".check-result")).to_have_text("fail")
            expect(required.locator(".check-detail")).to_contain_text(
                "Team (customfield_10060), allowed: Blue Team, Red Team"
            )
            choice = page.locator("#field-values select").first
            expect(choice).to_be_visible()
            shoot(page, "test-connection-required-field.png")

            choice.select_option("Blue Team")
            page.fill("#api_token", ADMIN_TOKEN)  # never sent back to the browser
            page.click("button[value=test]")
            expect(report.locator("h3")).to_have_text("Connection test passed")
            expect(report.locator(".check-fail")).to_have_count(0)
        finally:
            browser.close()
