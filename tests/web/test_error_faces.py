"""The API and the panel map the exception hierarchy in one table each: an error a route lets
through becomes a problem document under /api/ and an error page in the panel."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from admin_fixtures import open_context
from fastapi.testclient import TestClient

from sentineliq.errors import SentinelIQError
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.net import BlockedTargetError
from sentineliq.services.identity import (
    AccessDenied,
    InvalidFieldError,
    NotVisible,
    TooManyAttempts,
)
from sentineliq.services.providers import ProviderConfigError
from sentineliq.storage.errors import (
    AlreadyExistsError,
    InvalidStateError,
    LeaseLostError,
    NotFoundError,
)
from sentineliq.web.app import create_app

ERRORS: dict[str, Exception] = {
    "not-visible": NotVisible("workspace not found"),
    "denied": AccessDenied("this requires the replay permission"),
    "throttled": TooManyAttempts(30),
    "not-found": NotFoundError("delivery 'd1' not found"),
    "exists": AlreadyExistsError("workspace 'SOC' exists already"),
    "state": InvalidStateError("delivery d1 is delivered; only dead deliveries are replayed"),
    "field": InvalidFieldError("email", "not a valid email address"),
    "config": ProviderConfigError("jira", ["base_url: is required"]),
    "provider": ProviderError(ErrorKind.UNAVAILABLE, "Jira answered 503", status=503),
    "blocked": BlockedTargetError("10.0.0.1", "a private address"),
    "lease": LeaseLostError("the lease on d1 expired"),  # a bug if a route lets it through
    "bare": SentinelIQError("no branch"),
}

# name -> (status, problem type, detail) for the API; (status, title, message) for the panel
API = {
    "not-visible": (404, "not-found", "no such workspace"),
    "denied": (403, "forbidden", "this requires the replay permission"),
    "throttled": (429, "too-many-requests", "too many failed sign-ins; try again in 30 seconds"),
    "not-found": (404, "not-found", "delivery 'd1' not found"),
    "exists": (409, "conflict", "workspace 'SOC' exists already"),
    "state": (409, "conflict", str(ERRORS["state"])),
    "field": (422, "validation", "email: not a valid email address"),
    "config": (422, "validation", "invalid jira configuration: base_url: is required"),
    "provider": (502, "ticket-system", "Jira answered 503"),
    "blocked": (502, "ticket-system", "refused to connect to 10.0.0.1: a private address"),
}
PANEL = {
    "not-visible": (404, "Not found", "There is no such workspace, or you are not a member of it."),
    "denied": (403, "Not allowed", "this requires the replay permission"),
    "throttled": (429, "Too many attempts", str(ERRORS["throttled"])),
    "not-found": (404, "Not found", "delivery 'd1' not found"),
    "exists": (409, "Conflict", "workspace 'SOC' exists already"),
    "state": (409, "Conflict", str(ERRORS["state"])),
    "field": (400, "Request refused", "email: not a valid email address"),
    "config": (400, "Request refused", str(ERRORS["config"])),
    "provider": (502, "The ticket system failed", "Jira answered 503"),
    "blocked": (502, "The ticket system failed", str(ERRORS["blocked"])),
}
UNEXPECTED = ["lease", "bare"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # One app for the module: the routes only raise, nothing is stored.
    tmp_path = tmp_path_factory.mktemp("faces")
    context = open_context(tmp_path, f"sqlite:///{tmp_path / 'test.db'}")
    app = create_app(context)

    # Test-only routes on the real app: each lets one error through.
    @app.get("/api/v1/raise/{name}")
    @app.get("/raise/{name}")
    def raise_it(name: str) -> None:
        raise ERRORS[name]

    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        context.close()


@pytest.mark.parametrize("name", sorted(API))
def test_the_api_answers_each_branch_with_its_problem(client: TestClient, name: str) -> None:
    response = client.get(f"/api/v1/raise/{name}")
    status, kind, detail = API[name]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"https://sentineliq.dev/problems/{kind}"
    assert (problem["status"], problem["detail"]) == (status, detail)


def test_a_refused_field_is_named_in_the_problem(client: TestClient) -> None:
    errors = client.get("/api/v1/raise/field").json()["errors"]
    assert errors == [{"field": "email", "message": "not a valid email address"}]


@pytest.mark.parametrize("name", sorted(PANEL))
def test_the_panel_shows_each_branch_as_its_page(client: TestClient, name: str) -> None:
    response = client.get(f"/raise/{name}")
    status, title, message = PANEL[name]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    assert f"Error {status}" in page
    assert f"<h1>{title}</h1>" in page
    assert message in page


@pytest.mark.parametrize("name", UNEXPECTED)
@pytest.mark.parametrize("path", ["/api/v1/raise/", "/raise/"])
def test_an_error_no_table_lists_is_a_bare_500(client: TestClient, path: str, name: str) -> None:
    response = client.get(path + name)
    assert response.status_code == 500
    assert response.json()["detail"] == "an internal error occurred; it has been logged"
