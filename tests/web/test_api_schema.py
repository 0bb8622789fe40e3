"""The OpenAPI document tells the truth.

- schemathesis, in process against a real app on a real (SQLite) database, signed in as a
  workspace admin (session cookie and CSRF header), with every check it has: each operation
  through the coverage and fuzzing phases in positive and negative mode (the examples phase
  runs too, but the document carries no examples), then the stateful phase following the
  document's links (create -> read -> change -> delete).
- 405 answers name every method the path serves in `Allow`, for every route of the app.
- Provider settings have the provider's own schema: secrets write-only in requests, masked in
  answers.

Derandomized with a fixed seed, no example database and no schemathesis cache, so a run is the
same every time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events as events_module

from sentineliq.providers.jira.config import JiraConfig
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.web.api.problems import PROBLEM_MEDIA_TYPE
from sentineliq.web.app import create_app

SEED = 20261202
OPERATIONS = 49  # + webhooks (3), held tickets and recipe (5), alert status (3), custody (3),
# inputs (3), alert list (1), generic webhook and its mappings (7), OCSF input (1),
# evidence files (3), sender URLs (4)
MAX_EXAMPLES = 20  # per operation and phase; the whole run stays well under 90 s on 2 cores
STATEFUL_STEPS = 10
STATEFUL_EXAMPLES = 10

ALERTS = ("POST", "/api/v1/workspaces/{workspace_id}/alerts")
PROVIDER = ("PUT", "/api/v1/workspaces/{workspace_id}/providers/{name}")
ALERTMANAGER = ("POST", "/api/v1/workspaces/{workspace_id}/inputs/alertmanager")
OCSF = ("POST", "/api/v1/workspaces/{workspace_id}/inputs/ocsf")
# What is left out, per operation, each with its one-line reason. Every other check and phase
# runs on every operation.
OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    PROVIDER: {
        # positive_data_acceptance: settings are checked beyond what JSON Schema can say (the
        # base_url must be https and resolve to a public address, a gateway URL needs a cloud
        # id, ...), so schema-valid settings may rightly be refused with 422 and field errors.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    },
    ALERTS: {
        # negative_data_rejection: alerts are judged record by record; a body whose records are
        # all invalid (`null` lines, say) is still read and answered 207 with each refusal.
        "checks": {"negative_data_rejection": {"enabled": False}},
        # Negative coverage of the (large) alert schema: ~1,500 requests whose every verdict is
        # that unchecked 207; only time. The fuzzing phase still sends negative alerts.
        "phases": {"coverage": {"generation": {"mode": "positive"}}},
    },
    ALERTMANAGER: {
        # negative_data_rejection: as for alerts, each alert of the group is judged on its own;
        # one without a fingerprint is refused in a 207 naming the field, the rest stored.
        # positive_data_acceptance: unknown fields are allowed (Alertmanager and its look-alikes
        # add their own), and an integer beyond 64 bits in one is refused as unreadable JSON,
        # as in alerts; JSON Schema cannot bound every integer of an open object.
        "checks": {
            "negative_data_rejection": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
        },
    },
    OCSF: {
        # As for Alertmanager: each finding is judged on its own (one without finding_info.uid
        # is refused in a 207 naming it), and OCSF findings are open objects.
        "checks": {
            "negative_data_rejection": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
        },
    },
}


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: Any, value: Any) -> bytes:
    records = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(record) for record in records).encode()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    # SQLite only: this is about the HTTP contract; the storage tests cover PostgreSQL.
    return sqlite_url


@dataclass
class Target:
    app: FastAPI
    workspace_id: str
    session: str
    csrf_token: str
    jira_url: str


@pytest.fixture
def target(
    app_context: AppContext,
    people: Any,
    jira_settings: Callable[..., dict[str, Any]],
    jira_sandbox: JiraSandbox,
) -> Target:
    workspace = people.workspace("Fuzz")
    configure(app_context, workspace.id, "jira", jira_settings(), actor="t")
    admin = people.user("admin@fuzz.test", {workspace.id: Role.ADMIN})
    return Target(
        create_app(app_context),
        workspace.id,
        admin.session.token,
        admin.session.csrf_token,
        jira_sandbox.url,
    )


def _config(target: Target) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # nothing learnt by one run steers the next
            # The admin's session, the way the document declares it (the `session` cookie
            # scheme), so ignored_auth can take it away; the CSRF header goes with it.
            "auth": {"openapi": {"session": {"api_key": target.session}}},
            "headers": {"X-CSRF-Token": target.csrf_token},
            # Random workspace ids only ever meet 404: aim at the real one.
            "parameters": {"workspace_id": target.workspace_id},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {
                "stateful": {
                    "max-steps": STATEFUL_STEPS,
                    "generation": {"max-examples": STATEFUL_EXAMPLES},
                }
            },
            "operations": [
                {"include-method": method, "include-path": path, **override}
                for (method, path), override in OVERRIDES.items()
            ],
        }
    )


@dataclass
class Run:
    failures: list[str]  # every failed check and engine error, readable
    scenarios: dict[str, int]  # per phase
    transitions: int  # links the stateful phase could follow


def _run(schema: Any) -> Run:
    run = Run([], {}, 0)
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events_module.PhaseStarted) and event.payload is not None:
            run.transitions = event.payload.transitions_selected
        elif isinstance(event, events_module.ScenarioFinished):
            phase = event.phase.value
            run.scenarios[phase] = run.scenarios.get(phase, 0) + 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        run.failures.append(
                            f"[{phase}] {event.recorder.label}: {check.name}: {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events_module.NonFatalError | events_module.FatalError):
            run.failures.append(f"engine error: {event!r}")
        elif isinstance(event, events_module.EngineFinished):
            run.failures.extend(f"after run: {failure.title}" for failure in event.failures)
    return run


def fuzz_schema(target: Target) -> tuple[Any, list[str]]:
    """The schema under test, and the base_url of every provider setting the app accepted."""
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", target.app, config=_config(target)
    )
    saved: list[str] = []

    @schema.hook("map_case")
    def _aim_at_the_sandbox(_context: Any, case: Any) -> Any:
        # Settings the fuzzer means to be accepted point at the Jira sandbox with a short timeout:
        # the connection test must never reach a generated host on the network.
        body = case.body
        positive = case.meta is None or case.meta.generation.mode.value == "positive"
        settings = isinstance(body, dict) and isinstance(body.get("config"), dict)
        if (case.method, case.path) == PROVIDER and positive and settings:
            body["config"] = {**body["config"], "base_url": target.jira_url, "timeout_s": 5}
        return case

    @schema.hook("after_call")
    def _record_saved(_context: Any, case: Any, response: Any) -> None:
        if (case.method, case.path) == PROVIDER and response.status_code < 300:
            saved.append(case.body["config"].get("base_url"))

    return schema, saved


def test_every_operation_and_link_conforms_to_the_document(target: Target) -> None:
    schema, saved = fuzz_schema(target)
    assert len([result.ok() for result in schema.get_all_operations()]) == OPERATIONS
    run = _run(schema)
    assert not run.failures, "\n\n".join(run.failures)
    # Each phase ran (a phase with nothing to do would hide a broken document), and the
    # stateful phase had the document's links to follow (create -> show/change/delete).
    assert set(run.scenarios) >= {"coverage", "fuzzing", "stateful"}, run.scenarios
    assert run.transitions >= 22, run.transitions
    assert saved, "no provider settings were ever accepted"
    assert set(saved) == {target.jira_url}


# --- 405 answers ----------------------------------------------------------------------------------

PROBED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def served_templates(app: FastAPI) -> dict[str, set[str]]:
    """Path template -> the methods its routes declare, over every route of the app. FastAPI
    0.165 keeps an included router as one route; its effective routes are the real ones. Mounts
    (the admin panel's static files) declare no methods and are left out."""
    served: dict[str, set[str]] = {}
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = (
            [(context.path_format, context.methods) for context in contexts()]
            if callable(contexts)
            else [(getattr(route, "path_format", ""), getattr(route, "methods", None))]
        )
        for template, methods in entries:
            if methods:
                served.setdefault(template, set()).update(methods)
    return served


def test_every_405_names_every_method_its_path_serves(target: Target) -> None:
    served = served_templates(target.app)
    # Every part of the app is there: the API, health, docs, metrics and the admin panel.
    assert served["/api/v1/workspaces/{workspace_id}/providers/{name}"] == {"GET", "PUT", "DELETE"}
    assert {"/healthz", "/metrics", "/docs", "/login", "/w/{workspace_id}/assignees"} <= set(served)
    headers = {"Cookie": f"siq_session={target.session}", "X-CSRF-Token": target.csrf_token}
    checked = 0
    with TestClient(target.app) as client:
        for template, methods in served.items():
            # A value no literal sibling path has (replay-dead, say), so only this template matches.
            path = re.sub(r"\{[^}]+\}", "x405-probe", template)
            # A literal path can also match a sibling template (GET .../deliveries/replay-dead is
            # GET .../deliveries/{delivery_id}); that route answers those methods itself.
            elsewhere = {
                method
                for other, other_methods in served.items()
                if other != template and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", other), path)
                for method in other_methods
            }
            for method in sorted(PROBED_METHODS - methods - elsewhere):
                answer = client.request(method, path, headers=headers)
                assert answer.status_code == 405, (method, path, answer.status_code)
                assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
                assert set(answer.headers["allow"].split(", ")) == methods, (method, template)
                checked += 1
    assert checked > 100


def test_a_literal_path_beats_a_template_in_allow(target: Target) -> None:
    # DELETE .../deliveries/replay-dead: the resource is replay-dead (POST), not a delivery whose
    # id happens to be "replay-dead" (GET .../deliveries/{delivery_id}).
    path = f"/api/v1/workspaces/{target.workspace_id}/deliveries/replay-dead"
    with TestClient(target.app) as client:
        answer = client.delete(path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


# --- provider settings schema ---------------------------------------------------------------------


def test_provider_settings_have_the_providers_own_schema(target: Target) -> None:
    with TestClient(target.app) as client:
        document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    settings_in, masked = schemas["JiraConfig"], schemas["JiraConfigMasked"]
    # Every field of the config model, nothing else, and nothing unknown accepted.
    assert set(settings_in["properties"]) == set(JiraConfig.model_fields)
    assert set(masked["properties"]) == set(JiraConfig.model_fields)
    assert settings_in["additionalProperties"] is False
    # The secret: write-only in requests (and optional: absent keeps the stored one) ...
    token_in = settings_in["properties"]["api_token"]
    assert token_in["writeOnly"] is True
    assert token_in["format"] == "password"
    assert "api_token" not in settings_in["required"]
    assert {"base_url", "email", "project_key"} <= set(settings_in["required"])
    assert settings_in["properties"]["project_key"]["pattern"]
    # ... and always masked in answers.
    assert masked["properties"]["api_token"]["const"] == "********"
    assert masked["properties"]["api_token"]["readOnly"] is True
    ref = "#/components/schemas/{}".format
    assert schemas["ProviderSettingsIn"]["properties"]["config"]["$ref"] == ref("JiraConfig")
    for model in ("ProviderOut", "ProviderEnabledOut"):
        assert schemas[model]["properties"]["config"]["$ref"] == ref("JiraConfigMasked")
    # The provider's name is one of the registered providers.
    item = document["paths"]["/api/v1/workspaces/{workspace_id}/providers/{name}"]
    for operation in item.values():
        (name,) = [p for p in operation["parameters"] if p["name"] == "name"]
        assert name["schema"]["enum"] == ["jira"]


def test_an_answer_matches_the_masked_schema(target: Target) -> None:
    url = f"/api/v1/workspaces/{target.workspace_id}/providers/jira"
    headers = {"Cookie": f"siq_session={target.session}"}
    with TestClient(target.app) as client:
        document = client.get("/api/v1/openapi.json").json()
        answer = client.get(url, headers=headers)
    assert answer.status_code == 200
    config = answer.json()["config"]
    assert config["api_token"] == "********"
    validator = jsonschema.Draft202012Validator(
        {
            **document["components"]["schemas"]["JiraConfigMasked"],
            "components": document["components"],
        }
    )
    assert list(validator.iter_errors(config)) == []


def test_a_null_secret_is_refused_not_taken_as_keep(target: Target) -> None:
    url = f"/api/v1/workspaces/{target.workspace_id}/providers/jira"
    headers = {"Cookie": f"siq_session={target.session}", "X-CSRF-Token": target.csrf_token}
    with TestClient(target.app) as client:
        stored = client.get(url, headers=headers).json()["config"]
        answer = client.put(url, headers=headers, json={"config": {**stored, "api_token": None}})
        kept = client.put(url, headers=headers, json={"config": stored})  # masked: kept
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert [e["field"] for e in answer.json()["errors"]] == ["config.api_token"]
    assert kept.status_code == 200
