"""Request size limits and credential checks before any body is read (pure ASGI middleware).

FastAPI reads a JSON or form body before it runs the dependencies that authenticate, and Starlette
reads it whole: without this, anyone who can reach the port can make the server hold a body as
large as they like. This middleware, in front of every route:

1. answers 413 at once when `Content-Length` is over the route's limit, reading nothing;
2. answers a body-bearing request without valid credentials, on an API workspace route, a
   sender URL (/api/v1/hooks/<token>) or a signed-in panel POST, exactly as the route would
   (401 problem+json, or the redirect to the login page), before reading its body: the
   credentials are checked with the same code;
3. counts a chunked or streamed body as it arrives, and answers 413 as soon as it passes the
   limit.

Whenever a response goes out before the body was read to its end, it carries
`Connection: close`, so uvicorn closes the connection instead of reading on to drain the body.
The limits come from `Settings.limits` (SENTINELIQ_MAX_BODY_BYTES for every route,
SENTINELIQ_MAX_INGEST_BODY_BYTES for alert ingest).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentineliq.errors import SentinelIQError
from sentineliq.services.context import AppContext
from sentineliq.web.admin.errors import LoginRequired
from sentineliq.web.admin.session import clear_session_cookie, current_session
from sentineliq.web.api.auth import authenticate
from sentineliq.web.api.problems import ApiProblem, FieldError, problem_response
from sentineliq.web.api.url_tokens import hook_caller

BODY_SETTING = "SENTINELIQ_MAX_BODY_BYTES"
INGEST_SETTING = "SENTINELIQ_MAX_INGEST_BODY_BYTES"
# Alert ingest, native or through an input (an Alertmanager group can be large).
_INGEST_PATH = re.compile(r"^/api/v1/workspaces/[^/]+/(?:alerts|inputs/[^/]+)/?$")
# A sender URL (/api/v1/hooks/<token>): ingest through an input, its token the credential.
_HOOK_PATH = re.compile(r"^/api/v1/hooks/(?P<token>[^/]+)$")
# Jira's webhook payloads carry the whole issue (description included): more than 64 KiB at
# times, and the sender cannot be asked to send less. Signed, so refused unread if forged.
_WEBHOOK_PATH = re.compile(r"^/api/v1/webhooks/[^/]+/[^/]+/?$")
WEBHOOK_BODY_MAX_BYTES = 1024 * 1024
# Evidence file uploads (multipart): the file's own limit plus room for the form's other parts.
# (the API's route and the admin panel's upload form).
_EVIDENCE_PATH = re.compile(r"^/(?:api/v1/workspaces|w)/[^/]+/alerts/[^/]+/evidence-files/?$")
EVIDENCE_SETTING = "SENTINELIQ_EVIDENCE_MAX_BYTES"
MULTIPART_SLACK_BYTES = 64 * 1024
_API_WORKSPACES = "/api/v1/workspaces/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What the JSON API and /docs add to every answer (web.app): a refusal made here carries it too.
_PROBLEM_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


class _BodyTooLarge(SentinelIQError):
    """Raised into the app when the body passes the limit, after the 413 was sent."""


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


def _too_large(limit: int, setting: str) -> Response:
    headers = {**_PROBLEM_HEADERS, "connection": "close"}
    if setting == EVIDENCE_SETTING:
        file_limit = limit - MULTIPART_SLACK_BYTES
        message = (
            f"the file is larger than {_size(file_limit)}, the limit for evidence files "
            f"(set by {setting})"
        )
        errors = [FieldError(field="body.file", message=message)]
        return problem_response(413, f"file: {message}", errors=errors, headers=headers)
    detail = (
        f"the request body is larger than {_size(limit)}, the limit for this route "
        f"(set by {setting})"
    )
    return problem_response(413, detail, headers=headers)


class BodyLimit:
    """The middleware; `context.settings.limits` holds the limits."""

    def __init__(self, app: ASGIApp, context: AppContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.context.settings.limits
        method = scope["method"]
        path = scope["path"]
        if method == "POST" and (_INGEST_PATH.match(path) or _HOOK_PATH.match(path)):
            limit, setting = limits.ingest_body_max_bytes, INGEST_SETTING
        elif method == "POST" and _WEBHOOK_PATH.match(path):
            limit, setting = WEBHOOK_BODY_MAX_BYTES, "the webhook receiver (fixed)"
        elif method == "POST" and _EVIDENCE_PATH.match(path):
            limit = self.context.settings.evidence.max_bytes + MULTIPART_SLACK_BYTES
            setting = EVIDENCE_SETTING
        else:
            limit, setting = limits.body_max_bytes, BODY_SETTING
        headers = Headers(scope=scope)
        length = _content_length(headers)
        if length is not None and length > limit:
            await _too_large(limit, setting)(scope, receive, send)
            return
        has_body = (length is not None and length > 0) or "transfer-encoding" in headers
        if has_body:
            refusal = await _refusal(scope, method, path)
            if refusal is not None:
                refusal.headers["connection"] = "close"
                await refusal(scope, receive, send)
                return
        await _Counted(self.app, limit, setting, has_body)(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    # uvicorn (h11) refuses a malformed Content-Length before the app sees it.
    return int(raw) if raw is not None and raw.strip().isdigit() else None


async def _refusal(scope: Scope, method: str, path: str) -> Response | None:
    """The answer the route would give a caller without valid credentials, or None."""
    request = Request(scope)
    if path.startswith(_API_WORKSPACES):
        try:
            await run_in_threadpool(authenticate, request)
        except ApiProblem as problem:  # 401, or 403 for a session call without its CSRF header
            return await _handled(request, problem)
        return None
    hook = _HOOK_PATH.match(path) if method == "POST" else None
    if hook is not None:
        try:
            await run_in_threadpool(hook_caller, request, hook["token"])
        except ApiProblem as problem:  # 401: unknown or revoked, alike
            return await _handled(request, problem)
        return None
    if method in _SAFE_METHODS or path == "/login":
        return None
    if path == "/logout":
        if await run_in_threadpool(current_session, request) is None:
            # What the logout route answers when there is no session to end.
            response = RedirectResponse("/login", status_code=303)
            clear_session_cookie(request, response)
            return response
        return None
    if path.startswith("/w/") and await run_in_threadpool(current_session, request) is None:
        return await _handled(request, LoginRequired())
    return None


async def _handled(request: Request, exc: Exception) -> Response:
    """The response the application's own exception handler makes of `exc`."""
    handler: Any = request.app.exception_handlers[type(exc)]
    response = handler(request, exc)
    if inspect.isawaitable(response):
        response = await response
    assert isinstance(response, Response)
    return response


class _Counted:
    """One request through the app with its body counted as it is received."""

    def __init__(self, app: ASGIApp, limit: int, setting: str, has_body: bool) -> None:
        self.app = app
        self.limit = limit
        self.setting = setting
        self.received = 0
        self.complete = not has_body  # the whole body was received
        self.started = False  # a response has started
        self.answered = False  # the 413 went out; what the app sends is dropped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> Message:
            if self.answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
            if self.received > self.limit:
                self.complete = False  # the rest is left unread
                if self.started:  # too late for a 413: the app sees the client go away
                    self.answered = True
                    return {"type": "http.disconnect"}
                self.answered = True
                await _too_large(self.limit, self.setting)(scope, receive, send)
                raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if self.answered and not self.started:
                return
            if message["type"] == "http.response.start":
                self.started = True
                if not self.complete:
                    # Left unread: close rather than have uvicorn read on to drain it.
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not self.answered:
                raise
