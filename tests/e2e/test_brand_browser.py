"""A brand-protection ticket as an analyst sees it on the sandbox's issue page: brand and
infringement first, the suspicious site defanged and never a link, the screenshot linked, the
recommended action. The screenshot is the one in docs/security-context.md
(docs/screenshots/issue-brand.png)."""

from __future__ import annotations

import json
from pathlib import Path

from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOT_URL = "https://eclipse.example.test/captures/ECL-DET-3310.png"
DETECTION = {
    "title": "Look-alike store sells counterfeit Acme headphones",
    "description": "A new shop copies the Acme catalogue and checkout at a 70% discount.",
    "severity": "critical",
    "source": "Eclipse",
    "detected_at": "2026-12-01T08:00:00Z",
    "external_id": "ECL-DET-3310",
    "brand_protection": {
        "brand": "Acme",
        "detection_type": "visual",
        "infringement_type": "counterfeiting",
        "url": "https://acme-outlet-store.example/headphones",
        "domain": "acme-outlet-store.example",
        "ip": "198.51.100.23",
        "screenshot_url": SCREENSHOT_URL,
        "confidence": 0.96,
        "recommended_action": "Report the shop to its host and payment processor for takedown.",
    },
}
# Below the default gate: stored, never filed.
BELOW = {
    **DETECTION,
    "title": "Possible Acme look-alike (low)",
    "severity": "low",
    "external_id": "ECL-DET-3311",
}


def test_a_brand_ticket_on_the_issue_page(
    chromium_path: Path, sandbox: JiraSandbox, tmp_path: Path, sqlite_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_key=None,
        allow_private_targets=True,
    )
    app = AppContext.open(settings)
    try:
        workspace = WorkspaceRepository(app.db).create("Brand")
        configure(app, workspace.id, "jira", sandbox_provider_config(sandbox.url), actor="test")
        report = ingest_text(app, workspace.id, json.dumps([DETECTION, BELOW]), actor="test")
        assert [dict(o.outcome.not_ticketed) != {} for o in report.outcomes] == [False, True]
        Worker(app).run(until_idle=True, poll_interval=0.05)
        (issue,) = sandbox.issues()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.goto(f"{sandbox.url}/browse/{issue['key']}")
                expect(page.get_by_role("heading", name="Brand protection")).to_be_visible()
                for shown in (
                    "Acme",
                    "Counterfeiting",
                    "hxxps://acme-outlet-store[.]example/headphones",
                    "acme-outlet-store[.]example",
                    "198[.]51[.]100[.]23",
                    "Report the shop to its host and payment processor for takedown.",
                ):
                    expect(page.get_by_text(shown, exact=True).first).to_be_visible()
                expect(page.locator(f'a[href="{SCREENSHOT_URL}"]')).to_be_visible()
                hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
                assert not [h for h in hrefs if "acme-outlet" in h], hrefs
                SCREENSHOT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT / "issue-brand.png"), full_page=True)
            finally:
                browser.close()
    finally:
        app.close()
