"""Classification of Jira answers and transport failures (constructed objects, no network).

The same classes are exercised over real HTTP against the sandbox in test_jira_client.py.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sentineliq.providers.base import ErrorKind
from sentineliq.providers.jira.errors import (
    classify_response,
    classify_transport_error,
    parse_retry_after,
    unreadable_answer,
)

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
TOKEN = "secret-token-123"
ACCOUNT = "sandbox@sentineliq.test"


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx2.Response:
    request = httpx2.Request("POST", "https://acme.atlassian.net/rest/api/3/issue")
    if body is None:
        return httpx2.Response(status, headers=headers, request=request)
    return httpx2.Response(status, json=body, headers=headers, request=request)


def classify(response: httpx2.Response, **kwargs: Any) -> Any:
    return classify_response(
        response,
        action="create an issue",
        account=ACCOUNT,
        secrets=(TOKEN,),
        now=lambda: NOW,
        **kwargs,
    )


def test_400_carries_field_errors_and_messages() -> None:
    error = classify(
        answer(
            400,
            {
                "errorMessages": ["The label 'a b' can't contain spaces."],
                "errors": {"summary": "Summary can't exceed 255 characters.", "priority": "bad"},
            },
        )
    )
    assert error.kind is ErrorKind.VALIDATION
    assert error.status == 400
    assert error.field_errors == {
        "summary": "Summary can't exceed 255 characters.",
        "priority": "bad",
    }
    assert "The label 'a b' can't contain spaces." in error.message
    assert "summary: Summary can't exceed 255 characters." in str(error)
    assert not error.retryable


def test_422_is_validation() -> None:
    error = classify(answer(422, {"errorMessages": ["configuration problem"], "errors": {}}))
    assert (error.kind, error.status) == (ErrorKind.VALIDATION, 422)


def test_401_is_auth_with_a_human_message() -> None:
    error = classify(answer(401, {"errorMessages": ["Unauthorized"]}))
    assert error.kind is ErrorKind.AUTH
    assert error.message.startswith(
        f"Jira rejected the credentials for {ACCOUNT} (HTTP 401): check the email and API token"
    )


def test_401_captcha_is_explained() -> None:
    error = classify(answer(401, headers={"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"}))
    assert "CAPTCHA" in error.message


def test_403_captcha_challenge_is_its_own_kind_with_the_login_url() -> None:
    error = classify(
        answer(
            403,
            headers={
                "X-Authentication-Denied-Reason": (
                    "CAPTCHA_CHALLENGE; login-url=https://acme.atlassian.net/login.jsp"
                ),
                "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
            },
        )
    )
    assert error.kind is ErrorKind.CAPTCHA
    assert error.pauses_provider
    assert not error.retryable
    assert "CAPTCHA_CHALLENGE" in error.message
    assert "in a browser at https://acme.atlassian.net/login.jsp" in error.message
    assert "sentineliq provider resume jira" in error.message


def test_captcha_login_url_that_is_not_a_plain_url_is_not_repeated() -> None:
    error = classify(
        answer(
            403,
            headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=javascript:x"},
        )
    )
    assert error.kind is ErrorKind.CAPTCHA
    assert "javascript" not in error.message
    assert "the site's login page (/login.jsp)" in error.message


def test_403_404_410() -> None:
    forbidden = classify(answer(403, {"errorMessages": ["You do not have permission."]}))
    assert forbidden.kind is ErrorKind.PERMISSION
    assert "not allowed to create an issue (HTTP 403): You do not have permission." in str(
        forbidden
    )
    missing = classify(answer(404, {"errorMessages": ["No project could be found"]}))
    assert missing.kind is ErrorKind.NOT_FOUND
    assert "has no permission to see it" in missing.message
    gone = classify(answer(410, {"errorMessages": ["removed"]}))
    assert gone.kind is ErrorKind.CONFIG
    assert "endpoint removed" in gone.message
    assert not gone.retryable


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "Fri, 15 Jan 2027 08:00:30 GMT"}, 30.0),
        ({"X-RateLimit-Reset": "2027-01-15T08:01:00Z"}, 60.0),
        ({"X-RateLimit-Reset": "2027-01-15T08:02Z"}, 120.0),
        ({"X-RateLimit-Reset": str(int(NOW) + 5)}, 5.0),
        ({"Retry-After": "soon", "X-RateLimit-Reset": "2027-01-15T08:00:10Z"}, 10.0),
        ({"Retry-After": "Fri, 15 Jan 2027 07:00:00 GMT"}, 0.0),  # in the past
        ({}, None),
    ],
)
def test_retry_after_sources(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx2.Headers(headers), now=lambda: NOW) == expected


def test_429_is_rate_limited_with_retry_after() -> None:
    error = classify(
        answer(
            429,
            {"errorMessages": ["Rate limit exceeded."]},
            {"Retry-After": "3", "RateLimit-Reason": "jira-burst-based"},
        )
    )
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == 3.0
    assert "jira-burst-based" in error.message
    assert error.retryable


def test_429_without_retry_after_uses_reset() -> None:
    error = classify(answer(429, headers={"X-RateLimit-Reset": "2027-01-15T08:00:04Z"}))
    assert error.retry_after == 4.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_reads_is_unavailable(status: int) -> None:
    error = classify(answer(status, headers={"Retry-After": "1"}))
    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.retry_after == 1.0


def test_5xx_on_a_create_may_hide_an_issue_except_503() -> None:
    assert classify(answer(502), non_idempotent=True).kind is ErrorKind.AMBIGUOUS
    assert classify(answer(500), non_idempotent=True).kind is ErrorKind.AMBIGUOUS
    assert classify(answer(503), non_idempotent=True).kind is ErrorKind.UNAVAILABLE


def test_redirect_is_a_configuration_problem() -> None:
    error = classify(answer(301, headers={"Location": "https://login.example/x?token=abc"}))
    assert error.kind is ErrorKind.CONFIG
    assert "https://login.example/x" in error.message
    assert "token=abc" not in error.message


def test_secrets_in_jira_texts_are_redacted() -> None:
    error = classify(
        answer(400, {"errorMessages": [f"bad {TOKEN}"], "errors": {"summary": f"x {TOKEN}"}})
    )
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert "[redacted]" in str(error)


def test_non_json_error_body() -> None:
    request = httpx2.Request("GET", "https://acme.atlassian.net/rest/api/3/myself")
    error = classify(httpx2.Response(502, text="<html>Bad gateway</html>", request=request))
    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.message == "Jira is unavailable (HTTP 502) while trying to create an issue"


def test_unreadable_success_after_create_is_ambiguous() -> None:
    assert unreadable_answer(answer(201), action="x", non_idempotent=True).kind is (
        ErrorKind.AMBIGUOUS
    )
    assert unreadable_answer(answer(200), action="x").kind is ErrorKind.UNAVAILABLE


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx2.ConnectError("[Errno 111] Connection refused"), ErrorKind.NETWORK),
        (httpx2.ConnectTimeout("timed out"), ErrorKind.NETWORK),
        (httpx2.PoolTimeout("pool"), ErrorKind.NETWORK),
        (httpx2.ReadTimeout("timed out"), ErrorKind.AMBIGUOUS),
        (httpx2.ReadError("reset"), ErrorKind.AMBIGUOUS),
        (httpx2.WriteError("broken pipe"), ErrorKind.AMBIGUOUS),
        (
            httpx2.RemoteProtocolError("Server disconnected without sending a response."),
            ErrorKind.AMBIGUOUS,
        ),
    ],
)
def test_transport_errors(exc: httpx2.TransportError, kind: ErrorKind) -> None:
    error = classify_transport_error(
        exc, action="create an issue", host="acme.atlassian.net", non_idempotent=True
    )
    assert error.kind is kind
    assert error.retryable
    if kind is ErrorKind.NETWORK:
        assert error.message.endswith("nothing was sent")
    else:
        assert "an issue may exist" in error.message
