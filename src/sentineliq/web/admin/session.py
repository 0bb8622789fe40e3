"""The admin session: the `siq_session` cookie, resolved through IdentityService."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from sentineliq.services.identity import Principal, WebSession
from sentineliq.web.admin.context import identity
from sentineliq.web.admin.errors import LoginRequired

COOKIE = "siq_session"


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session: WebSession
    token: str = ""  # the cookie value; kept out of repr because it is a bearer secret

    def __repr__(self) -> str:
        return f"SignedIn(principal={self.principal!r})"

    @property
    def user_id(self) -> str:
        assert self.principal.user_id is not None
        return self.principal.user_id


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, session: WebSession) -> None:
    # A browser-session cookie: the server enforces the idle and absolute expiry.
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )


def current_session(request: Request) -> SignedIn | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = identity(request).session_principal(token)
    if found is None:
        return None
    principal, session = found
    if principal.kind != "user" or principal.user_id is None:
        return None
    return SignedIn(principal, session, token)


def signed_in(request: Request) -> SignedIn:
    """FastAPI dependency: the signed-in user, or a redirect to the login page."""
    found = current_session(request)
    if found is None:
        raise LoginRequired()
    return found
