"""Holding requests (a test control) and slow answers that overlap instead of queueing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx2

from conftest import issue_fields
from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox

API = "/rest/api/3"
MakeClient = Callable[..., httpx2.Client]


def _create_in_threads(
    make_client: MakeClient, count: int
) -> tuple[list[threading.Thread], list[int]]:
    statuses: list[int] = []

    def create(number: int) -> None:
        client = make_client(auth=(ADMIN_EMAIL, ADMIN_TOKEN), timeout=60.0)
        body = {"fields": issue_fields(summary=f"held {number}")}
        try:
            statuses.append(client.post(f"{API}/issue", json=body).status_code)
        except httpx2.TransportError:
            statuses.append(0)  # the sandbox stopped and cut the connection

    threads = [threading.Thread(target=create, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    return threads, statuses


def test_held_creates_wait_together_unhandled_until_released(
    sandbox: JiraSandbox, make_client: MakeClient, client: httpx2.Client
) -> None:
    sandbox.hold_requests("POST", f"{API}/issue")
    threads, statuses = _create_in_threads(make_client, 3)
    assert sandbox.wait_until_held(3, timeout=30)
    # Other requests pass; the held ones have arrived but nothing was created yet.
    assert client.get(f"{API}/myself").status_code == 200
    assert sandbox.issues() == []
    assert sandbox.held_requests() == (3, 3)
    assert len([r for r in sandbox.requests() if r.method == "POST"]) == 0  # recorded when handled

    sandbox.release_requests()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [201, 201, 201]
    assert len(sandbox.issues()) == 3
    assert sandbox.held_requests() == (0, 3)
    # Released: no longer holding.
    assert (
        make_client(auth=(ADMIN_EMAIL, ADMIN_TOKEN))
        .post(f"{API}/issue", json={"fields": issue_fields()})
        .status_code
        == 201
    )


def test_a_slow_answer_does_not_hold_up_other_requests(
    sandbox: JiraSandbox, make_client: MakeClient, client: httpx2.Client
) -> None:
    # The delay is waited outside every lock: while one answer is delayed for a minute, another
    # request (slow or not) is answered. Were the delay serialised, `client` (10 s timeout) fails.
    sandbox.set_fault("slow", delay_s=60.0, method="POST", path=f"{API}/issue")
    threads, statuses = _create_in_threads(make_client, 2)
    assert _wait(lambda: len(sandbox.issues()) == 2)  # both handled, both answers delayed
    assert client.get(f"{API}/myself").status_code == 200
    assert all(thread.is_alive() for thread in threads)
    assert statuses == []
    sandbox.stop()  # cuts the delayed answers
    for thread in threads:
        thread.join(timeout=30)
    assert len(statuses) == 2  # each delayed answer ended (cut, or sent as the server closed)


def test_hold_over_the_control_api(
    sandbox: JiraSandbox, make_client: MakeClient, anon: httpx2.Client
) -> None:
    assert anon.post("/_sandbox/hold", json={"method": "POST", "path": f"{API}/issue"}).is_success
    threads, statuses = _create_in_threads(make_client, 2)
    assert sandbox.wait_until_held(2, timeout=30)
    assert anon.get("/_sandbox/held").json() == {"held": 2, "most_held": 2}
    assert anon.post("/_sandbox/hold", json={"method": 1}).status_code == 400
    assert anon.post("/_sandbox/release").is_success
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [201, 201]


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not condition():
            if done.wait(0.01):
                return False
        return True
    finally:
        deadline.cancel()
