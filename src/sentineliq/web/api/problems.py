"""RFC 9457 problem details: every error the service answers is `application/problem+json`.

Handlers cover our own refusals (`ApiProblem`), FastAPI's request validation, Starlette's HTTP
errors (unknown routes, wrong methods) and anything unexpected (a bare 500 that reveals nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

from sentineliq.errors import (
    ConfigurationError,
    InputError,
    SentinelIQError,
    TicketSystemError,
)
from sentineliq.logs import scrub
from sentineliq.services.identity import (
    AccessDenied,
    InvalidFieldError,
    NotVisible,
    TooManyAttempts,
)
from sentineliq.storage.errors import AlreadyExistsError, InvalidStateError, NotFoundError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://sentineliq.dev/problems/"

log = structlog.get_logger("sentineliq.web")


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending input, '' for the whole input.")
    message: str


class Problem(BaseModel):
    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class ApiProblem(SentinelIQError):
    """Raise to answer with a problem document; `detail` must be safe to show the caller."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = list(errors)
        self.headers = headers


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Iterable[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=TYPE_BASE + (kind or _slug(status)),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=list(errors),
    )
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def validation_field_errors(errors: Sequence[Any]) -> list[FieldError]:
    """FastAPI/pydantic error dicts -> field errors, never echoing the input values."""
    found: list[FieldError] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "is not a known field"
        found.append(FieldError(field=".".join(loc), message=message))
    return found


async def _api_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        exc.status, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers
    )


# The error hierarchy -> (status, problem type) for an error a route lets through; the first
# entry it descends from wins. Routes still raise ApiProblem where they can say more (which
# provider, which alert). Anything not listed is a bug: `_unexpected`'s bare 500.
PROBLEM_TYPES: tuple[tuple[type[SentinelIQError], int, str], ...] = (
    (NotVisible, 404, "not-found"),  # never reveal that the workspace exists
    (AccessDenied, 403, "forbidden"),
    (TooManyAttempts, 429, "too-many-requests"),
    (NotFoundError, 404, "not-found"),
    (AlreadyExistsError, 409, "conflict"),
    (InvalidStateError, 409, "conflict"),
    (InputError, 422, "validation"),
    (ConfigurationError, 422, "validation"),
    (TicketSystemError, 502, "ticket-system"),
)


def problem_for(exc: SentinelIQError) -> ApiProblem | None:
    """The problem an error of the hierarchy answers as, or None when it is not an expected one.

    The messages of these classes are written to be shown (no secrets); they are scrubbed anyway.
    """
    for branch, status, kind in PROBLEM_TYPES:
        if isinstance(exc, branch):
            detail = "no such workspace" if isinstance(exc, NotVisible) else scrub(str(exc))
            errors = []
            if isinstance(exc, InvalidFieldError):
                errors.append(FieldError(field=exc.field, message=exc.message))
            return ApiProblem(status, detail, kind=kind, errors=errors)
    return None


async def error_problem(request: Request, exc: Exception) -> JSONResponse:
    """The handler for the hierarchy's errors under the API (installed by `web.app`)."""
    problem = problem_for(exc) if isinstance(exc, SentinelIQError) else None
    if problem is None:
        return await _unexpected(request, exc)
    return await _api_problem(request, problem)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        422,
        "the request does not match the operation's parameters or body",
        kind="validation",
        errors=validation_field_errors(exc.errors()),
    )


def _served_paths(routes: Iterable[BaseRoute]) -> Iterator[tuple[re.Pattern[str], set[str]]]:
    """(path regex, methods) of every route, with FastAPI's included routers flattened."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):  # FastAPI (0.165+) keeps included routers as one lazy route
            for context in contexts():
                yield context.path_regex, set(context.methods or ())
        elif isinstance(route, Route) and route.methods:  # APIRoute is a Route
            yield route.path_regex, set(route.methods)


def allowed_methods(request: Request) -> list[str]:
    """Every method served at this request's path, for a 405's Allow header.

    Starlette's 405 names only the methods of the first route whose path matched, but FastAPI
    makes one route per operation (a path's GET, PUT and DELETE are three routes). Where a
    literal path also matches a template (POST .../deliveries/replay-dead and
    GET .../deliveries/{delivery_id}), the literal one is the resource: fewest parameters wins.
    """
    path = request.scope["path"].removeprefix(request.scope.get("root_path", ""))
    by_specificity: dict[int, set[str]] = {}
    for regex, methods in _served_paths(request.app.router.routes):
        if regex.match(path):
            by_specificity.setdefault(regex.groups, set()).update(methods)
    return sorted(by_specificity[min(by_specificity)]) if by_specificity else []


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        detail = "no such resource"
    elif exc.status_code == 405:
        detail = "this resource does not support that method"
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem_response(exc.status_code, detail, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged (scrubbed) for operators; the caller learns nothing about the internals.
    log.error(
        "http.unhandled_error",
        path=request.url.path,
        error_type=type(exc).__name__,
        error=scrub(str(exc)),
    )
    return problem_response(500, "an internal error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
