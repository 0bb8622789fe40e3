"""Chain of custody in a real browser: an entry altered in the database shows on the alert's
page as a broken chain naming the entry, an intact chain as verified with the time; the tickets
the worker then files show the same on the sandbox's /browse page. Screenshots:
docs/screenshots/issue-custody-broken.png and issue-custody-verified.png (docs/security-context.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from browser_support import signed_in_page
from playwright.sync_api import expect

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services import custody
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository

from admin_fixtures import MEMBER, PASSWORD, World  # isort: skip

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _alert(title: str, external_id: str, host: str) -> dict[str, Any]:
    return {
        "title": title,
        "severity": "high",
        "source": "aegis-edr",
        "external_id": external_id,
        "detected_at": "2026-12-01T08:00:00Z",
        "affected_assets": [host],
        "evidence": [
            {
                "name": f"{host.lower()}.e01",
                "type": "disk_image",
                "hashes": {"sha256": "9f" * 32},
                "location": "evidence vault, shelf 4",
                "custody": [
                    {"action": "collected", "actor": "ir-team k.lee", "at": "2026-12-01T09:00:00Z"},
                    {"action": "analyzed", "actor": "analyst j.doe", "at": "2026-12-01T11:30:00Z"},
                    {"action": "stored", "actor": "vault", "at": "2026-12-01T12:00:00Z"},
                ],
            }
        ],
    }


def test_the_alert_page_and_the_sandbox_ticket_show_the_custody_status(
    chromium_path: Path, served: tuple[str, World], sandbox: JiraSandbox
) -> None:
    url, world = served
    app, ws = world.app, world.acme.id
    configure(app, ws, "jira", sandbox_provider_config(sandbox.url), actor="test")
    alerts = [
        _alert("Disk image of FIN-FS-01 altered in custody", "ir-7", "FIN-FS-01"),
        _alert("Disk image of FIN-FS-02 in custody", "ir-8", "FIN-FS-02"),
    ]
    ingest_text(app, ws, "\n".join(json.dumps(a) for a in alerts), actor="test")
    checks = {c.name: c for c in custody.verify(app, ws)}
    broken, kept = checks["fin-fs-01.e01"], checks["fin-fs-02.e01"]
    custody.append(
        app,
        ws,
        kept.evidence_id,
        custody.new_entry("transferred", "courier m.ortiz", location="forensics lab"),
        recorded_by="test",
    )
    with app.db.engine.begin() as connection:  # someone rewrites who analyzed the image
        connection.execute(
            sa.text(
                "UPDATE custody_entries SET actor = 'mallory' "
                "WHERE evidence_id = :evidence AND position = 1"
            ),
            {"evidence": broken.evidence_id},
        )
    Worker(app, batch_size=20).run(until_idle=True, poll_interval=0.05)
    keys = {d.alert_id: d.issue_key for d in DeliveryRepository(app.db).list_for_workspace(ws)}

    with signed_in_page(chromium_path, url, MEMBER, PASSWORD) as page:
        page.goto(f"{url}/w/{ws}/alerts/{broken.alert_id}")
        status = page.locator(f"[data-evidence='{broken.evidence_id}'] .custody-status")
        expect(status).to_have_class("flash flash-error custody-status")
        expect(status).to_contain_text("Chain of custody broken at entry #2")
        expect(status).to_contain_text("custody entry #2 (analyzed by mallory) was altered")
        expect(page.locator("tr.custody-broken")).to_contain_text("mallory")

        page.goto(f"{url}/w/{ws}/alerts/{kept.alert_id}")
        status = page.locator(f"[data-evidence='{kept.evidence_id}'] .custody-status")
        expect(status).to_contain_text("Chain of custody verified at 20")
        expect(status).to_contain_text("(4 entries)")
        expect(page.locator(".flash-error")).to_have_count(0)

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(f"{sandbox.url}/browse/{keys[broken.alert_id]}")
        panel = page.locator(".panel-error", has_text="Chain of custody")
        expect(panel).to_contain_text("Chain of custody broken at entry #2")
        expect(panel).to_contain_text("analyzed by mallory")
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "issue-custody-broken.png"), full_page=True)

        page.goto(f"{sandbox.url}/browse/{keys[kept.alert_id]}")
        expect(page.get_by_text("Chain of custody verified at 20")).to_be_visible()
        expect(page.get_by_text("courier m.ortiz")).to_be_visible()
        expect(page.locator(".panel-error", has_text="Chain of custody")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "issue-custody-verified.png"), full_page=True)
