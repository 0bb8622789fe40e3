"""Resolving an alert from its page in a real browser: a member gives a reason, presses Resolve,
sees the flash and the new status; a worker then moves the sandbox issue to done with the
comment naming them. A blank reason is refused in the page, nothing queued."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
from browser_support import signed_in_page
from playwright.sync_api import expect

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import ADMIN_EMAIL, ADMIN_TOKEN
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.deliveries import DeliveryRepository

from admin_fixtures import MEMBER, PASSWORD, World  # isort: skip

ALERT = {
    "title": "Impossible travel for j.doe",
    "severity": "high",
    "source": "IdP",
    "detected_at": "2026-12-01T08:00:00Z",
}


def _work(app: AppContext) -> None:
    Worker(app, batch_size=20).run(until_idle=True, poll_interval=0.05)


def test_a_member_resolves_an_alert_and_the_jira_issue_is_done(
    chromium_path: Path, served: tuple[str, World], sandbox: JiraSandbox
) -> None:
    url, world = served
    app, ws = world.app, world.acme.id
    configure(app, ws, "jira", sandbox_provider_config(sandbox.url), actor="test")
    report = ingest_text(app, ws, json.dumps(ALERT), actor="test")
    alert_id = report.outcomes[0].outcome.alert_id
    _work(app)
    (issue,) = sandbox.issues()
    assert issue["fields"]["status"]["statusCategory"]["key"] != "done"

    with signed_in_page(chromium_path, url, MEMBER, PASSWORD) as page:
        page.goto(f"{url}/w/{ws}/alerts/{alert_id}")
        expect(page.locator("#alert-status-value")).to_contain_text("New")

        # The browser refuses an empty reason (required): nothing is posted.
        page.click("#triage-form >> text=Resolve")
        expect(page.locator("#alert-status-value")).to_contain_text("New")
        # Blanks pass the browser's check; the server refuses them and says why.
        page.fill("#reason", "   ")
        page.click("#triage-form >> text=Resolve")
        expect(page.locator(".flash-error")).to_contain_text("Give a reason")
        assert len(DeliveryRepository(app.db).list_for_workspace(ws)) == 1

        page.fill("#reason", "travel confirmed with j.doe: holiday in Lisbon")
        page.click("#triage-form >> text=Resolve")
        expect(page.locator(".flash-success")).to_contain_text("Alert resolved")
        expect(page.locator("#alert-status-value")).to_contain_text("Resolved")
        expect(page.locator("#alert-status")).to_contain_text(f"by {MEMBER}")
        expect(page.locator("#triage-form >> text=Resolve")).to_have_count(0)

        # A worker makes the move; the sandbox's own issue page shows the issue done.
        _work(app)
        page.goto(f"{sandbox.url}/browse/{issue['key']}")
        expect(page.locator(".status-done").first).to_have_text("Done")
        expect(page.locator("body")).to_contain_text("holiday in Lisbon")

    (issue,) = sandbox.issues()
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
    assert issue["fields"]["resolution"]["name"] == "Done"
    with httpx2.Client(auth=(ADMIN_EMAIL, ADMIN_TOKEN)) as jira:
        answer = jira.get(f"{sandbox.url}/rest/api/3/issue/{issue['key']}/comment")
    answer.raise_for_status()
    (comment,) = [json.dumps(c["body"]) for c in answer.json()["comments"]]
    assert MEMBER in comment
    assert "holiday in Lisbon" in comment
    moves = [r for r in sandbox.requests() if r.method == "POST" and "/transitions" in r.path]
    assert len(moves) == 1
