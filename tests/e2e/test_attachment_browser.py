"""An evidence file on the sandbox's issue page as an analyst sees it: uploaded before the ticket
was filed, listed with its hashes in the description's evidence section, and attached (name,
size, a link to its content). The screenshot is the one in docs/security-context.md
(docs/screenshots/issue-attachment.png)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx2
from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services import evidencefiles
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ALERT = {
    "title": "Periodic HTTPS beacon to newly registered domain",
    "description": "Host WS-DEV-031 contacts api.telemetry-sync.example every 60 s.",
    "severity": "high",
    "source": "Network Detection",
    "detected_at": "2026-12-01T08:00:00Z",
    "affected_assets": ["WS-DEV-031"],
    "observables": [{"type": "domain", "value": "api.telemetry-sync.example", "tlp": "amber"}],
    "link": "https://console.example.test/alerts/beacon-1",
}
CAPTURE = Path(__file__).resolve().parents[2] / "src" / "sentineliq" / "demo" / "beacon-capture.txt"


def test_an_evidence_file_is_attached_and_listed_on_the_issue_page(
    chromium_path: Path, sandbox: JiraSandbox, tmp_path: Path, sqlite_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_key=None,
        allow_private_targets=True,
    )
    app = AppContext.open(settings)
    content = CAPTURE.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        workspace = WorkspaceRepository(app.db).create("SOC")
        configure(app, workspace.id, "jira", sandbox_provider_config(sandbox.url), actor="test")
        alert_id = ingest_text(app, workspace.id, json.dumps(ALERT), actor="test").outcomes[0]
        evidencefiles.upload(
            app,
            workspace.id,
            alert_id.outcome.alert_id,
            iter([content]),
            file_name="beacon-capture.txt",
            content_type="text/plain",
            uploaded_by="analyst@soc.test",
            hashes={"sha256": sha256},
        )
        Worker(app, concurrency=1).run(until_idle=True, poll_interval=0.05)
        (issue,) = sandbox.issues()
        (attachment,) = issue["fields"]["attachment"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.goto(f"{sandbox.url}/browse/{issue['key']}")
                # The description's evidence section: the file with its hashes.
                expect(page.get_by_role("heading", name="beacon-capture.txt")).to_be_visible()
                expect(page.get_by_text(sha256, exact=True)).to_be_visible()
                # The attachment itself: its name linked to its content, and its size.
                heading = page.get_by_role("heading", name="Attachments")
                expect(heading).to_be_visible()
                link = page.locator("a.attachment", has_text="beacon-capture.txt")
                expect(link).to_be_visible()
                expect(page.locator("table.attachments")).to_contain_text(f"{len(content)} B")
                href = link.get_attribute("href")
                assert href is not None
                downloaded = httpx2.get(f"{sandbox.url}{href}", timeout=10)
                assert downloaded.content == content
                assert attachment["size"] == len(content)
                heading.scroll_into_view_if_needed()
                SCREENSHOT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT / "issue-attachment.png"), full_page=True)
            finally:
                browser.close()
    finally:
        app.close()
