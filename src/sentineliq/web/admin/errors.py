"""Errors an admin page raises, and the pages (or redirects) they become."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.errors import (
    AccessError,
    ConfigurationError,
    InputError,
    SentinelIQError,
    TicketSystemError,
)
from sentineliq.services.identity import AccessDenied, NotVisible, TooManyAttempts
from sentineliq.storage.errors import AlreadyExistsError, InvalidStateError, NotFoundError
from sentineliq.web.admin.rendering import render


class LoginRequired(AccessError):
    """No valid session: the browser is sent to the login page."""


class PageError(SentinelIQError):
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


# The error hierarchy -> (status, title) of the page for an error a page lets through; the first
# entry it descends from wins. Pages still raise PageError where they can say more. Anything not
# listed is a bug: the service's bare 500.
PAGES: tuple[tuple[type[SentinelIQError], int, str], ...] = (
    (NotVisible, 404, "Not found"),  # never reveal that the workspace exists
    (AccessDenied, 403, "Not allowed"),
    (TooManyAttempts, 429, "Too many attempts"),
    (NotFoundError, 404, "Not found"),
    (AlreadyExistsError, 409, "Conflict"),
    (InvalidStateError, 409, "Conflict"),
    (InputError, 400, "Request refused"),
    (ConfigurationError, 400, "Request refused"),
    (TicketSystemError, 502, "The ticket system failed"),
)
NOT_VISIBLE = "There is no such workspace, or you are not a member of it."


def page_for(exc: SentinelIQError) -> PageError | None:
    """The error page an error of the hierarchy becomes, or None when it is not an expected one."""
    for branch, status, title in PAGES:
        if isinstance(exc, branch):
            page = PageError(NOT_VISIBLE if isinstance(exc, NotVisible) else str(exc))
            page.status_code, page.title = status, title
            return page
    return None


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


def error_page(request: Request, exc: Exception) -> Response | None:
    """The page for an error of the hierarchy, or None when it is not an expected one."""
    page = page_for(exc) if isinstance(exc, SentinelIQError) else None
    return None if page is None else _error_page(request, page)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(PageError, _error_page)
