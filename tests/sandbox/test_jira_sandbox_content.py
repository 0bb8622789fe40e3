"""The sandbox's switchable description refusals: Jira measuring otherwise, unsupported content."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.sandbox.jira.adf import TOO_LONG
from sentineliq.sandbox.jira.content import UNSUPPORTED_CONTENT


@pytest.fixture
def sb() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


def _create(sb: JiraSandbox, description: dict[str, Any], **fields: Any) -> httpx2.Response:
    pair = base64.b64encode(f"{ADMIN_EMAIL}:{ADMIN_TOKEN}".encode()).decode()
    body = {
        "fields": {
            "project": {"key": "SEC"},
            "issuetype": {"name": "Task"},
            "summary": "s",
            "description": description,
            **fields,
        }
    }
    with httpx2.Client(base_url=sb.url) as http:
        return http.post("/rest/api/3/issue", json=body, headers={"Authorization": f"Basic {pair}"})


def _doc(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "type": "doc", "content": list(blocks)}


def _para(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


CODE = {"type": "codeBlock", "content": [{"type": "text", "text": "whoami"}]}


def test_a_lower_description_limit_refuses_with_jiras_message(sb: JiraSandbox) -> None:
    sb.set_description_rules(limit=200)
    refused = _create(sb, _doc(_para("x" * 300)), priority={"name": "Nope"})
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert errors["description"] == TOO_LONG
    assert "priority" in errors  # reported together with the other field problems
    assert _create(sb, _doc(_para("short"))).status_code == 201


def test_unsupported_nodes_get_the_generic_400(sb: JiraSandbox) -> None:
    sb.set_description_rules(unsupported_nodes=["codeBlock"])
    refused = _create(sb, _doc(_para("ok"), CODE))
    assert refused.status_code == 400
    assert refused.json() == {"errorMessages": [UNSUPPORTED_CONTENT], "errors": {}}
    assert _create(sb, _doc(_para("ok"))).status_code == 201
    sb.set_description_rules()  # back to Cloud's plain rules
    assert _create(sb, _doc(CODE)).status_code == 201


def test_control_endpoint_and_reset(sb: JiraSandbox) -> None:
    with httpx2.Client(base_url=sb.url) as http:
        assert http.post("/_sandbox/description-rules", json={"limit": 0}).status_code == 400
        assert http.post("/_sandbox/description-rules", json={"limit": "x"}).status_code == 400
        ok = http.post("/_sandbox/description-rules", json={"unsupported_nodes": ["codeBlock"]})
        assert ok.status_code == 200
    assert _create(sb, _doc(CODE)).status_code == 400
    sb.reset()
    assert _create(sb, _doc(CODE)).status_code == 201
