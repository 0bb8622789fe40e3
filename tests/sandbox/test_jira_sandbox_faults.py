"""Rate limiting, faults and the /_sandbox control API of the Jira sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx2
import pytest

from sentineliq.sandbox.jira import JiraSandbox, ManualClock

API = "/rest/api/3"
Create = Callable[..., httpx2.Response]
MakeClient = Callable[..., httpx2.Client]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll for a condition the sandbox reaches on its own (a timer, another thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def reachable(sandbox: JiraSandbox, make_client: MakeClient) -> bool:
    try:
        make_client(timeout=1.0).get(f"{API}/serverInfo")
    except httpx2.TransportError:  # refused, or reset while the listener was closing
        return False
    return True


# -- rate limit ---------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_jira_headers(
    client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_rate_limit(2, burst=2)
    first, second = client.get(f"{API}/myself"), client.get(f"{API}/myself")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == (
        "1",
        "0",
    )

    limited = client.get(f"{API}/myself")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"  # half a second to the next token, rounded up
    assert limited.headers["X-RateLimit-Limit"] == "2"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    reset = datetime.strptime(limited.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%SZ")
    assert reset.replace(tzinfo=UTC) > datetime.now(UTC)
    assert limited.json()["errorMessages"] == ["Rate limit exceeded."]

    clock.advance(1.0)
    assert client.get(f"{API}/myself").status_code == 200


def test_requests_before_retry_after_expired_are_recorded_as_early(
    client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_rate_limit(2, burst=1)
    assert client.get(f"{API}/myself").status_code == 200
    assert client.get(f"{API}/myself").status_code == 429  # announces Retry-After: 1
    clock.advance(0.5)
    # A token is back after half a second, so this one is served, but the client ignored the
    # Retry-After it was given: recorded as early.
    assert client.get(f"{API}/myself").status_code == 200
    clock.advance(1.0)
    assert client.get(f"{API}/myself").status_code == 200
    early = [r.early for r in sandbox.requests()]
    assert early == [False, False, True, False]
    assert [r.seq for r in sandbox.violations()] == [sandbox.requests()[2].seq]


def test_rate_limit_can_be_lifted_and_control_requests_are_never_limited(
    client: httpx2.Client, anon: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.set_rate_limit(1, burst=1)
    client.get(f"{API}/myself")
    assert client.get(f"{API}/myself").status_code == 429
    assert anon.get("/_sandbox/requests").status_code == 200
    sandbox.set_rate_limit(None)
    response = client.get(f"{API}/myself")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers


# -- faults ------------------------------------------------------------------------------------


def test_error_fault_answers_the_status_for_count_requests(
    client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_fault("error", status=503, count=2)
    first = client.get(f"{API}/myself")
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "1"
    assert first.json()["errorMessages"]
    clock.advance(1.0)
    assert client.get(f"{API}/myself").status_code == 503
    clock.advance(1.0)
    assert client.get(f"{API}/myself").status_code == 200  # the count is used up
    assert [r.fault for r in sandbox.requests()] == ["error", "error", None]
    assert sandbox.violations() == []


def test_error_fault_429_has_no_retry_after_unless_asked(
    client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_fault("error", status=429, count=1)
    gateway = client.get(f"{API}/myself")
    assert gateway.status_code == 429
    assert "Retry-After" not in gateway.headers
    sandbox.set_fault("error", status=429, retry_after=3, count=1)
    assert client.get(f"{API}/myself").headers["Retry-After"] == "3"
    clock.advance(2.5)
    client.get(f"{API}/myself")
    clock.advance(0.5)
    client.get(f"{API}/myself")
    assert [r.early for r in sandbox.requests()] == [False, False, True, False]


def test_error_fault_with_other_statuses_and_filters(
    client: httpx2.Client, create: Create, sandbox: JiraSandbox
) -> None:
    sandbox.set_fault("error", status=500, method="POST", path=f"{API}/issue")
    assert client.get(f"{API}/myself").status_code == 200  # not matched
    failed = create()
    assert failed.status_code == 500
    assert "Retry-After" not in failed.headers
    assert sandbox.issues() == []  # an error fault answers before anything happens
    sandbox.set_fault("none")
    assert create().status_code == 201


def test_slow_fault_answers_late_but_processes_at_once(
    create: Create, sandbox: JiraSandbox, make_client: MakeClient
) -> None:
    sandbox.set_fault("slow", delay_s=0.3, count=1)
    started = time.monotonic()
    assert create().status_code == 201
    assert time.monotonic() - started >= 0.3

    sandbox.set_fault("slow", delay_s=2.0)
    impatient = make_client(auth=("sandbox@sentineliq.test", "sandbox-token"), timeout=0.2)
    with pytest.raises(httpx2.ReadTimeout):
        impatient.post(
            f"{API}/issue",
            json={
                "fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "s"}
            },
        )
    # The client gave up, yet Jira created the issue: the ambiguous case.
    wait_until(lambda: len(sandbox.issues()) == 2)


def test_drop_after_create_disconnects_but_the_issue_exists(
    client: httpx2.Client, create: Create, sandbox: JiraSandbox
) -> None:
    sandbox.set_fault("drop_after_create", count=1)
    with pytest.raises(httpx2.RemoteProtocolError):
        create(labels=["alertfp-dropped"])
    [issue] = sandbox.issues()
    assert issue["fields"]["labels"] == ["alertfp-dropped"]
    [recorded] = [r for r in sandbox.requests() if r.method == "POST"]
    assert (recorded.status, recorded.fault) == (None, "drop_after_create")
    # The fault was used up; the next create is answered normally on a new connection.
    assert create().json()["key"] == "SEC-2"


def test_drop_after_create_ignores_failed_creates(create: Create, sandbox: JiraSandbox) -> None:
    sandbox.set_fault("drop_after_create", count=1)
    assert create(summary="a\nb").status_code == 400  # answered; the count is not used
    with pytest.raises(httpx2.RemoteProtocolError):
        create()


def test_down_refuses_connections_until_cleared(
    client: httpx2.Client, sandbox: JiraSandbox, make_client: MakeClient
) -> None:
    port = sandbox.port
    assert client.get(f"{API}/myself").status_code == 200  # a pooled keep-alive connection
    sandbox.set_fault("down")
    # The pooled connection was cut; whether the client notices before reusing it is up to
    # its pool, so any transport error is right here. A new connection is refused outright.
    with pytest.raises(httpx2.TransportError):
        client.get(f"{API}/myself")
    with pytest.raises(httpx2.ConnectError):
        make_client(timeout=1.0).get(f"{API}/serverInfo")
    sandbox.set_fault("none")
    assert sandbox.port == port
    assert client.get(f"{API}/myself").status_code == 200


def test_down_with_duration_recovers_on_the_same_port(
    sandbox: JiraSandbox, make_client: MakeClient
) -> None:
    port = sandbox.port
    sandbox.set_fault("down", duration_s=0.3)
    assert not reachable(sandbox, make_client)
    wait_until(lambda: reachable(sandbox, make_client))
    assert sandbox.port == port


def test_fault_arguments_are_checked(sandbox: JiraSandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault mode"):
        sandbox.set_fault("explode")
    with pytest.raises(ValueError, match="delay_s"):
        sandbox.set_fault("slow")
    with pytest.raises(ValueError, match="count"):
        sandbox.set_fault("down", count=1)
    with pytest.raises(ValueError, match="status"):
        sandbox.set_fault("error", status=200)


# -- control API over HTTP ----------------------------------------------------------------------


def test_control_endpoints_drive_the_sandbox(
    anon: httpx2.Client, client: httpx2.Client, create: Create, sandbox: JiraSandbox
) -> None:
    assert anon.post(
        "/_sandbox/fault", json={"mode": "error", "status": 502, "count": 1}
    ).is_success
    assert client.get(f"{API}/myself").status_code == 502

    assert anon.post("/_sandbox/rate-limit", json={"requests_per_second": 1, "burst": 1}).is_success
    client.get(f"{API}/myself")
    assert client.get(f"{API}/myself").status_code == 429
    assert anon.post("/_sandbox/rate-limit", json={"requests_per_second": None}).is_success

    assert anon.post(
        "/_sandbox/screen/remove", json={"project": "SEC", "issue_type": "Task", "field": "labels"}
    ).is_success
    assert create(labels=["x"]).status_code == 400

    assert anon.post("/_sandbox/search-lag", json={"seconds": 30}).is_success
    assert create().status_code == 201
    hits = client.post(f"{API}/search/jql", json={"jql": "project = SEC"}).json()["issues"]
    assert hits == []

    issues = anon.get("/_sandbox/issues").json()
    assert [i["key"] for i in issues] == ["SEC-1"]
    recorded = anon.get("/_sandbox/requests").json()
    assert recorded[0]["status"] == 502
    assert {"method", "path", "status", "at", "auth_user", "early"} <= set(recorded[0])
    assert all(not r["path"].startswith("/_sandbox") for r in recorded)

    added = anon.post(
        "/_sandbox/users",
        json={"email": "new@sentineliq.test", "display_name": "New Person", "api_token": "n"},
    )
    assert added.status_code == 201
    assert added.json()["accountId"].startswith("712020:")

    assert anon.post("/_sandbox/reset").is_success
    assert sandbox.issues() == []
    assert sandbox.requests() == []
    assert create(labels=["x"]).json()["key"] == "SEC-1"  # screen and keys are back to seed


def test_control_endpoints_reject_bad_arguments(anon: httpx2.Client) -> None:
    assert anon.post("/_sandbox/fault", json={"mode": "nope"}).status_code == 400
    assert anon.post("/_sandbox/fault", json={"mode": "slow", "colour": 1}).status_code == 400
    assert anon.post("/_sandbox/search-lag", json={"seconds": -1}).status_code == 400
    no_duration = anon.post("/_sandbox/fault", json={"mode": "down"})
    assert no_duration.status_code == 400
    assert "duration_s" in no_duration.json()["errorMessages"][0]
    assert (
        anon.post(
            "/_sandbox/screen/remove", json={"project": "SEC", "issue_type": "Task", "field": "zz"}
        ).status_code
        == 400
    )


def test_down_over_http_answers_then_goes_down_for_its_duration(
    anon: httpx2.Client, sandbox: JiraSandbox, make_client: MakeClient
) -> None:
    response = anon.post("/_sandbox/fault", json={"mode": "down", "duration_s": 0.3})
    assert response.json() == {"ok": True}
    wait_until(lambda: not reachable(sandbox, make_client))
    wait_until(lambda: reachable(sandbox, make_client))


def test_stop_is_prompt_even_with_a_slow_answer_in_flight(
    create: Create, sandbox: JiraSandbox, make_client: MakeClient
) -> None:
    sandbox.set_fault("slow", delay_s=30.0)
    impatient = make_client(auth=("sandbox@sentineliq.test", "sandbox-token"), timeout=0.2)
    with pytest.raises(httpx2.ReadTimeout):
        impatient.get(f"{API}/myself")
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 5.0
