"""The API's OpenAPI document: only /api/v1 operations, every error declared as problem+json.

FastAPI derives operations and models from the routes; this adds what it cannot know: the alert
body schema (the body is parsed per record, not by FastAPI), each provider's settings schema
(validated by the provider's own config model, not by FastAPI), the security schemes, and the
problem responses our handlers produce, replacing FastAPI's default 422 model.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sentineliq import __version__
from sentineliq.alerts.model import Alert
from sentineliq.providers import registry
from sentineliq.providers.registry import ProviderSpec
from sentineliq.storage.crypto import MASK
from sentineliq.web.api import PREFIX
from sentineliq.web.api.problems import PROBLEM_MEDIA_TYPE, Problem

_REF = "#/components/schemas/{model}"
_ERROR_STATUSES = {
    "400": "The request could not be read.",
    "401": "Missing or invalid credentials.",
    "403": "Your role does not allow this (or the CSRF header is missing).",
    "404": "No such resource (or a workspace you cannot see).",
    "409": "The resource is not in a state that allows this.",
    "413": "The body is too large.",
    "415": "Unsupported content type.",
    "422": "The input was refused; `errors` names each field.",
    "500": "Internal error.",
}
_BODYLESS_METHODS = {"get", "delete"}
# Models whose `config` is a provider's settings: requests carry them, answers show them masked.
_SETTINGS_IN = ("ProviderSettingsIn",)
_SETTINGS_OUT = ("ProviderOut", "ProviderEnabledOut")


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _settings_schema(spec: ProviderSpec[Any]) -> dict[str, Any]:
    """What a PUT may send: the config model's schema, secrets write-only and optional (an
    absent, empty or masked secret keeps the stored one)."""
    schema: dict[str, Any] = spec.config_model.model_json_schema(
        mode="validation", ref_template=_REF
    )
    for name in spec.secret_fields:
        schema["properties"][name].update(writeOnly=True, format="password")
    schema["required"] = [f for f in schema.get("required", []) if f not in spec.secret_fields]
    schema["title"] = f"{spec.title} settings"
    return schema


def _masked_schema(spec: ProviderSpec[Any]) -> dict[str, Any]:
    """What answers show: the stored settings, every secret replaced by the mask."""
    schema: dict[str, Any] = spec.config_model.model_json_schema(
        mode="serialization", ref_template=_REF
    )
    for name in spec.secret_fields:
        schema["properties"][name] = {
            "type": "string",
            "const": MASK,
            "readOnly": True,
            "description": "Always masked: the secret is stored encrypted and never returned.",
        }
    schema["title"] = f"{spec.title} settings (secrets masked)"
    return schema


def _provider_config_schemas(schemas: dict[str, Any]) -> None:
    """Replace the generic `config` object with each registered provider's own schema."""
    inputs, outputs = [], []
    for name in registry.names():
        spec = registry.get(name)
        model = spec.config_model.__name__
        for component, schema in (
            (model, _settings_schema(spec)),
            (f"{model}Masked", _masked_schema(spec)),
        ):
            schemas.update(schema.pop("$defs", {}))
            schema["description"] = f"Settings of the {name!r} provider ({spec.title})."
            schemas[component] = schema
        inputs.append({"$ref": _REF.format(model=model)})
        outputs.append({"$ref": _REF.format(model=f"{model}Masked")})
    for models, choices in ((_SETTINGS_IN, inputs), (_SETTINGS_OUT, outputs)):
        # One schema per provider; the provider named in the path decides which applies.
        chosen = choices[0] if len(choices) == 1 else {"oneOf": choices}
        for model in models:
            config = schemas[model]["properties"]["config"]
            schemas[model]["properties"]["config"] = {
                **chosen,
                "description": config["description"],
            }


_WS = "/workspaces/{workspace_id}"
_SAME_WORKSPACE = {"workspace_id": "$request.path.workspace_id"}
_SAME_PROVIDER = {**_SAME_WORKSPACE, "name": "$request.path.name"}
# OpenAPI links: what an answer lets the caller do next (and what stateful testing follows).
# (operation, its statuses, link name, target operation, parameters)
_LINKS: tuple[tuple[str, tuple[str, ...], str, str, dict[str, str]], ...] = (
    *(
        (f"put {_WS}/providers/{{name}}", ("200", "201"), name, target, _SAME_PROVIDER)
        for name, target in (
            ("ShowProvider", f"get {_WS}/providers/{{name}}"),
            ("EnableProvider", f"post {_WS}/providers/{{name}}/enable"),
            ("DisableProvider", f"post {_WS}/providers/{{name}}/disable"),
            ("TestProvider", f"post {_WS}/providers/{{name}}/test"),
            ("DeleteProvider", f"delete {_WS}/providers/{{name}}"),
        )
    ),
    *(
        (
            f"post {_WS}/alerts",
            ("200", "207"),
            "ShowAlert",
            f"get {_WS}/alerts/{{alert_id}}",
            {**_SAME_WORKSPACE, "alert_id": "$response.body#/results/0/alert_id"},
        ),
    ),
    *(
        (
            source,
            ("200",),
            name,
            target,
            {**_SAME_WORKSPACE, "delivery_id": "$response.body#/deliveries/0/id"},
        )
        for source in (f"get {_WS}/alerts/{{alert_id}}", f"get {_WS}/deliveries")
        for name, target in (
            ("ShowDelivery", f"get {_WS}/deliveries/{{delivery_id}}"),
            ("ReplayDelivery", f"post {_WS}/deliveries/{{delivery_id}}/replay"),
        )
    ),
    *(
        (f"put {_WS}/fingerprint-recipe", ("200",), name, target, _SAME_WORKSPACE)
        for name, target in (
            ("ShowFingerprintRecipe", f"get {_WS}/fingerprint-recipe"),
            ("ResetFingerprintRecipe", f"delete {_WS}/fingerprint-recipe"),
        )
    ),
    (
        f"put {_WS}/assignees",
        ("200", "201"),
        "RemoveAssignee",
        f"delete {_WS}/assignees",
        {**_SAME_WORKSPACE, "email": "$response.body#/email"},
    ),
)


def _add_links(paths: dict[str, Any]) -> None:
    for source, statuses, name, target, parameters in _LINKS:
        method, path = source.split(" ", 1)
        target_method, target_path = target.split(" ", 1)
        operation_id = paths[PREFIX + target_path][target_method]["operationId"]
        responses = paths[PREFIX + path][method]["responses"]
        for status in statuses:
            responses[status].setdefault("links", {})[name] = {
                "operationId": operation_id,
                "parameters": parameters,
            }


def _provider_names(paths: dict[str, Any]) -> None:
    """The `name` path parameter takes a registered provider's name (others are 404)."""
    for path, item in paths.items():
        if "/providers/{name}" not in path:
            continue
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "name":
                    parameter["schema"] = {"type": "string", "enum": list(registry.names())}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title="SentinelIQ Tickets API",
        version=__version__,
        summary="Security alerts in, Jira issues out.",
        description=(
            "Authenticate with a workspace API key (`Authorization: Bearer siq_...`) or, from "
            "the admin panel, the session cookie (state-changing calls then need the "
            "`X-CSRF-Token` header). Every error is `application/problem+json` (RFC 9457)."
        ),
        routes=app.routes,
    )
    # Only the JSON API: the admin panel's pages are not part of this contract.
    document["paths"] = {
        path: item for path, item in document.get("paths", {}).items() if path.startswith(PREFIX)
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    alert = Alert.model_json_schema(ref_template=_REF)
    schemas.update(alert.pop("$defs", {}))
    schemas["Alert"] = alert
    schemas["Problem"] = Problem.model_json_schema(ref_template=_REF)
    schemas.update(Problem.model_json_schema(ref_template=_REF).pop("$defs", {}))
    schemas["Problem"].pop("$defs", None)
    _provider_config_schemas(schemas)
    _provider_names(document["paths"])
    _add_links(document["paths"])
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "A workspace API key."},
        "session": {"type": "apiKey", "in": "cookie", "name": "siq_session"},
    }
    document["security"] = [{"apiKey": []}, {"session": []}]
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                if status in {"413", "415"} and method in _BODYLESS_METHODS:
                    continue
                responses[status] = _problem(description)
    return document


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
