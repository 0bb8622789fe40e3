"""JiraClient over real HTTP against the sandbox: endpoints, paging, and error classes."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jira_samples import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    ANALYST_EMAIL,
    READONLY_EMAIL,
    READONLY_TOKEN,
    calls,
)
from pydantic import SecretStr

from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig


@pytest.fixture
def make_client(make_config: Callable[..., JiraConfig]) -> Iterator[Callable[..., JiraClient]]:
    made: list[JiraClient] = []

    def make(**overrides: Any) -> JiraClient:
        client = JiraClient.from_config(make_config(**overrides))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def minimal_issue(summary: str = "Hello") -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": "SEC"},
            "issuetype": {"id": "10001"},
            "summary": summary,
            "labels": ["siq-client-test"],
        },
        "properties": [{"key": "sentineliq", "value": {"idempotency_key": "client-test"}}],
    }


def test_read_endpoints(make_client: Callable[..., JiraClient], sandbox: Any) -> None:
    client = make_client()
    assert client.server_info()["deploymentType"] == "Cloud"
    assert client.myself()["emailAddress"] == ADMIN_EMAIL
    assert client.get_project("SEC")["key"] == "SEC"
    types = client.createmeta_issuetypes("SEC")
    assert {t["name"]: t["id"] for t in types} == {
        "Task": "10001",
        "Bug": "10002",
        "Incident": "10003",
    }
    fields = {f["fieldId"]: f for f in client.createmeta_fields("SEC", "10001")}
    assert {"summary", "priority", "labels", "customfield_10050"} <= set(fields)
    assert [v["name"] for v in fields["priority"]["allowedValues"]] == [
        "Highest",
        "High",
        "Medium",
        "Low",
        "Lowest",
    ]
    assert any(f["id"] == "customfield_10052" for f in client.fields())
    users = client.search_users(ANALYST_EMAIL)
    assert any(u.get("emailAddress") == ANALYST_EMAIL for u in users)
    # serverInfo is anonymous on Jira, so the sandbox does not authenticate it.
    for request in sandbox.requests()[1:]:
        assert request.auth_user == ADMIN_EMAIL


def test_createmeta_paging_is_followed(
    make_client: Callable[..., JiraClient], sandbox: Any
) -> None:
    client = make_client()
    client.page_size = 2
    fields = client.createmeta_fields("SEC", "10001")
    assert len({f["fieldId"] for f in fields}) == len(fields) >= 12
    pages = calls(sandbox, "GET", "/rest/api/3/issue/createmeta/SEC/issuetypes/10001")
    assert pages == (len(fields) + 1) // 2
    assert len(client.createmeta_issuetypes("SEC")) == 3


def test_create_search_and_property(make_client: Callable[..., JiraClient], sandbox: Any) -> None:
    client = make_client()
    created = client.create_issue(minimal_issue())
    assert created["key"].startswith("SEC-")
    prop = client.get_issue_property(created["key"], "sentineliq")
    assert prop["value"] == {"idempotency_key": "client-test"}
    found = client.search_jql('project = SEC AND labels = "siq-client-test"', ["key"], 10)
    assert [i["key"] for i in found["issues"]] == [created["key"]]


def test_400_carries_jira_field_errors(make_client: Callable[..., JiraClient]) -> None:
    with pytest.raises(ProviderError) as caught:
        make_client().create_issue(minimal_issue("x" * 300))
    error = caught.value
    assert (error.kind, error.status) == (ErrorKind.VALIDATION, 400)
    assert "summary" in error.field_errors
    assert "255" in error.field_errors["summary"]


def test_body_not_matching_the_openapi_schema_is_refused(
    make_client: Callable[..., JiraClient],
) -> None:
    with pytest.raises(ProviderError) as caught:
        make_client().create_issue({"fields": "nope"})
    assert caught.value.kind is ErrorKind.VALIDATION


def test_401_wrong_token(make_client: Callable[..., JiraClient]) -> None:
    with pytest.raises(ProviderError) as caught:
        make_client(api_token="wrong-token").myself()
    error = caught.value
    assert (error.kind, error.status) == (ErrorKind.AUTH, 401)
    assert error.message.startswith(f"Jira rejected the credentials for {ADMIN_EMAIL} (HTTP 401)")
    assert "wrong-token" not in str(error)


def test_403_cannot_create(make_client: Callable[..., JiraClient]) -> None:
    client = make_client(email=READONLY_EMAIL, api_token=READONLY_TOKEN)
    with pytest.raises(ProviderError) as caught:
        client.create_issue(minimal_issue())
    assert (caught.value.kind, caught.value.status) == (ErrorKind.PERMISSION, 403)
    assert READONLY_EMAIL in caught.value.message


def test_404_unknown_project(make_client: Callable[..., JiraClient]) -> None:
    with pytest.raises(ProviderError) as caught:
        make_client().get_project("NOPE")
    assert (caught.value.kind, caught.value.status) == (ErrorKind.NOT_FOUND, 404)


def test_410_is_config(make_client: Callable[..., JiraClient], sandbox: Any) -> None:
    sandbox.set_fault("error", status=410, count=1)
    with pytest.raises(ProviderError) as caught:
        make_client().myself()
    assert (caught.value.kind, caught.value.status) == (ErrorKind.CONFIG, 410)
    assert not caught.value.retryable


def test_429_with_retry_after_and_rate_headers(
    make_client: Callable[..., JiraClient], sandbox: Any
) -> None:
    client = make_client()
    # One request per 100 s: the second request is refused however slow this machine is.
    sandbox.set_rate_limit(0.01, burst=1)
    client.myself()
    seen = client.rate_limit
    assert seen is not None
    assert (seen.limit, seen.remaining) == (0.01, 0)
    with pytest.raises(ProviderError) as caught:
        client.myself()
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after is not None
    assert 1 <= error.retry_after <= 100
    assert "jira-burst-based" in error.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_on_a_read_is_unavailable(
    make_client: Callable[..., JiraClient], sandbox: Any, status: int
) -> None:
    sandbox.set_fault("error", status=status, count=1)
    with pytest.raises(ProviderError) as caught:
        make_client().myself()
    assert (caught.value.kind, caught.value.status) == (ErrorKind.UNAVAILABLE, status)
    if status == 503:
        assert caught.value.retry_after == 1.0


def test_500_on_a_create_is_ambiguous(make_client: Callable[..., JiraClient], sandbox: Any) -> None:
    sandbox.set_fault("error", status=500, count=1, method="POST", path="/rest/api/3/issue")
    with pytest.raises(ProviderError) as caught:
        make_client().create_issue(minimal_issue())
    assert (caught.value.kind, caught.value.status) == (ErrorKind.AMBIGUOUS, 500)


def test_connection_refused_is_network(
    make_client: Callable[..., JiraClient], sandbox: Any
) -> None:
    client = make_client()
    sandbox.set_fault("down")
    with pytest.raises(ProviderError) as caught:
        client.create_issue(minimal_issue())
    assert caught.value.kind is ErrorKind.NETWORK
    assert caught.value.message.endswith("nothing was sent")
    sandbox.set_fault("none")
    assert sandbox.issues() == []


def test_read_timeout_is_ambiguous(make_client: Callable[..., JiraClient], sandbox: Any) -> None:
    client = make_client(timeout_s=0.5)
    sandbox.set_fault("slow", delay_s=60.0, count=1)  # the sandbox cuts the wait when it stops
    with pytest.raises(ProviderError) as caught:
        client.create_issue(minimal_issue())
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    assert "an issue may exist" in caught.value.message


def test_dropped_connection_after_create_is_ambiguous(
    make_client: Callable[..., JiraClient], sandbox: Any
) -> None:
    sandbox.set_fault("drop_after_create", count=1)
    with pytest.raises(ProviderError) as caught:
        make_client().create_issue(minimal_issue())
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    # The issue exists although no answer came: exactly why AMBIGUOUS must reconcile.
    (issue,) = sandbox.issues()
    assert issue["fields"]["labels"] == ["siq-client-test"]


def test_blocked_target_is_never_contacted(sandbox: Any) -> None:
    # A URL that passed validation but reaches loopback at connect time (DNS rebinding).
    client = JiraClient(
        sandbox.url, ADMIN_EMAIL, SecretStr(ADMIN_TOKEN), allow_private_targets=False
    )
    with client, pytest.raises(ProviderError) as caught:
        client.myself()
    assert caught.value.kind is ErrorKind.CONFIG
    assert "private or loopback" in caught.value.message
    assert sandbox.requests() == []


def drop_then_create(sandbox: Any, client: JiraClient) -> None:
    sandbox.set_fault("drop_after_create", count=1)
    client.create_issue(minimal_issue())


def test_token_never_logged_or_shown(
    make_client: Callable[..., JiraClient], sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    bad = make_client(api_token="wrong-secret-token")
    errors: list[ProviderError] = []
    for action in (
        bad.myself,
        lambda: client.create_issue(minimal_issue("y" * 300)),
        lambda: drop_then_create(sandbox, client),
    ):
        with pytest.raises(ProviderError) as caught:
            action()
        errors.append(caught.value)
    sandbox.set_fault("down")
    with pytest.raises(ProviderError) as refused:
        client.myself()
    errors.append(refused.value)
    text = caplog.text + "".join(f"{e}{e!r}{e.args}" for e in errors) + repr(client)
    assert caplog.records  # the failures were logged, just without secrets
    basic = base64.b64encode(f"{ADMIN_EMAIL}:{ADMIN_TOKEN}".encode()).decode()
    for secret in (ADMIN_TOKEN, "wrong-secret-token", basic):
        assert secret not in text
