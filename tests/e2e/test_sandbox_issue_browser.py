"""The sandbox's issue page in a real browser, as an operator sees a living ticket.

One test drives the real pipeline (ingest, worker, repeats with a severity rise, the window's
end) and photographs the issue with the comment SentinelIQ itself wrote: the screenshot in
docs/lifecycle.md (docs/screenshots/issue-coalesced-comment.png). Another posts hand-made ADF
through the provider: the "relates to" link, the occurrence property, and hostile comment text
that must stay inert in the browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.document.model import BulletList, Document, Heading, ListItem, Paragraph, Text
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import ADMIN_EMAIL, ADMIN_TOKEN
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository
from sentineliq.tickets.draft import Priority, TicketDraft

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _text(value: str, *marks: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": m} for m in marks]
    return node


def _para(*inline: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(inline)}


def _row(*cells: str, header: bool = False) -> dict[str, Any]:
    kind = "tableHeader" if header else "tableCell"
    return {
        "type": "tableRow",
        "content": [{"type": kind, "content": [_para(_text(c))]} for c in cells],
    }


COALESCED = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "heading", "attrs": {"level": 3}, "content": [_text("Fired again 3 times")]},
        _para(
            _text("The same problem was detected again between "),
            _text("10:05", "strong"),
            _text(" and "),
            _text("10:41", "strong"),
            _text(" UTC from "),
            _text("203.0.113.7", "code"),
            _text("."),
        ),
        {
            "type": "table",
            "content": [
                _row("Seen at (UTC)", "Alert", "Severity", header=True),
                _row("10:05:12", "aegis-88121", "high"),
                _row("10:22:40", "aegis-88190", "high"),
                _row("10:41:09", "aegis-88302", "critical"),
            ],
        },
        _para(_text("Occurrences so far: "), _text("4", "strong"), _text(".")),
    ],
}
HOSTILE = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 1</script>'


def test_issue_page_shows_links_properties_and_keeps_hostile_text_inert(
    chromium_path: Path, sandbox: JiraSandbox
) -> None:
    config = JiraConfig.parse(
        {
            "base_url": sandbox.url,
            "email": ADMIN_EMAIL,
            "api_token": ADMIN_TOKEN,
            "project_key": "SEC",
        },
        allow_private_targets=True,
    )
    draft = TicketDraft(
        summary="Credential stuffing against VPN gateway vpn-01",
        document=Document(
            (
                Heading(2, (Text("What happened"),)),
                Paragraph((Text("Many failed logins from "), Text("203.0.113.7", code=True))),
                BulletList((ListItem((Paragraph((Text("T1110.004 Credential Stuffing"),)),)),)),
            )
        ),
        priority=Priority.HIGH,
        labels=("vpn",),
        link="https://console.example.test/alerts/1",
        attributes={"fingerprint": "fp-1"},
    )
    provider = JiraProvider(config)
    old = provider.create_ticket(draft, idempotency_key="siq-demo-0").key
    key = provider.create_ticket(draft, idempotency_key="siq-demo-1", relates_to=old).key
    provider.add_comment(key, COALESCED, marker="siq-demo-1-occ-4")
    occurrences = {"count": 4, "first_seen": "2026-12-02T09:58:03Z"}
    provider.set_issue_property(
        key, "sentineliq.occurrences", {**occurrences, "last_seen": "2026-12-02T10:41:09Z"}
    )

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{sandbox.url}/browse/{key}")
            expect(page.get_by_role("heading", name="Fired again 3 times")).to_be_visible()
            expect(page.get_by_role("cell", name="aegis-88302")).to_be_visible()
            expect(page.get_by_role("link", name=old)).to_be_visible()
            expect(page.get_by_text("sentineliq.occurrences")).to_be_visible()

            hostile = {**COALESCED, "content": [_para(_text(HOSTILE))]}
            provider.add_comment(key, hostile, marker="siq-hostile")
            page.goto(f"{sandbox.url}/browse/{key}")
            expect(page.get_by_text(HOSTILE)).to_be_visible()  # shown as text
            assert page.evaluate("window.__pwned === undefined")
        finally:
            browser.close()
            provider.close()


def test_the_living_ticket_with_its_coalesced_comment(
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
        first = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

        def fired(minutes: int, severity: str, *observables: str) -> str:
            return json.dumps(
                {
                    "title": "Credential stuffing against VPN gateway vpn-01",
                    "description": "Many failed logins against the VPN gateway.",
                    "severity": severity,
                    "source": "aegis-edr",
                    "detected_at": (first + timedelta(minutes=minutes)).isoformat(),
                    "fingerprint": "vpn-01-credential-stuffing",
                    "mitre": ["T1110.004"],
                    "affected_assets": ["vpn-01"],
                    "observables": [{"type": "ip", "value": ip} for ip in observables],
                    "link": "https://console.example.test/alerts/vpn-01",
                }
            )

        def work(ahead: timedelta = timedelta(0)) -> None:
            Worker(app, clock=lambda: datetime.now(UTC) + ahead).run(
                until_idle=True, poll_interval=0.05
            )

        ingest_text(app, workspace.id, fired(0, "high", "203.0.113.7"), actor="test")
        work()
        ingest_text(app, workspace.id, fired(6, "high", "203.0.113.7"), actor="test")
        work()  # the first repeat: commented at once
        later = [fired(14, "high", "203.0.113.9"), fired(23, "critical", "198.51.100.4")]
        ingest_text(app, workspace.id, "\n".join(later), actor="test")
        work(ahead=timedelta(minutes=16))  # the window ends: both folded into one comment
        (issue,) = sandbox.issues()
        key = issue["key"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.goto(f"{sandbox.url}/browse/{key}")
                expect(
                    page.get_by_role("heading", name="SentinelIQ: the alert fired 2 more times")
                ).to_be_visible()
                expect(page.get_by_text("severity raised high → critical")).to_be_visible()
                expect(page.get_by_text("198[.]51[.]100[.]4")).to_be_visible()  # defanged
                SCREENSHOT.mkdir(parents=True, exist_ok=True)
                page.screenshot(
                    path=str(SCREENSHOT / "issue-coalesced-comment.png"), full_page=True
                )
            finally:
                browser.close()
        assert sandbox.issues()[0]["fields"]["priority"]["name"] == "Highest"
    finally:
        app.close()
