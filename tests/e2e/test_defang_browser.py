"""A ticket's indicators and secrets as an analyst sees them on the sandbox's issue page: every
indicator defanged and none of them a link; the planted secrets shown as redaction markers.
The screenshot is the one in docs/security-context.md (docs/screenshots/issue-defanged.png)."""

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
AWS_KEY = "AKIAQ3EGRJ7ZBROWSER1"
ALERT = {
    "title": "Phishing page harvesting SSO logins",
    "description": (
        "A user reported the page below. The kit's config, found on the server, holds the "
        f"attacker's cloud key {AWS_KEY} and posts to "
        "https://collector:Sup3rS3cret@drop.evil.example/submit."
    ),
    "severity": "high",
    "source": "Mail gateway",
    "detected_at": "2026-12-01T08:00:00Z",
    "observables": [
        {"type": "url", "value": "https://login-sso.evil.example/auth?next=/mail"},
        {"type": "domain", "value": "login-sso.evil.example"},
        {"type": "ip", "value": "203.0.113.66"},
        {"type": "email", "value": "it-support@evil.example"},
        {"type": "file", "value": "invoice.pdf.html"},
    ],
    "link": "https://console.example.test/alerts/phish-1",
}


def test_indicators_are_defanged_and_secrets_redacted_on_the_issue_page(
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
        workspace = WorkspaceRepository(app.db).create("SOC")
        configure(app, workspace.id, "jira", sandbox_provider_config(sandbox.url), actor="test")
        ingest_text(app, workspace.id, json.dumps(ALERT), actor="test")
        Worker(app).run(until_idle=True, poll_interval=0.05)
        (issue,) = sandbox.issues()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.goto(f"{sandbox.url}/browse/{issue['key']}")
                for shown in (
                    "hxxps://login-sso[.]evil[.]example/auth?next=/mail",
                    "login-sso[.]evil[.]example",
                    "203[.]0[.]113[.]66",
                    "it-support(at)evil[.]example",
                    "invoice.pdf.html",  # a file name is not an address
                ):
                    expect(page.get_by_text(shown, exact=True)).to_be_visible()
                expect(page.get_by_text("[redacted-aws-key]", exact=False)).to_be_visible()
                hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
                assert not [h for h in hrefs if "evil" in h], hrefs
                body = page.content()
                assert AWS_KEY not in body
                assert "Sup3rS3cret" not in body
                page.get_by_role("heading", name="Observables").scroll_into_view_if_needed()
                SCREENSHOT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT / "issue-defanged.png"), full_page=True)
            finally:
                browser.close()
    finally:
        app.close()
