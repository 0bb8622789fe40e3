"""The sandbox's attachments over HTTP: Jira's XSRF check (403 without X-Atlassian-Token), the
200 answer with a JSON array of Attachment, the site's size limit (413), `fields.attachment` on
GET issue, the content, the /browse page, the lost-answer fault; and our client's reading of the
XSRF refusal as a configuration problem, not a permission."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx2
import jsonschema
import pytest
from pydantic import SecretStr

from sentineliq.metrics import jira_endpoint
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.net import guarded_transport
from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.sandbox.jira.openapi import load_spec

NO_CHECK = {"X-Atlassian-Token": "no-check"}
URL = "/rest/api/3/issue/SEC-1/attachments"


@pytest.fixture
def issue(create: Callable[..., httpx2.Response]) -> str:
    answer = create()
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def _attach(client: httpx2.Client, name: str, content: bytes, **headers: str) -> Any:
    return client.post(
        URL, files={"file": (name, content, "text/plain")}, headers={**NO_CHECK, **headers}
    )


def test_attach_list_serve_and_browse(client: httpx2.Client, issue: str, anon: Any) -> None:
    answer = _attach(client, "beacon <1>.txt", b"beacon every 60 s\n")
    assert answer.status_code == 200
    [made] = answer.json()
    assert (made["filename"], made["size"], made["mimeType"]) == (
        "beacon <1>.txt",
        18,
        "text/plain",
    )
    assert made["author"]["emailAddress"] == ADMIN_EMAIL
    assert {"id", "created", "content", "self"} <= set(made)
    fields = client.get(f"/rest/api/3/issue/{issue}", params={"fields": "attachment"}).json()
    assert fields["fields"]["attachment"] == [made]
    content = client.get(f"/rest/api/3/attachment/content/{made['id']}")
    assert content.content == b"beacon every 60 s\n"
    page = anon.get(f"/browse/{issue}").text
    assert "<h2>Attachments</h2>" in page
    assert "beacon &lt;1&gt;.txt" in page  # escaped
    assert "18 B" in page
    href = f"/secure/attachment/{made['id']}/beacon%20%3C1%3E.txt"
    assert href in page
    download = anon.get(href)
    assert download.content == b"beacon every 60 s\n"
    assert download.headers["content-type"] == "application/octet-stream"


def test_without_the_xsrf_header_jira_refuses(client: httpx2.Client, issue: str) -> None:
    answer = client.post(URL, files={"file": ("a.txt", b"x", "text/plain")})
    assert answer.status_code == 403
    assert answer.text == "XSRF check failed"
    wrong = _attach(client, "a.txt", b"x", **{"X-Atlassian-Token": "nocheck"})
    assert wrong.status_code == 403
    assert client.get(f"/rest/api/3/issue/{issue}").json()["fields"]["attachment"] == []


def test_the_sites_limit(client: httpx2.Client, issue: str, sandbox: JiraSandbox) -> None:
    sandbox.set_attachment_max_bytes(10)
    answer = _attach(client, "big.bin", b"x" * 11)
    assert answer.status_code == 413
    assert "too large" in answer.json()["errorMessages"][0]
    assert _attach(client, "ok.bin", b"x" * 10).status_code == 200
    # Over HTTP too, and reset restores Cloud's default.
    control = client.post("/_sandbox/attachment-limit", json={"max_bytes": 5})
    assert control.status_code == 200
    assert _attach(client, "ok.bin", b"x" * 10).status_code == 413


def test_other_refusals(client: httpx2.Client, readonly: httpx2.Client, issue: str) -> None:
    assert _attach(readonly, "a.txt", b"x").status_code == 403  # no permission
    missing = client.post(
        "/rest/api/3/issue/SEC-99/attachments", files={"file": ("a", b"x")}, headers=NO_CHECK
    )
    assert missing.status_code == 404
    other_part = client.post(URL, files={"upload": ("a", b"x")}, headers=NO_CHECK)
    assert other_part.status_code == 400


def test_a_lost_answer_leaves_the_attachment_stored(
    client: httpx2.Client, issue: str, sandbox: JiraSandbox
) -> None:
    sandbox.set_fault("drop_after_create", count=1, path=URL)
    with pytest.raises(httpx2.TransportError):
        _attach(client, "a.txt", b"x")
    [stored] = client.get(f"/rest/api/3/issue/{issue}").json()["fields"]["attachment"]
    assert stored["filename"] == "a.txt"


class _StripXsrf(httpx2.BaseTransport):
    """A proxy on the way that drops the X-Atlassian-Token header."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        del request.headers["X-Atlassian-Token"]
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_our_client_reads_the_xsrf_refusal_as_configuration(
    sandbox: JiraSandbox, issue: str
) -> None:
    transport = _StripXsrf(guarded_transport(allow_private=True))
    with (
        JiraClient(
            sandbox.url, ADMIN_EMAIL, SecretStr(ADMIN_TOKEN), transport=transport
        ) as stripped,
        pytest.raises(ProviderError) as raised,
    ):
        stripped.add_attachment(issue, "a.txt", _bytes(b"x"), "text/plain")
    assert raised.value.kind is ErrorKind.CONFIG  # not retried: dead-lettered, named
    assert raised.value.status == 403
    assert "X-Atlassian-Token" in str(raised.value)
    with JiraClient(
        sandbox.url, ADMIN_EMAIL, SecretStr(ADMIN_TOKEN), allow_private_targets=True
    ) as ours:
        [made] = ours.add_attachment(issue, "a.txt", _bytes(b"x"), "text/plain")
        assert ours.issue_attachments(issue) == [made]


def _bytes(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_attachment_requests_are_counted_by_route_not_by_issue() -> None:
    assert jira_endpoint("POST", "/rest/api/3/issue/SEC-1/attachments") == (
        "POST /rest/api/3/issue/{issue}/attachments"
    )


def test_the_answer_has_the_shape_of_atlassians_openapi_document(
    client: httpx2.Client, issue: str
) -> None:
    """POST .../attachments answers 200 with an array of Attachment (addAttachment in the
    official Jira Cloud v3 document, the sandbox's copy of /work/shared/jira)."""
    spec = load_spec()
    operation = spec["paths"]["/rest/api/3/issue/{issueIdOrKey}/attachments"]["post"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"items": {"$ref": "#/components/schemas/Attachment"}, "type": "array"}
    schema = {**answer, "components": spec["components"]}
    made = _attach(client, "a.txt", b"x").json()
    jsonschema.Draft7Validator(schema).validate(made)
    fields = client.get(f"/rest/api/3/issue/{issue}", params={"fields": "attachment"}).json()
    jsonschema.Draft7Validator(schema).validate(fields["fields"]["attachment"])
