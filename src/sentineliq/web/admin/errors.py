"""Errors an admin page raises, and the pages (or redirects) they become."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.web.admin.rendering import render


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class PageError(Exception):
    """A plain error page with a status code and a human message."""

    status_code = 400
    title = "Request refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(PageError):
    status_code = 403
    title = "Not allowed"


class CsrfRejected(Forbidden):
    title = "Form expired or forged"

    def __init__(self) -> None:
        super().__init__(
            "This form could not be verified (its security token is missing, wrong or expired). "
            "Go back, reload the page and try again."
        )


class PageNotFound(PageError):
    status_code = 404
    title = "Not found"


def _login_redirect(request: Request, _exc: Exception) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    # Only a local path may come back as `next` (see login.safe_next).
    location = "/login" if request.method != "GET" else f"/login?next={quote(target, safe='')}"
    response = RedirectResponse(location, status_code=303)
    response.delete_cookie("siq_session", path="/")
    return response


def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(
        request,
        "error.html",
        {"title": exc.title, "message": exc.message, "status": exc.status_code},
        status_code=exc.status_code,
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(PageError, _error_page)
