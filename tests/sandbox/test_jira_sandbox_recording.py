"""The sandbox's request log keeps each body as text (for leak checks), never the headers."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from sentineliq.sandbox.jira import ADMIN_TOKEN, JiraSandbox

API = "/rest/api/3"


def test_request_bodies_are_recorded_and_headers_never(
    sandbox: JiraSandbox,
    client: httpx2.Client,
    anon: httpx2.Client,
    create: Callable[..., httpx2.Response],
) -> None:
    assert create(summary="Body we look for later").status_code == 201
    client.post(f"{API}/issue/SEC-1/attachments", content=b"\xff\xfe not utf-8")  # any answer
    client.get(f"{API}/myself")
    recorded = anon.get("/_sandbox/requests").json()
    first, odd, read = recorded[0], recorded[1], recorded[2]
    assert first["path"] == f"{API}/issue"
    assert '"summary": "Body we look for later"' in first["body"].replace('":"', '": "')
    assert odd["body"].endswith(" not utf-8")  # undecodable bytes replaced, the rest kept
    assert read["body"] == ""
    assert sandbox.requests()[0].body == first["body"]
    for entry in recorded:
        assert ADMIN_TOKEN not in str(entry)
        assert "authorization" not in {key.lower() for key in entry}
