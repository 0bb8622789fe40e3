"""Alert ingest over real HTTP: the record cap and nesting depth apply while records are read,
unreadable bodies are 400, duplicate keys refuse their record, and a refused request stores
nothing."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from sentineliq.services.context import AppContext
from sentineliq.storage.alerts import AlertRepository
from sentineliq.web.server import BackgroundServer

MiB = 1024 * 1024
ALERT = {
    "title": "Beaconing to a known C2 domain",
    "severity": "critical",
    "source": "NDR",
    "detected_at": "2026-11-27T08:00:00Z",
}


class RecordArray:
    """A JSON array of `count` alerts, streamed 1,000 records a chunk; counts records sent."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"["
        for start in range(0, self.count, 1000):
            chunk = b",".join(
                json.dumps({**ALERT, "external_id": f"e-{n}"}).encode()
                for n in range(start, min(start + 1000, self.count))
            )
            self.sent += min(1000, self.count - start)
            yield (b"," if start else b"") + chunk
        yield b"]"


@pytest.fixture
def ingest(
    people: Any, limited: Callable[..., BackgroundServer]
) -> Callable[..., tuple[httpx2.Response, str]]:
    """`ingest(body, content_type=..., **limits)` -> (answer, workspace id)."""

    def send(
        body: Any, content_type: str = "application/json", **limits: int
    ) -> tuple[httpx2.Response, str]:
        workspace = people.workspace(f"Ingest {secrets.token_hex(4)}")
        key = people.api_key(workspace.id)
        live = limited(**limits)
        with httpx2.Client(base_url=live.url, timeout=60) as http:
            answer = http.post(
                f"/api/v1/workspaces/{workspace.id}/alerts",
                content=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
            )
        return answer, workspace.id

    return send


def test_a_million_record_array_is_stopped_at_record_1001_and_stores_nothing(
    app_context: AppContext, ingest: Callable[..., tuple[httpx2.Response, str]]
) -> None:
    body = RecordArray(1_000_000)  # about 130 MB; the body limit is lifted to see the cap act
    answer, workspace_id = ingest(body, ingest_body_max_bytes=1024 * MiB)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/too-many-records")
    assert problem["detail"] == (
        "at most 1000 alerts per request (SENTINELIQ_MAX_INGEST_RECORDS); "
        "send the rest in further requests"
    )
    assert answer.headers["connection"] == "close"
    # The parse stopped at record 1,001: the client handed over a small part of the million
    # (at most what the socket buffers hold beyond it).
    assert body.sent < 100_000, body.sent
    assert AlertRepository(app_context.db).list_for_workspace(workspace_id) == []


def test_the_record_cap_comes_from_settings(
    app_context: AppContext, ingest: Callable[..., tuple[httpx2.Response, str]]
) -> None:
    batch = json.dumps([{**ALERT, "external_id": f"e-{n}"} for n in range(6)])
    answer, workspace_id = ingest(batch, ingest_max_records=5)
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("at most 5 alerts per request")
    assert AlertRepository(app_context.db).list_for_workspace(workspace_id) == []
    answer, _ = ingest(batch, ingest_max_records=6)
    assert answer.status_code == 200
    assert answer.json()["totals"]["accepted"] == 6


def test_ndjson_gets_the_same_cap(ingest: Callable[..., tuple[httpx2.Response, str]]) -> None:
    lines = "".join(json.dumps({**ALERT, "external_id": f"n-{n}"}) + "\n" for n in range(4))
    answer, _ = ingest(lines, content_type="application/x-ndjson", ingest_max_records=3)
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("at most 3 alerts per request")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("hello", "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
        ("42", "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
        ('{"title": "Beaconing", "severity": "high"', "invalid JSON: parse error: premature EOF"),
    ],
)
def test_a_body_that_cannot_be_read_is_400_not_207(
    app_context: AppContext,
    ingest: Callable[..., tuple[httpx2.Response, str]],
    body: str,
    message: str,
) -> None:
    answer, workspace_id = ingest(body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/unreadable")
    assert problem["errors"] == [{"field": "", "message": message}]
    assert AlertRepository(app_context.db).list_for_workspace(workspace_id) == []


def test_depth_beyond_the_setting_refuses_the_record(
    ingest: Callable[..., tuple[httpx2.Response, str]],
) -> None:
    nested: Any = "x"
    for _ in range(9):
        nested = {"a": nested}  # with the record itself: 10 levels
    batch = json.dumps([ALERT, {**ALERT, "extra": nested}, [[[[[[[[[[[]]]]]]]]]]]])
    answer, _ = ingest(batch, ingest_max_depth=8)
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "refused", "refused"]
    for refused in results[1:]:
        assert refused["errors"] == [
            {"field": "", "message": "nested too deeply (more than 8 levels)"}
        ]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
def test_duplicate_keys_refuse_the_record_naming_the_key(
    app_context: AppContext,
    ingest: Callable[..., tuple[httpx2.Response, str]],
    content_type: str,
) -> None:
    # A filter reading the first "severity" would see "info"; Python's json, the last.
    twice = json.dumps(ALERT).replace(
        '"severity": "critical"', '"severity": "info", "severity": "critical"'
    )
    nested = json.dumps(
        {**ALERT, "title": "nested", "observables": [{"type": "ip", "value": "203.0.113.5"}]}
    ).replace('"value": "203.0.113.5"', '"value": "203.0.113.5", "value": "198.51.100.7"')
    good = json.dumps({**ALERT, "title": "kept"})
    if content_type == "application/json":
        body = "[" + ",".join([twice, nested, good]) + "]"
    else:
        body = "\n".join([twice, nested, good]) + "\n"
    answer, workspace_id = ingest(body, content_type=content_type)
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [(r["status"], r["errors"]) for r in results] == [
        ("refused", [{"field": "severity", "message": "duplicate key"}]),
        ("refused", [{"field": "observables[0].value", "message": "duplicate key"}]),
        ("accepted", []),
    ]
    stored = AlertRepository(app_context.db).list_for_workspace(workspace_id)
    assert [a.title for a in stored] == ["kept"]
