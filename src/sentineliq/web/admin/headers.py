"""Security headers for every admin response (pages, redirects, static files)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentineliq.web.admin.rendering import STATIC_PATH

_PAGE_HEADERS = {
    # No inline script or style anywhere: the panel's CSS and JS are files under 'self'.
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


def is_admin_path(path: str) -> bool:
    return (
        path in ("/", "/login", "/logout")
        or path.startswith("/w/")
        or path.startswith(STATIC_PATH + "/")
    )


class AdminSecurityHeaders:
    """Adds the headers to admin paths only; the JSON API and /docs set their own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(STATIC_PATH + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _PAGE_HEADERS.items():
                    headers[name] = value
                if not static:
                    # Pages show workspace data: never keep them in a shared or back-button cache.
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
