"""CSRF tokens for every admin form.

Signed-in forms carry the session's own token (`WebSession.csrf_token`, created with the
session). The login form has no session yet, so it uses a double submit: a random nonce in a
SameSite=Strict cookie, and in the form the same nonce signed with this process's key.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from sentineliq.web.admin.errors import CsrfRejected
from sentineliq.web.admin.session import SignedIn, is_https, signed_in

FIELD = "csrf_token"
LOGIN_COOKIE = "siq_login_csrf"
LOGIN_TOKEN_MAX_AGE_S = 3600


def install_login_key(app: FastAPI) -> None:
    # A fresh key per process: a restart only expires open login forms.
    app.state.admin_login_signer = URLSafeTimedSerializer(
        secrets.token_bytes(32), salt="sentineliq-admin-login"
    )


def _signer(request: Request) -> URLSafeTimedSerializer:
    signer = getattr(request.app.state, "admin_login_signer", None)
    if not isinstance(signer, URLSafeTimedSerializer):
        raise RuntimeError("sentineliq.web.admin.install(app) was not called")
    return signer


def login_nonce(request: Request) -> str:
    """The login form's nonce: the browser's current one, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def login_token(request: Request, nonce: str) -> str:
    """The form half of the login token: the nonce, signed and timestamped."""
    token = _signer(request).dumps(nonce)
    assert isinstance(token, str)
    return token


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_TOKEN_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/login",
    )


def check_login_token(request: Request, form: FormData) -> None:
    submitted = form.get(FIELD)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not isinstance(submitted, str) or not nonce:
        raise CsrfRejected()
    try:
        signed_nonce = _signer(request).loads(submitted, max_age=LOGIN_TOKEN_MAX_AGE_S)
    except BadSignature:
        raise CsrfRejected() from None
    if not isinstance(signed_nonce, str) or not hmac.compare_digest(signed_nonce, nonce):
        raise CsrfRejected()


def check_session_token(signed: SignedIn, form: FormData) -> None:
    submitted = form.get(FIELD)
    if not isinstance(submitted, str) or not hmac.compare_digest(
        submitted.encode(), signed.session.csrf_token.encode()
    ):
        raise CsrfRejected()


async def posted_form(request: Request) -> FormData:
    return await request.form()


def verified_form(
    signed: Annotated[SignedIn, Depends(signed_in)],
    form: Annotated[FormData, Depends(posted_form)],
) -> FormData:
    """FastAPI dependency for every signed-in POST: the form, once its CSRF token matched."""
    check_session_token(signed, form)
    return form


VerifiedForm = Annotated[FormData, Depends(verified_form)]
