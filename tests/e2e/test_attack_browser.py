"""ATT&CK in a real browser: after `mitre sync` from the real Enterprise excerpt
(tests/mitre/data), the ticket the worker files shows on the sandbox's /browse page with the
revoked id flagged and linked to its replacement, the unknown id flagged with the synced release,
every tactic of a technique, and the ids as labels. Screenshot: docs/screenshots/issue-attack.png
(docs/security-context.md)."""

from __future__ import annotations

import json
from pathlib import Path

from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.attack import sync_catalog
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository

from admin_fixtures import World  # isort: skip

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EXCERPT = Path(__file__).resolve().parents[1] / "mitre" / "data" / "enterprise-attack-excerpt.json"


def test_the_sandbox_ticket_shows_flagged_attack_ids_and_their_labels(
    chromium_path: Path, served: tuple[str, World], sandbox: JiraSandbox
) -> None:
    _url, world = served
    app, ws = world.app, world.acme.id
    configure(app, ws, "jira", sandbox_provider_config(sandbox.url), actor="test")
    sync_catalog(app, file=EXCERPT)
    alert = {
        "title": "Legacy PowerShell rule fired on FIN-WS-12",
        "severity": "high",
        "source": "aegis-edr",
        "external_id": "edr-5521",
        "detected_at": "2026-12-03T07:45:00Z",
        "description": "An old detection rule, still tagged with retired ATT&CK ids, fired.",
        "affected_assets": ["FIN-WS-12"],
        "mitre": ["T1086", "T1078", "T1064", "T1566.002"],
    }
    ingest_text(app, ws, json.dumps(alert), actor="test")
    Worker(app, batch_size=5).run(until_idle=True, poll_interval=0.05)
    (delivery,) = DeliveryRepository(app.db).list_for_workspace(ws)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{sandbox.url}/browse/{delivery.issue_key}")
            table = page.locator("table", has_text="Tactics")
            expect(table).to_contain_text("PowerShell (revoked; see T1059.001)")
            expect(table.get_by_role("link", name="T1059.001")).to_have_attribute(
                "href", "https://attack.mitre.org/techniques/T1059/001/"
            )
            expect(table).to_contain_text("Scripting (deprecated in ATT&CK v11)")
            expect(table).to_contain_text("unknown to ATT&CK v11")
            expect(table).to_contain_text(
                "Defense Evasion (TA0005), Persistence (TA0003), "
                "Privilege Escalation (TA0004), Initial Access (TA0001)"
            )
            for label in ("attack-T1086", "attack-T1078", "attack-T1064", "attack-T1566.002"):
                expect(page.locator(".label", has_text=label)).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            table.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "issue-attack.png"), full_page=True)
        finally:
            browser.close()
