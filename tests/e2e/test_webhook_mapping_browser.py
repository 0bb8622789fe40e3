"""The generic webhook's mappings in a real browser: Settings → Inputs lists the presets; a copy
of the Splunk preset is tried on Splunk's payload (the alert it would become, nothing stored;
screenshot docs/screenshots/issue-webhook-dry-run.png), a broken expression is named, the copy
is edited field by field and saved."""

from __future__ import annotations

from pathlib import Path

from admin_fixtures import OWNER, PASSWORD
from browser_support import LiveServer, signed_in_page
from playwright.sync_api import expect
from sqlalchemy import func, select
from test_admin_browser import shoot

from sentineliq.services.mappings import find_mapping
from sentineliq.storage.tables import AlertRow


def test_a_preset_is_copied_tried_and_saved_in_the_browser(
    chromium_path: Path, live_server: LiveServer
) -> None:
    app, acme = live_server.world.app, live_server.world.acme
    with signed_in_page(chromium_path, live_server.url, OWNER, PASSWORD) as page:
        page.click(".sidenav >> text=Inputs")
        table = page.locator("#mappings")
        for name in ("splunk", "elastic", "wazuh"):
            expect(table).to_contain_text(name)
        page.click("text=Copy splunk")
        expect(page.locator("#document")).to_contain_text("results_link")
        expect(page.locator("#sample")).to_contain_text("Brute force against a domain controller")
        page.fill("#name", "splunk-prod")

        page.click("#try-it")
        run = page.locator("#dry-run")
        expect(run).to_contain_text("Would be accepted")
        alert = run.locator(".dry-alert")
        expect(alert).to_contain_text("Brute force against a domain controller")
        expect(alert.locator(".badge-severity-high")).to_be_visible()
        expect(alert).to_contain_text("ip: 203.0.113.45")
        expect(alert).to_contain_text("T1110.001")
        expect(alert).to_contain_text("https://splunk.corp.example:8000/app/search/@go?sid=")
        shoot(page, "issue-webhook-dry-run.png")
        with app.db.session() as session:
            assert session.scalar(select(func.count()).select_from(AlertRow)) == 0

        document = page.locator("#document").input_value()
        page.fill("#document", document.replace("title: search_name", "title: search_name.["))
        page.click("#try-it")
        expect(page.locator("#document-error")).to_contain_text(
            "fields.title: not a JMESPath expression"
        )
        page.fill("#document", document)

        page.click("button[value=switch]")
        expect(page.locator("#f_title")).to_have_value(
            "search_name || join(' ', ['Splunk search', sid || 'alert'])"
        )
        page.fill("#f_severity", "result.urgency")
        page.click("#try-it")
        expect(page.locator("#dry-run")).to_contain_text(
            "result.urgency: found nothing: the default medium"
        )
        page.click("button[value=save]")
        expect(page.locator(".flash-success")).to_contain_text("Mapping saved")
        page.click(".sidenav >> text=Inputs")
        expect(page.locator("#mappings")).to_contain_text("splunk-prod")
    saved = find_mapping(app, acme.id, "splunk-prod")
    assert saved.origin == "saved"
    assert saved.mapping.fields.severity == "result.urgency"
    assert saved.mapping.source == "Splunk"
