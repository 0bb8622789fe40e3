"""Signing in and out, and the landing page."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sentineliq.services.identity import IdentityService, TooManyAttempts
from sentineliq.web.admin.context import client_origin, identity
from sentineliq.web.admin.csrf import (
    check_login_token,
    check_session_token,
    login_nonce,
    login_token,
    posted_form,
    set_login_cookie,
)
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.session import (
    COOKIE,
    SignedIn,
    clear_session_cookie,
    current_session,
    is_https,
    set_session_cookie,
    signed_in,
)

router = APIRouter(include_in_schema=False)

BAD_LOGIN = "Wrong email or password."
# A browser that signed in as an address: later sign-ins from it skip that address's delay
# (OWASP "device cookies"). Only the login form needs it, hence its path.
DEVICE_COOKIE = "siq_device"


def safe_next(value: object) -> str:
    """Only a local path: a crafted link must not turn the login into an open redirect."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and "\n" not in value
        and "\r" not in value
    ):
        return value
    return "/"


def _login_page(
    request: Request, *, next_path: str, email: str = "", error: str = "", status_code: int = 200
) -> Response:
    nonce = login_nonce(request)
    response = render(
        request,
        "login.html",
        {
            "title": "Sign in",
            "next": next_path,
            "email": email,
            "error": error,
            "login_token": login_token(request, nonce),
        },
        status_code=status_code,
    )
    set_login_cookie(request, response, nonce)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
def login(request: Request, form: Annotated[FormData, Depends(posted_form)]) -> Response:
    check_login_token(request, form)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(form.get("next"))
    service = identity(request)
    origin = client_origin(request)
    # The service audits failed logins itself, with where they came from.
    try:
        user = service.authenticate(
            email,
            password,
            ip=origin["ip"],
            user_agent=origin["user_agent"],
            device_token=request.cookies.get(DEVICE_COOKIE),
            session_token=request.cookies.get(COOKIE),
        )
    except TooManyAttempts as refused:
        response = _login_page(
            request,
            next_path=next_path,
            email=email,
            error=f"Too many failed sign-ins. Try again in {_wait_text(refused.retry_after_s)}.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after_s)
        return response
    if user is None:
        return _login_page(
            request, next_path=next_path, email=email, error=BAD_LOGIN, status_code=401
        )
    session = service.start_session(user.id, ip=origin["ip"], user_agent=origin["user_agent"])
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(request, response, session)
    _set_device_cookie(request, response, service, user.email)
    return response


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _set_device_cookie(
    request: Request, response: Response, service: IdentityService, email: str
) -> None:
    # Kept across sign-outs on purpose: the browser stays proven for the address.
    response.set_cookie(
        DEVICE_COOKIE,
        service.issue_device_token(email),
        max_age=int(service.device_token_lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/login",
    )


@router.post("/logout")
def logout(request: Request, form: Annotated[FormData, Depends(posted_form)]) -> Response:
    signed = current_session(request)
    if signed is not None:
        check_session_token(signed, form)
        origin = client_origin(request)
        identity(request).end_session(
            signed.token, ip=origin["ip"], user_agent=origin["user_agent"]
        )
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/")
def home(request: Request, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    mine = identity(request).workspaces_of(signed.user_id)
    if mine:
        return RedirectResponse(f"/w/{mine[0][0].id}/deliveries", status_code=303)
    return render(request, "home.html", {"title": "Welcome", "signed": signed})


@router.get("/w/{workspace_id}")
def workspace_home(workspace_id: str) -> Response:
    return RedirectResponse(f"/w/{workspace_id}/deliveries", status_code=303)
