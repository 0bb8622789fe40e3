"""The sandbox's issue page in a real browser, as an operator sees a living ticket: the coalesced
"fired again" comment (posted by the provider, marker and all), the occurrence property and the
"relates to" link. Saves docs/screenshots/issue-coalesced-comment.png; hostile comment text stays
inert in the browser too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright

from sentineliq.document.model import BulletList, Document, Heading, ListItem, Paragraph, Text
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import ADMIN_EMAIL, ADMIN_TOKEN
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


def test_issue_page_shows_the_living_ticket(chromium_path: Path, sandbox: JiraSandbox) -> None:
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
            SCREENSHOT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT / "issue-coalesced-comment.png"), full_page=True)

            hostile = {**COALESCED, "content": [_para(_text(HOSTILE))]}
            provider.add_comment(key, hostile, marker="siq-hostile")
            page.goto(f"{sandbox.url}/browse/{key}")
            expect(page.get_by_text(HOSTILE)).to_be_visible()  # shown as text
            assert page.evaluate("window.__pwned === undefined")
        finally:
            browser.close()
            provider.close()
