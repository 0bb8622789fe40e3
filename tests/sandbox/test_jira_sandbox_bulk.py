"""POST /rest/api/3/issue/bulk in the Jira sandbox: Jira Cloud's createIssues (OpenAPI operation
createIssues), each element held to the single create's rules, answered in CreatedIssues' shape."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from openapi_schema_validator import OAS30Validator

from sentineliq.sandbox.jira import JiraSandbox, ManualClock
from sentineliq.sandbox.jira.openapi import load_spec

BULK = "/rest/api/3/issue/bulk"
SINGLE = "/rest/api/3/issue"


def answer_schema(status: str) -> OAS30Validator:
    """The official schema of createIssues' answer with `status`."""
    spec = load_spec()
    content = spec["paths"][BULK]["post"]["responses"][status]["content"]
    schema = content["application/json"]["schema"]
    return OAS30Validator({**schema, "components": spec["components"]})


def element(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": "SEC"},
        "issuetype": {"id": "10001"},
        "summary": "Suspicious login from a new country",
    }
    return {"fields": {**fields, **overrides}}


def test_partial_failure_creates_the_valid_ones_and_names_the_refused_by_number(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    refused_body = element(summary="", labels=["has space"], customfield_10099="x")
    single = client.post(SINGLE, json=refused_body)  # what a single create answers for it
    assert single.status_code == 400
    answer = client.post(
        BULK,
        json={
            "issueUpdates": [
                element(summary="first"),
                refused_body,
                element(summary="third", labels=["ok"]),
            ]
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    answer_schema("201").validate(body)
    assert [issue["key"] for issue in body["issues"]] == ["SEC-1", "SEC-2"]
    assert body["issues"][0]["self"] == f"{sandbox.url}/rest/api/3/issue/{body['issues'][0]['id']}"
    assert body["errors"] == [
        {"status": 400, "elementErrors": single.json(), "failedElementNumber": 1}
    ]
    assert sorted(i["fields"]["summary"] for i in sandbox.issues()) == ["first", "third"]


def test_all_refused_is_400_in_the_same_shape_and_creates_nothing(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    answer = client.post(
        BULK,
        json={"issueUpdates": [element(summary=""), element(issuetype={"id": "99999"})]},
    )
    assert answer.status_code == 400, answer.text
    body = answer.json()
    answer_schema("400").validate(body)
    assert body["issues"] == []
    assert [(e["failedElementNumber"], e["status"]) for e in body["errors"]] == [(0, 400), (1, 400)]
    assert body["errors"][0]["elementErrors"]["errors"] == {
        "summary": "You must specify a summary of the issue."
    }
    assert body["errors"][1]["elementErrors"]["errors"] == {
        "issuetype": "The issue type selected is invalid."
    }
    assert sandbox.issues() == []


def test_a_caller_without_create_permission_is_refused_per_element(
    readonly: httpx2.Client, sandbox: JiraSandbox
) -> None:
    answer = readonly.post(BULK, json={"issueUpdates": [element(), element()]})
    assert answer.status_code == 400
    assert {e["status"] for e in answer.json()["errors"]} == {403}
    assert sandbox.issues() == []


def test_fifty_is_the_limit(client: httpx2.Client, sandbox: JiraSandbox) -> None:
    over = client.post(BULK, json={"issueUpdates": [element() for _ in range(51)]})
    assert over.status_code == 400
    assert "50" in over.json()["errorMessages"][0]
    assert sandbox.issues() == []
    full = client.post(BULK, json={"issueUpdates": [element() for _ in range(50)]})
    assert full.status_code == 201
    assert len(full.json()["issues"]) == 50
    assert len(sandbox.issues()) == 50


def test_the_body_is_held_to_the_official_schema(client: httpx2.Client) -> None:
    answer = client.post(BULK, json={"issueUpdates": {"fields": {}}})
    assert answer.status_code == 400
    assert "issueUpdates" in answer.json()["errorMessages"][0]


def test_one_bulk_call_is_one_request_for_the_rate_limit(
    client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_rate_limit(1.0, burst=1)
    first = client.post(BULK, json={"issueUpdates": [element() for _ in range(50)]})
    assert first.status_code == 201
    second = client.post(BULK, json={"issueUpdates": [element()]})
    assert second.status_code == 429  # the bucket held one request, not fifty
    clock.advance(1.0)
    assert client.post(BULK, json={"issueUpdates": [element()]}).status_code == 201
    assert len(sandbox.issues()) == 51
    assert [r.status for r in sandbox.requests() if r.path == BULK] == [201, 429, 201]


@pytest.mark.parametrize("status", [500, 503])
def test_error_faults_apply_to_the_bulk_route(
    client: httpx2.Client, sandbox: JiraSandbox, status: int
) -> None:
    sandbox.set_fault("error", status=status, count=1, path=BULK)
    assert client.post(BULK, json={"issueUpdates": [element()]}).status_code == status
    assert sandbox.issues() == []


def test_a_dropped_answer_after_a_bulk_create_leaves_the_issues(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.set_fault("drop_after_create", count=1)
    with pytest.raises(httpx2.TransportError):
        client.post(BULK, json={"issueUpdates": [element(), element(summary="")]})
    assert len(sandbox.issues()) == 1  # applied, then the answer was lost
    assert [r.fault for r in sandbox.requests() if r.path == BULK] == ["drop_after_create"]


def test_a_slow_fault_applies_to_the_bulk_route(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.set_fault("slow", delay_s=0.05, count=1, path=BULK)
    assert client.post(BULK, json={"issueUpdates": [element()]}).status_code == 201
    assert [r.fault for r in sandbox.requests() if r.path == BULK] == ["slow"]
