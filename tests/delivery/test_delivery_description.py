"""Never an empty ticket: when Jira refuses a description, a smaller, then a plain one is filed.

Against the sandbox over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from delivery_harness import Pipeline

from sentineliq.document.adf import adf_size
from sentineliq.services.ingest import ingest_text
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.web.api.models import DeliveryOut

CREATE = "/rest/api/3/issue"


def _ingest_long_alert(pipeline: Pipeline, description_chars: int = 25_000) -> None:
    paragraph = "Process tree and command line of the suspicious execution. " * 20
    body = "\n\n".join([paragraph] * (description_chars // len(paragraph) + 1))
    alert = {
        "title": "Credential dumping on host FIN-WS-042",
        "severity": "high",
        "source": "EDR",
        "detected_at": "2026-11-27T08:00:00Z",
        "external_id": "long-1",
        "link": "https://edr.example.com/alerts/long-1",
        "description": body[:description_chars],
    }
    report = ingest_text(pipeline.app, pipeline.workspace_id, json.dumps(alert), actor="t")
    assert report.accepted == 1


def _create_statuses(pipeline: Pipeline) -> list[int | None]:
    return [
        r.status for r in pipeline.sandbox.requests() if r.method == "POST" and r.path == CREATE
    ]


def _description_note(pipeline: Pipeline) -> str:
    [view] = pipeline.deliveries()
    [note] = [d for d in DeliveryOut.from_view(view).dropped_fields if d.field == "description"]
    history = DeliveryRepository(pipeline.app.db).history(view.id)
    assert history[-1].outcome == "delivered"
    assert history[-1].message == "filed with a reduced description"  # not "without"
    return note.reason


def test_description_jira_measures_as_too_long_is_filed_shorter(pipeline: Pipeline) -> None:
    pipeline.sandbox.set_description_rules(limit=20_000)  # Jira counting more than we do
    _ingest_long_alert(pipeline)
    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert stats.dead == 0
    pipeline.assert_exactly_once(1)
    [issue] = pipeline.sandbox.issues()
    description = issue["fields"]["description"]
    assert description["content"]  # never an empty ticket
    assert 1_000 < adf_size(description) <= 16_000
    assert "Process tree" in json.dumps(description)
    assert _create_statuses(pipeline) == [400, 201]
    assert "shortened" in _description_note(pipeline)


def test_unsupported_content_falls_back_to_a_plain_description(pipeline: Pipeline) -> None:
    # Every rendering holds the alert's facts table; Jira refuses tables here.
    pipeline.sandbox.set_description_rules(unsupported_nodes=["table", "codeBlock"])
    _ingest_long_alert(pipeline, description_chars=500)
    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert stats.dead == 0
    pipeline.assert_exactly_once(1)
    [issue] = pipeline.sandbox.issues()
    text = json.dumps(issue["fields"]["description"])
    for fact in ("Severity: high", "Source: EDR", "Detected at: 2026-11-27T08:00:00Z"):
        assert fact in text
    assert "https://edr.example.com/alerts/long-1" in text
    # Straight to the plain version: a smaller rendering would hold the same table.
    assert _create_statuses(pipeline) == [400, 201]
    assert "plain" in _description_note(pipeline)


def test_a_description_refused_twice_ends_plain_not_empty(pipeline: Pipeline) -> None:
    pipeline.sandbox.set_description_rules(limit=2_000)
    _ingest_long_alert(pipeline)
    pipeline.worker().run(until_idle=True, poll_interval=0.1)
    pipeline.assert_exactly_once(1)
    [issue] = pipeline.sandbox.issues()
    assert "Severity: high" in json.dumps(issue["fields"]["description"])
    assert _create_statuses(pipeline) == [400, 400, 201]
    note = _description_note(pipeline)
    assert "plain" in note
    assert "too long" in note  # Jira's own reason is kept
