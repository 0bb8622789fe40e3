"""Provider test helpers: sandbox credentials, a recording transport, request counting."""

from __future__ import annotations

import json
from typing import Any

import httpx2

ADMIN_EMAIL = "sandbox@sentineliq.test"
ADMIN_TOKEN = "sandbox-token"
ANALYST_EMAIL = "analyst@sentineliq.test"
PRIVATE_EMAIL = "private@sentineliq.test"
READONLY_EMAIL = "readonly@sentineliq.test"
READONLY_TOKEN = "readonly-token"


def config_data(sandbox: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "base_url": sandbox.url,
        "email": ADMIN_EMAIL,
        "api_token": ADMIN_TOKEN,
        "project_key": "SEC",
        "timeout_s": 5.0,
    }
    data.update(overrides)
    return data


class RecordingTransport(httpx2.BaseTransport):
    """Passes every request to the real transport and keeps the JSON bodies it sent."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, Any]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def calls(sandbox: Any, method: str, path_prefix: str) -> int:
    return sum(
        1 for r in sandbox.requests() if r.method == method and r.path.startswith(path_prefix)
    )
