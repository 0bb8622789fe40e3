"""An alert ingest request is one write transaction: the API key is found by a plain read, and
the request's audit entry is written with its alerts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from sqlalchemy import event

from sentineliq.services.context import AppContext
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.engine import READ_ONLY

ALERT = {
    "title": "Beaconing to a known C2 domain",
    "severity": "critical",
    "source": "NDR",
    "detected_at": "2026-11-27T08:00:00Z",
}


@contextmanager
def _transactions(app: AppContext) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()

    def on_begin(connection: Any) -> None:
        seen["read" if connection.get_execution_options().get(READ_ONLY) else "write"] += 1

    event.listen(app.db.engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "begin", on_begin)


@pytest.mark.parametrize("records", [1, 50])
def test_an_ingest_request_is_one_write_transaction(
    app_context: AppContext, people: Any, live_server: Any, records: int
) -> None:
    workspace = people.workspace("One transaction")
    key = people.api_key(workspace.id)
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/workspaces/{workspace.id}/alerts"
    with httpx2.Client(base_url=live_server.url, timeout=30, headers=headers) as http:
        # The key's first use records when it was used (at most once a minute per key).
        assert http.post(url, json={**ALERT, "external_id": "warm-up"}).status_code == 200
        body = [{**ALERT, "external_id": f"e-{n}"} for n in range(records)]
        with _transactions(app_context) as seen:
            answer = http.post(url, json=body if records > 1 else body[0])
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["accepted"] == records
    # Before: the key lookup, the alerts and the audit entry were three write transactions.
    assert seen == Counter({"read": 1, "write": 1})
    entries = [
        e
        for e in AuditRepository(app_context.db).list(workspace.id)
        if e.action == "api.alerts.ingested"
    ]
    assert [e.details["accepted"] for e in entries] == [records, 1]
