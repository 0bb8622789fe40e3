"""The alert page's Resolve/Dismiss/Reopen forms over HTTP on both databases: CSRF, roles,
another workspace's alert, refused reasons and repeated clicks, each answered without a change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.ingest import ingest_text
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.web.app import create_app

ALERT = {
    "title": "Beacon",
    "severity": "high",
    "source": "EDR",
    "detected_at": "2026-12-01T08:00:00Z",
}


@dataclass
class Panel:
    app: AppContext
    client: TestClient
    ws: str
    alert_id: str
    other_alert: str
    people: dict[str, Any]

    def post(self, who: str, action: str, reason: str = "scan", *, csrf: bool = True) -> Any:
        person = self.people[who]
        form = {"reason": reason}
        if csrf:
            form["csrf_token"] = person.session.csrf_token
        return self.client.post(
            f"/w/{self.ws}/alerts/{self.alert_id}/{action}",
            data=form,
            headers=person.cookie,
            follow_redirects=False,
        )

    def status(self) -> str:
        return AlertStateRepository(self.app.db).state(self.alert_id).status


@pytest.fixture
def panel(app_context: AppContext, people: Any) -> Iterator[Panel]:
    ws, other = people.workspace("SOC"), people.workspace("Other")
    mine = ingest_text(app_context, ws.id, json.dumps(ALERT), actor="t").outcomes[0]
    theirs = ingest_text(app_context, other.id, json.dumps(ALERT), actor="t").outcomes[0]
    who = {
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}),
        "outsider": people.user("owner@other.test", {other.id: Role.OWNER}),
    }
    with TestClient(create_app(app_context)) as client:
        yield Panel(app_context, client, ws.id, mine.outcome.alert_id, theirs.outcome.alert_id, who)


def test_a_member_resolves_and_the_page_says_so(panel: Panel) -> None:
    answer = panel.post("member", "resolve", "  weekly scan ")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?done=resolved")  # no provider: no ticket
    page = panel.client.get(answer.headers["location"], headers=panel.people["member"].cookie)
    assert "Alert resolved. It has no ticket to move." in page.text
    assert "by member@soc.test" in page.text
    assert panel.status() == "resolved"
    again = panel.post("member", "resolve")
    assert again.headers["location"].endswith("?done=already")


@pytest.mark.parametrize(
    ("reason", "code"), [("   ", "reason_required"), ("x" * 2001, "reason_too_long")]
)
def test_a_refused_reason_changes_nothing(panel: Panel, reason: str, code: str) -> None:
    answer = panel.post("member", "dismiss", reason)
    assert answer.headers["location"].endswith(f"?done={code}")
    assert panel.status() == "new"


def test_without_csrf_or_from_another_workspace_nothing_changes(panel: Panel) -> None:
    assert panel.post("member", "resolve", csrf=False).status_code == 403
    assert panel.post("outsider", "resolve").status_code == 404
    # My workspace's path with another workspace's alert looks like a missing alert.
    member = panel.people["member"]
    answer = panel.client.post(
        f"/w/{panel.ws}/alerts/{panel.other_alert}/resolve",
        data={"reason": "x", "csrf_token": member.session.csrf_token},
        headers=member.cookie,
        follow_redirects=False,
    )
    assert answer.status_code == 404
    assert panel.status() == "new"
    assert AlertStateRepository(panel.app.db).state(panel.other_alert).status == "new"
