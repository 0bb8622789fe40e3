"""Brand-protection detections through the API: the gate files tickets only for what it admits
(by default critical and high counterfeiting, impersonation and domain squatting); the rest are
stored and shown with why they were not ticketed. The ticket lands in the Jira sandbox over real
HTTP with the brand layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.app import create_app


def detection(title: str, severity: str, infringement: str) -> dict[str, Any]:
    return {
        "title": title,
        "severity": severity,
        "source": "Eclipse",
        "detected_at": "2026-11-27T08:00:00Z",
        "module": "eclipse",
        "brand_protection": {
            "brand": "Acme",
            "detection_type": "visual",
            "infringement_type": infringement,
            "url": "https://acme-outlet.example/sale",
            "domain": "acme-outlet.example",
            "screenshot_url": "https://captures.eclipse.example/ECL-1.png",
            "confidence": 0.9,
            "recommended_action": "Request a takedown from the host.",
        },
    }


def _texts(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "text" else []
        return found + [t for child in node.get("content", ()) for t in _texts(child)]
    return []


def _send(http: TestClient, base: str, key: str, records: list[dict[str, Any]]) -> Any:
    answer = http.post(f"{base}/alerts", headers={"Authorization": f"Bearer {key}"}, json=records)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_default_gate_tickets_the_counterfeit_and_stores_the_rest(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    workspace = people.workspace("Brand")
    key = people.api_key(workspace.id)
    member = people.user("member@brand.test", {workspace.id: Role.MEMBER})
    configure(app_context, workspace.id, "jira", jira_settings(), enabled=True, actor="t")
    base = f"/api/v1/workspaces/{workspace.id}"
    with TestClient(create_app(app_context)) as http:
        body = _send(
            http,
            base,
            key,
            [
                detection("Counterfeit Acme store", "critical", "counterfeiting"),
                detection("Acme look-alike, medium", "medium", "counterfeiting"),
                detection("Acme phishing kit", "high", "phishing"),
            ],
        )
        ticketed, medium, phishing = body["results"]
        assert (ticketed["deliveries"], ticketed["not_ticketed"]) == (1, {})
        for held in (medium, phishing):
            assert held["status"] == "accepted"
            assert held["deliveries"] == 0
            assert held["without_delivery"] is False  # a provider is enabled: gated, not lost
            [(provider, reason)] = held["not_ticketed"].items()
            assert provider == "jira"
            assert reason.startswith("below the brand-protection gate")
        assert "medium counterfeiting" in medium["not_ticketed"]["jira"]
        assert "high phishing" in phishing["not_ticketed"]["jira"]
        assert body["without_delivery"] == 0
        assert body["warnings"] == []

        # Listed, with the reason.
        listed = http.get(f"{base}/alerts", headers=member.headers)
        assert listed.status_code == 200, listed.text
        reasons = {a["title"]: a["not_ticketed"] for a in listed.json()["alerts"]}
        assert reasons["Counterfeit Acme store"] == {}
        assert reasons["Acme look-alike, medium"] == medium["not_ticketed"]
        assert reasons["Acme phishing kit"] == phishing["not_ticketed"]
        # Stored and visible with the reason; no delivery queued for it.
        shown = http.get(f"{base}/alerts/{medium['alert_id']}", headers=member.headers).json()
        assert shown["alert"]["brand_protection"]["brand"] == "Acme"
        assert shown["not_ticketed"] == medium["not_ticketed"]
        assert shown["deliveries"] == []

        worker = Worker(app_context)
        try:
            assert worker.run_once() == 1
        finally:
            worker.close()
        [issue] = jira_sandbox.issues()
        fields = issue["fields"]
        assert fields["summary"] == "Counterfeit Acme store"
        assert "infringement-counterfeiting" in fields["labels"]
        heading, table, panel = fields["description"]["content"][:3]
        assert _texts(heading)[0]["text"] == "Brand protection"
        cells = [[_texts(cell) for cell in row["content"]] for row in table["content"]]
        named = {name[0]["text"]: value for name, value in cells}
        assert list(named)[:2] == ["Brand", "Infringement"]
        assert named["Suspicious URL"][0] == {
            "type": "text",
            "text": "hxxps://acme-outlet[.]example/sale",
            "marks": [{"type": "code"}],
        }
        assert named["Screenshot"][0]["marks"][0]["attrs"]["href"] == (
            "https://captures.eclipse.example/ECL-1.png"
        )
        assert _texts(panel)[-1]["text"] == "Request a takedown from the host."


def test_a_configured_gate_decides_instead(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    workspace = people.workspace("Brand")
    key = people.api_key(workspace.id)
    gate = {"severities": ["high", "medium"], "infringements": ["phishing"]}
    settings = jira_settings(content={"brand_gate": gate})
    configure(app_context, workspace.id, "jira", settings, enabled=True, actor="t")
    base = f"/api/v1/workspaces/{workspace.id}"
    with TestClient(create_app(app_context)) as http:
        body = _send(
            http,
            base,
            key,
            [
                detection("Acme phishing kit", "medium", "phishing"),
                detection("Counterfeit Acme store", "critical", "counterfeiting"),
            ],
        )
    phishing, counterfeit = body["results"]
    assert (phishing["deliveries"], phishing["not_ticketed"]) == (1, {})
    assert counterfeit["deliveries"] == 0
    assert counterfeit["not_ticketed"]["jira"] == (
        "below the brand-protection gate: critical counterfeiting (tickets are filed for "
        "severities high, medium and infringements phishing)"
    )


def test_backfill_applies_the_gate(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    workspace = people.workspace("Brand")
    key = people.api_key(workspace.id)
    admin = people.user("admin@brand.test", {workspace.id: Role.ADMIN})
    base = f"/api/v1/workspaces/{workspace.id}"
    with TestClient(create_app(app_context)) as http:
        body = _send(
            http,
            base,
            key,
            [
                detection("Counterfeit Acme store", "high", "counterfeiting"),
                detection("Acme phishing kit", "critical", "phishing"),
            ],
        )
        assert body["without_delivery"] == 2  # no provider yet
        counterfeit, phishing = body["results"]
        configure(app_context, workspace.id, "jira", jira_settings(), enabled=False, actor="t")
        enabled = http.post(f"{base}/providers/jira/enable", headers=admin.headers)
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["backfilled"] == 1
        held = http.get(f"{base}/alerts/{phishing['alert_id']}", headers=admin.headers).json()
        assert held["deliveries"] == []
        assert held["not_ticketed"]["jira"].startswith(
            "below the brand-protection gate: critical phishing"
        )
        filed = http.get(f"{base}/alerts/{counterfeit['alert_id']}", headers=admin.headers).json()
        assert [d["status"] for d in filed["deliveries"]] == ["pending"]
        assert filed["not_ticketed"] == {}


def test_a_gated_detection_that_comes_back_past_the_gate_files_its_ticket(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> None:
    """Stored below the gate as medium; the same detection comes back as critical: its ticket
    is filed then, at the severity that passed, and the alert no longer says it is not ticketed.
    A later repeat is reported on that ticket like any other repeat."""
    workspace = people.workspace("Brand")
    key = people.api_key(workspace.id)
    member = people.user("member@brand.test", {workspace.id: Role.MEMBER})
    configure(app_context, workspace.id, "jira", jira_settings(), enabled=True, actor="t")
    base = f"/api/v1/workspaces/{workspace.id}"

    def sighting(severity: str, at: str) -> dict[str, Any]:
        record = detection("Acme look-alike store", severity, "counterfeiting")
        return {**record, "external_id": "ECL-DET-77", "detected_at": at}

    worker = Worker(app_context)
    with TestClient(create_app(app_context)) as http:
        try:
            [first] = _send(http, base, key, [sighting("medium", "2026-11-27T08:00:00Z")])[
                "results"
            ]
            assert (first["deliveries"], list(first["not_ticketed"])) == (0, ["jira"])
            [below] = _send(http, base, key, [sighting("low", "2026-11-27T09:00:00Z")])["results"]
            assert below["status"] == "occurrence"
            assert (below["deliveries"], list(below["not_ticketed"])) == (0, ["jira"])
            assert worker.run_once() == 0
            assert jira_sandbox.issues() == []

            [past] = _send(http, base, key, [sighting("critical", "2026-11-27T10:00:00Z")])[
                "results"
            ]
            assert (past["status"], past["alert_id"]) == ("occurrence", first["alert_id"])
            assert (past["deliveries"], past["not_ticketed"]) == (1, {})
            shown = http.get(f"{base}/alerts/{first['alert_id']}", headers=member.headers).json()
            assert shown["not_ticketed"] == {}
            assert worker.run_once() == 1
            [issue] = jira_sandbox.issues()
            assert issue["fields"]["priority"]["name"] == "Highest"  # critical, not medium
            assert issue["fields"]["summary"] == "Acme look-alike store"

            # Once filed, the next repeat is a comment on that ticket, not a second ticket.
            [again] = _send(http, base, key, [sighting("critical", "2026-11-27T11:00:00Z")])[
                "results"
            ]
            assert (again["status"], again["deliveries"]) == ("occurrence", 0)
        finally:
            worker.close()
    assert len(jira_sandbox.issues()) == 1
    audit = AuditRepository(app_context.db).list(workspace.id, limit=50)
    [passed] = [e for e in audit if e.action == "alert.gate_passed"]
    assert passed.details["severity"] == "critical"
    assert passed.details["occurrence"] == 2
    assert passed.details["was"].startswith("below the brand-protection gate: medium")
