"""schemathesis against the API's own OpenAPI document, in process: no 5xx, and every answer
(status, content type, body) conforms to the document. Authenticated as a workspace admin
through the session cookie (with its CSRF header), so every operation is reachable."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.web.app import create_app


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: Any, value: Any) -> bytes:
    records = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(record) for record in records).encode()


@pytest.fixture
def fuzz_target(
    app_context: AppContext, people: Any, jira_settings: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    workspace = people.workspace("Fuzz")
    configure(app_context, workspace.id, "jira", jira_settings(), actor="t")
    admin = people.user("admin@fuzz.test", {workspace.id: Role.ADMIN})
    return {
        "schema": schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(app_context)),
        "headers": admin.headers,
        "workspace_id": workspace.id,
    }


# SQLite only: the fuzzing is about the HTTP contract; the matrix covers PostgreSQL too.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_conforms_to_its_openapi(fuzz_target: dict[str, Any]) -> None:
    operations = [result.ok() for result in fuzz_target["schema"].get_all_operations()]
    assert len(operations) == 16
    for operation in operations:
        _fuzz(operation, fuzz_target)


def _fuzz(operation: Any, target: dict[str, Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # Random workspace ids only ever meet 404: aim at the real one and its provider.
        if "workspace_id" in (case.path_parameters or {}):
            case.path_parameters["workspace_id"] = target["workspace_id"]
        if "name" in (case.path_parameters or {}):
            case.path_parameters["name"] = "jira"
        excluded = []
        if case.method == "PUT":
            # Provider settings are checked beyond what JSON Schema can say (https, a public
            # host, a project key's shape): schema-valid settings may rightly be refused (422).
            excluded.append(positive_data_acceptance)
        case.call_and_validate(headers=target["headers"], excluded_checks=excluded)

    run()
