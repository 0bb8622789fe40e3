"""Fixtures for the Jira sandbox tests: a started sandbox and real HTTP clients against it."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox, ManualClock


def issue_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": "SEC"},
        "issuetype": {"id": "10001"},
        "summary": "Suspicious login from a new country",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[JiraSandbox]:
    with JiraSandbox(clock=clock) as sb:
        yield sb


# Building a TLS context per client costs ~70 ms; the sandbox is plain HTTP, so share one.
_TLS = ssl.create_default_context()


def _client(sb: JiraSandbox, auth: tuple[str, str] | None) -> httpx2.Client:
    return httpx2.Client(base_url=sb.url, auth=auth, timeout=10.0, verify=_TLS)


@pytest.fixture
def make_client(sandbox: JiraSandbox) -> Iterator[Callable[..., httpx2.Client]]:
    """Build extra clients (closed after the test): make_client(auth=(email, token), **kw)."""
    clients: list[httpx2.Client] = []

    def _make(auth: tuple[str, str] | None = None, **kwargs: Any) -> httpx2.Client:
        kwargs.setdefault("timeout", 10.0)
        c = httpx2.Client(base_url=sandbox.url, auth=auth, verify=_TLS, **kwargs)
        clients.append(c)
        return c

    yield _make
    for c in clients:
        c.close()


@pytest.fixture
def client(sandbox: JiraSandbox) -> Iterator[httpx2.Client]:
    with _client(sandbox, (ADMIN_EMAIL, ADMIN_TOKEN)) as c:
        yield c


@pytest.fixture
def anon(sandbox: JiraSandbox) -> Iterator[httpx2.Client]:
    with _client(sandbox, None) as c:
        yield c


@pytest.fixture
def readonly(sandbox: JiraSandbox) -> Iterator[httpx2.Client]:
    with _client(sandbox, ("readonly@sentineliq.test", "readonly-token")) as c:
        yield c


@pytest.fixture
def create(client: httpx2.Client) -> Callable[..., httpx2.Response]:
    """POST /rest/api/3/issue with the default valid fields, overridden by keyword."""

    def _create(
        *, properties: list[dict[str, Any]] | None = None, **fields: Any
    ) -> httpx2.Response:
        body: dict[str, Any] = {"fields": issue_fields(**fields)}
        if properties is not None:
            body["properties"] = properties
        return client.post("/rest/api/3/issue", json=body)

    return _create
