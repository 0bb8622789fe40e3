"""Security headers for the machine-facing answers (the JSON API, /healthz, /metrics, /docs)
and HSTS on https, as a pure ASGI middleware.

It was an `@app.middleware("http")` function: Starlette's BaseHTTPMiddleware runs every request
through a task group and memory streams, which cost more CPU than a single-alert ingest's own
work; wrapping `send` adds the same headers for a dictionary lookup.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_API_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
# /docs is one self-contained page: its only asset is an inline stylesheet, and it runs no script.
_DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
# Only on https answers (directly, or from a trusted proxy): over plain http browsers ignore it.
_HSTS = "max-age=31536000; includeSubDomains"


def machine_path(path: str) -> bool:
    """Answered for programs (JSON, problem documents), not for people in the panel."""
    return path.startswith("/api/") or path in ("/healthz", "/metrics", "/docs")


class ApiSecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        machine = machine_path(path)
        https = scope.get("scheme") == "https"
        if not (machine or https):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if machine:
                    for name, value in _API_HEADERS.items():
                        headers.setdefault(name, value)
                if path == "/docs":
                    headers["content-security-policy"] = _DOCS_CSP
                    headers["x-frame-options"] = "DENY"
                if https:
                    headers.setdefault("strict-transport-security", _HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
