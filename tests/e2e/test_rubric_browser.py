"""The whole ticket as an analyst first sees it: the rubric test's alert
(tests/data/rubric-alert.json: every kind of context) filed by the worker and opened on the
sandbox's /browse page in Chromium. Screenshot: docs/screenshots/issue-rubric.png
(docs/security-context.md, "The ticket as a whole")."""

from __future__ import annotations

import json
from pathlib import Path

from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository

from admin_fixtures import World  # isort: skip

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ALERT = (Path(__file__).resolve().parents[1] / "data" / "rubric-alert.json").read_text()


def test_the_whole_ticket_reads_decision_first_on_the_sandbox_page(
    chromium_path: Path, served: tuple[str, World], sandbox: JiraSandbox
) -> None:
    _url, world = served
    app, ws = world.app, world.acme.id
    configure(app, ws, "jira", sandbox_provider_config(sandbox.url), actor="test")
    assert ingest_text(app, ws, ALERT, actor="test").accepted == 1
    Worker(app, batch_size=5).run(until_idle=True, poll_interval=0.05)
    (delivery,) = DeliveryRepository(app.db).list_for_workspace(ws)
    alert = json.loads(ALERT)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{sandbox.url}/browse/{delivery.issue_key}")
            expect(page.get_by_role("heading", level=1)).to_have_text(alert["title"])
            description = page.locator("section").filter(
                has=page.get_by_role("heading", name="Description", exact=True)
            )
            headings = description.locator(".adf > h2").all_inner_texts()
            assert headings == [
                "Alert",
                "Affected assets",
                "MITRE ATT&CK",
                "Observables",
                "Evidence",
                "Link to alert",
            ], headings
            expect(page.get_by_text("Critical severity")).to_be_visible()
            expect(page.get_by_text("hxxps://login-sentineliq[.]example/auth")).to_be_visible()
            # Indicators are text: the only links in the description are ATT&CK's and ours.
            hrefs = description.locator(".adf a").evaluate_all("els => els.map(e => e.href)")
            assert hrefs, "the ATT&CK and alert links are missing"
            assert all(h.startswith(("https://attack.mitre.org/", alert["link"])) for h in hrefs), (
                hrefs
            )
            expect(page.get_by_text("Chain of custody verified at")).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "issue-rubric.png"), full_page=True)
        finally:
            browser.close()
