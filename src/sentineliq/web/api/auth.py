"""Who is calling and what they may do: API keys (Bearer) or the admin session cookie.

A caller without valid credentials gets 401; a workspace the caller cannot see is 404 (its
existence is never revealed); a visible workspace without the permission is 403. A browser session
may read freely, but a state-changing call with the cookie must carry the session's CSRF token in
`X-CSRF-Token`, since the browser attaches cookies to cross-site requests by itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from sentineliq.services.context import AppContext
from sentineliq.services.identity import (
    AccessDenied,
    IdentityService,
    NotVisible,
    Permission,
    Principal,
    audit_origin,
)
from sentineliq.storage.audit import AuditEntry, AuditRepository
from sentineliq.web.api.problems import ApiProblem
from sentineliq.web.context import app_context

SESSION_COOKIE = "siq_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="sentineliq"'}

WorkspaceId = Annotated[
    str,
    Path(min_length=1, max_length=64, description="The workspace id.", pattern=r"^[A-Za-z0-9-]+$"),
]


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, kind="unauthorized", headers=_WWW_AUTHENTICATE)


def authenticate(request: Request) -> Principal:
    """The caller, from `Authorization: Bearer siq_...` or the `siq_session` cookie.

    Checked once per request: the body-limit middleware authenticates a body-bearing call before
    its body is read, and the route's dependency then finds the answer in the request state.
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is None:
        known = request.state.principal = _credentials_principal(request)
    return known


def _credentials_principal(request: Request) -> Principal:
    identity = IdentityService(app_context(request))
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise _unauthorized("use 'Authorization: Bearer <API key>'")
        principal = identity.api_key_principal(credentials.strip())
        if principal is None:
            raise _unauthorized("the API key is unknown or revoked")
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = identity.session_principal(token)
        if found is None:
            raise _unauthorized("the session has expired; sign in again")
        principal, session = found
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise ApiProblem(
                    403,
                    f"a state-changing call with the session cookie needs the {CSRF_HEADER} header",
                    kind="csrf",
                )
        return principal
    raise _unauthorized("credentials are required (an API key as a Bearer token)")


@dataclass(frozen=True)
class Caller:
    """An authenticated, authorized caller acting in one workspace."""

    principal: Principal
    workspace_id: str
    app: AppContext
    ip: str | None
    user_agent: str | None

    @property
    def actor(self) -> str:
        return self.principal.actor

    def audit(self, action: str, *, target: str | None = None, **details: Any) -> None:
        """Record a state change with who and from where (the repositories record what)."""
        entry = self.audit_entry(action, target=target, **details)
        AuditRepository(self.app.db).record(
            entry.action,
            actor=entry.actor,
            workspace_id=entry.workspace_id,
            target=entry.target,
            details=entry.details,
        )

    def audit_entry(self, action: str, *, target: str | None = None, **details: Any) -> AuditEntry:
        """The same entry, for a repository to write in its own transaction."""
        return AuditEntry(
            action,
            actor=self.actor,
            workspace_id=self.workspace_id,
            target=target,
            details={**details, **audit_origin(self.ip, self.user_agent)},
        )


def require(permission: Permission) -> Callable[..., Caller]:
    """A dependency: the caller, allowed `permission` in the path's workspace."""

    def dependency(
        request: Request,
        workspace_id: WorkspaceId,
        principal: Annotated[Principal, Depends(authenticate)],
    ) -> Caller:
        app = app_context(request)
        try:
            IdentityService(app).authorize(principal, workspace_id, permission)
        except NotVisible:
            raise ApiProblem(404, "no such workspace", kind="not-found") from None
        except AccessDenied:
            raise ApiProblem(
                403, f"your role in this workspace does not allow {permission.value}"
            ) from None
        return Caller(
            principal=principal,
            workspace_id=workspace_id,
            app=app,
            ip=request.client.host if request.client is not None else None,
            user_agent=(request.headers.get("user-agent") or "")[:500] or None,
        )

    return dependency


Viewer = Annotated[Caller, Depends(require(Permission.VIEW))]
Ingester = Annotated[Caller, Depends(require(Permission.INGEST))]
ProviderManager = Annotated[Caller, Depends(require(Permission.MANAGE_PROVIDERS))]
Replayer = Annotated[Caller, Depends(require(Permission.REPLAY))]
