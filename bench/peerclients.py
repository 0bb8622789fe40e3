"""The peers: other ways to create the same issues in Jira, each used the way its docs show.

- pycontribs `jira` with its defaults: `JIRA(server, basic_auth=...)` asks serverInfo first,
  `create_issue(fields=...)` reloads the issue it created (prefetch). Names, not ids.
- pycontribs `jira` tuned: `get_server_info=False`, `prefetch=False`, ids instead of names.
- `atlassian-python-api`'s `JiraCloud` (REST v3 is its default `api_version`), `create_issue`.
- a raw httpx keep-alive loop: one pooled client, `concurrency` creates in flight, paced to the
  budget: the practical limit for that concurrency.

pycontribs `jira` speaks REST v2 by default, where a description is wiki markup; it is pointed at
v3 (`options={"rest_api_version": "3"}`) so that it can send our ADF description at all.
Each library honours 429s its own way (noted in `RETRY_NOTES`); none of them paces itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
from issuebodies import fields_for

from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN

RETRY_NOTES = {
    "jira": "ResilientSession: retries 429/503 up to 3 times, sleeping 2 x Retry-After "
    "(x0.5-1 jitter; 10 x 2^n s without the header)",
    "atlassian": "retries a 429 once after its Retry-After (retry_with_header, on by default); "
    "backoff_and_retry is off by default",
    "raw": "paced to the budget (start times 1/rate apart); a 429's Retry-After holds every thread",
}

Runner = Callable[[str, list[dict[str, Any]], int, int], None]


def jira_defaults(url: str, templates: list[dict[str, Any]], count: int, _c: int) -> None:
    from jira import JIRA

    client = JIRA(url, basic_auth=(ADMIN_EMAIL, ADMIN_TOKEN), options={"rest_api_version": "3"})
    for number in range(count):
        client.create_issue(fields=fields_for(templates, number, names=True))
    client.close()


def jira_tuned(url: str, templates: list[dict[str, Any]], count: int, _c: int) -> None:
    from jira import JIRA

    client = JIRA(
        url,
        basic_auth=(ADMIN_EMAIL, ADMIN_TOKEN),
        options={"rest_api_version": "3"},
        get_server_info=False,
    )
    for number in range(count):
        client.create_issue(fields=fields_for(templates, number, names=False), prefetch=False)
    client.close()


def atlassian_v3(url: str, templates: list[dict[str, Any]], count: int, _c: int) -> None:
    from atlassian import JiraCloud

    client = JiraCloud(url, username=ADMIN_EMAIL, password=ADMIN_TOKEN, api_version=3)
    for number in range(count):
        answer = client.create_issue(data={"fields": fields_for(templates, number, names=False)})
        if not answer or "key" not in answer:
            raise RuntimeError(f"atlassian-python-api create_issue answered {answer!r}")
    client.close()


class Pacer:
    """Start times at least 1/rate apart, across threads (a token bucket holding one token)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        time.sleep(max(0.0, slot - now))

    def hold(self, seconds: float) -> None:
        """A 429's Retry-After holds every thread, not just the one that got it."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def raw_loop(
    url: str, templates: list[dict[str, Any]], count: int, concurrency: int, rate: float = 10.0
) -> None:
    """`concurrency` threads share one keep-alive client and take issue numbers in turn."""
    pacer = Pacer(rate)
    numbers = iter(range(count))
    lock = threading.Lock()
    failures: list[BaseException] = []
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx2.Client(
        base_url=url, auth=(ADMIN_EMAIL, ADMIN_TOKEN), timeout=60.0, limits=limits
    )

    def work() -> None:
        try:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                body = {"fields": fields_for(templates, number, names=False)}
                while True:
                    pacer.wait()
                    answer = client.post("/rest/api/3/issue", json=body)
                    if answer.status_code != 429:
                        break
                    pacer.hold(float(answer.headers.get("Retry-After", "1")))
                if answer.status_code != 201:
                    raise RuntimeError(f"create answered {answer.status_code}: {answer.text}")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    if failures:
        raise failures[0]


PEERS: dict[str, tuple[str, Runner]] = {
    "jira-defaults": ("pycontribs jira 3.10, defaults", jira_defaults),
    "jira-tuned": ("pycontribs jira 3.10, tuned", jira_tuned),
    "atlassian": ("atlassian-python-api, JiraCloud v3", atlassian_v3),
    "raw": ("raw httpx loop", raw_loop),
}


def quiet_libraries() -> None:
    """The libraries log each retry at WARNING; the sandbox's counts say how many there were."""
    for name in ("jira", "atlassian", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
