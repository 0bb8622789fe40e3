"""Alert -> TicketDraft: summary, priority, labels, attributes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from sentineliq.alerts.model import Alert
from sentineliq.lifecycle.fingerprint import fingerprint_of
from sentineliq.mitre import AttackCatalog
from sentineliq.tickets.build import build_draft, one_line
from sentineliq.tickets.draft import Priority
from sentineliq.tickets.layout import build_description


def alert(**fields: Any) -> Alert:
    record: dict[str, Any] = {
        "title": "Suspicious login",
        "severity": "high",
        "source": "SIEM",
        "detected_at": "2026-11-27T09:00:00+01:00",
    }
    record.update(fields)
    return Alert.model_validate_json(json.dumps(record))


@pytest.mark.parametrize(
    ("severity", "priority"),
    [
        ("critical", Priority.CRITICAL),
        ("high", Priority.HIGH),
        ("medium", Priority.MEDIUM),
        ("low", Priority.LOW),
        ("info", Priority.LOW),
    ],
)
def test_priority_follows_severity(severity: str, priority: Priority) -> None:
    assert build_draft(alert(severity=severity), workspace_name="w").priority is priority


def test_summary_is_one_line() -> None:
    draft = build_draft(
        alert(title="  Phishing\r\n  wave\t\tagainst\x00 finance \u2028 team "), workspace_name="w"
    )
    assert draft.summary == "Phishing wave against finance team"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "a b"),
        ("a\x1b[31mb", "a[31mb"),
        ("a\x85b", "a b"),  # NEL is whitespace to str.split
        ("  x  ", "x"),
        ("é 😀 עברית", "é 😀 עברית"),
    ],
)
def test_one_line(text: str, expected: str) -> None:
    assert one_line(text) == expected


def test_full_draft() -> None:
    source = alert(
        title="Beacon to C2",
        severity="critical",
        status="acknowledged",
        category="C2",
        threat_score=91,
        external_id="X-1",
        fingerprint="fp-9",
        link="https://aegis.example/alerts/9",
        assignee_email="analyst@example.com",
        due_date="2026-12-01",
        module="eclipse",
        tags=["phishing", "sentineliq", "finance"],
        mitre=["T1071", "TA0011"],
    )
    draft = build_draft(source, workspace_name="Acme")
    assert draft.summary == "Beacon to C2"
    assert draft.labels == (
        "phishing",
        "sentineliq",
        "finance",
        "severity-critical",
        "module-eclipse",
        "attack-T1071",
        "attack-TA0011",
    )
    assert draft.assignee_email == "analyst@example.com"
    assert draft.due_date == date(2026, 12, 1)
    assert draft.link == "https://aegis.example/alerts/9"
    assert draft.attributes == {
        "severity": "critical",
        "status": "acknowledged",
        "source": "SIEM",
        "category": "C2",
        "threat_score": 91,
        "detected_at": "2026-11-27T08:00:00Z",
        "external_id": "X-1",
        "fingerprint": "fp-9",
        "module": "eclipse",
        "mitre": ["T1071", "TA0011"],
        "link": "https://aegis.example/alerts/9",
        "title": "Beacon to C2",
    }
    assert draft.document == build_description(source, workspace_name="Acme")


def test_minimal_draft() -> None:
    source = alert()
    draft = build_draft(source, workspace_name="w")
    assert draft.labels == ("sentineliq", "severity-high", "module-aegis")
    assert draft.assignee_email is None
    assert draft.due_date is None
    assert draft.link is None
    fingerprint = draft.attributes["fingerprint"]
    assert fingerprint == fingerprint_of(source)
    assert isinstance(fingerprint, str)
    assert fingerprint.startswith("sha256:")
    assert draft.attributes["category"] is None
    assert draft.attributes["threat_score"] is None
    assert draft.attributes["mitre"] == []
    assert draft.attributes["link"] is None


def test_title_attribute_keeps_the_raw_title() -> None:
    draft = build_draft(alert(title="two\nlines"), workspace_name="w")
    assert draft.summary == "two lines"
    assert draft.attributes["title"] == "two\nlines"


def test_catalog_reaches_the_description() -> None:
    catalog = AttackCatalog(version="empty", release="v0", tactics=[], techniques=[])
    draft = build_draft(alert(mitre=["T1059"]), workspace_name="w", catalog=catalog)
    assert "unknown to ATT&CK v0" in repr(draft.document)
