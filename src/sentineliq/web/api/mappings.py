"""The generic webhook: POST any tool's JSON to .../inputs/{name}, read through the workspace's
mapping of that name (or a built-in preset: splunk, elastic, wazuh); try a mapping on a sample
(dry run, nothing stored); list, show, save and delete the workspace's mappings.

Ingest is answered like the Alertmanager input (per record, the source's resolves applied);
the built-in formats' own routes (.../inputs/alertmanager) are registered first and keep their
paths.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sentineliq.alerts import Alert
from sentineliq.alerts.jsonread import decode
from sentineliq.inputs.base import InputError
from sentineliq.inputs.presets import PRESETS
from sentineliq.inputs.registry import ADAPTERS
from sentineliq.inputs.webhook import NAME_PATTERN, WebhookMapping
from sentineliq.services.identity import audit_origin
from sentineliq.services.inputs import adapt
from sentineliq.services.mappings import (
    DryRun,
    MappingError,
    MappingView,
    adapt_with,
    check_name,
    delete_mapping,
    dry_run,
    find_mapping,
    list_mappings,
    save_mapping,
)
from sentineliq.web.api.auth import Caller, Ingester, ProviderManager, Viewer
from sentineliq.web.api.inputs import InputIngestResult, _receive, _unreadable
from sentineliq.web.api.models import FieldWarning
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["inputs"])

INPUT_PATH = "/workspaces/{workspace_id}/inputs/{name}"
MAPPINGS_PATH = "/workspaces/{workspace_id}/input-mappings"

MappingName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="A mapping's name (the workspace's own, or a preset: splunk, elastic, wazuh).",
        examples=["splunk"],
    ),
]

# Splunk's documented webhook body (help.splunk.com, "Use a webhook alert action"), with a
# result row as a detection search gives it (constructed values): tests/inputs/fixtures.
SPLUNK_EXAMPLE: dict[str, Any] = {
    "result": {
        "_time": "2026-12-04T05:41:07.000+00:00",
        "sourcetype": "WinEventLog:Security",
        "count": "37",
        "src_ip": "203.0.113.45",
        "dest": "dc-01.corp.example",
        "severity": "high",
        "annotations.mitre_attack": ["T1110.001"],
    },
    "sid": "scheduler__admin__search__RMD5bf4c9dfd9a2c4a45_at_1796362860_4711",
    "results_link": "https://splunk.corp.example:8000/app/search/@go?"
    "sid=scheduler__admin__search__RMD5bf4c9dfd9a2c4a45_at_1796362860_4711",
    "search_name": "Brute force against a domain controller",
    "owner": "admin",
    "app": "search",
}
# Kibana's webhook connector with the body docs/inputs.md gives (rule action variables), for an
# Elasticsearch query rule (the context of the rule action variables page's example).
ELASTIC_EXAMPLE: dict[str, Any] = {
    "date": "2023-04-27T22:40:34.153Z",
    "kibanaBaseUrl": "https://kibana.corp.example:5601",
    "rule": {
        "id": "6f1f5e10-e54d-11ed-9a4c-8f7f2b6a9c01",
        "name": "esq",
        "spaceId": "default",
        "tags": ["soc"],
        "url": "https://kibana.corp.example:5601/app/management/insightsAndAlerting/"
        "triggersActions/rule/6f1f5e10-e54d-11ed-9a4c-8f7f2b6a9c01",
    },
    "alert": {
        "id": "host-2",
        "uuid": "0b6cd6a4-7f8e-4f43-9c55-3a1f4c2a8d17",
        "actionGroup": "query matched",
        "actionGroupName": "Query matched",
    },
    "context": {
        "title": "rule 'esq' matched query for group host-2",
        "message": "Document count is 1002 in the last 5m for group host-2.",
        "link": "https://kibana.corp.example:5601/app/discover#/viewAlert/"
        "6f1f5e10-e54d-11ed-9a4c-8f7f2b6a9c01",
        "hits": [{"_source": {"host": {"name": "host-2"}, "source": {"ip": "198.51.100.23"}}}],
    },
}
# A Wazuh alert as its integrator posts it (constructed values): tests/inputs/fixtures.
WAZUH_EXAMPLE: dict[str, Any] = {
    "timestamp": "2026-12-04T05:12:44.316+0000",
    "rule": {
        "level": 10,
        "description": "sshd: brute force trying to get access to the system. Non existent user.",
        "id": "5712",
        "mitre": {"id": ["T1110"], "tactic": ["Credential Access"]},
        "groups": ["syslog", "sshd", "authentication_failures"],
    },
    "agent": {"id": "001", "name": "web-01", "ip": "10.0.4.21"},
    "id": "1796361164.1548213",
    "full_log": "Dec  4 05:12:42 web-01 sshd[21144]: Invalid user admin from 192.0.2.77",
    "data": {"srcip": "192.0.2.77", "srcuser": "admin"},
}
# A sample of each preset's payload: the examples here, the panel's "Try it" default.
PRESET_SAMPLES: dict[str, dict[str, Any]] = {
    "splunk": SPLUNK_EXAMPLE,
    "elastic": ELASTIC_EXAMPLE,
    "wazuh": WAZUH_EXAMPLE,
}
PAYLOAD_BODY = {
    "required": True,
    "description": "The tool's JSON as it sends it: one payload, or a JSON array of payloads.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "array", "items": {"type": "object"}, "minItems": 1},
                ]
            },
            "examples": {
                "splunk": {"summary": "Splunk's webhook alert action", "value": SPLUNK_EXAMPLE},
                "elastic": {"summary": "Kibana's webhook connector", "value": ELASTIC_EXAMPLE},
                "wazuh": {"summary": "A Wazuh alert", "value": WAZUH_EXAMPLE},
            },
        }
    },
}


class MappingOut(BaseModel):
    name: str
    origin: str = Field(description='"saved", "preset", or "saved (replaces the preset)".')
    mapping: WebhookMapping


class MappingList(BaseModel):
    mappings: list[MappingOut]


class DryRecordOut(BaseModel):
    record: int = Field(description="1-based position of the record in the payload.")
    status: Literal["accepted", "refused"]
    alert: Alert | None = Field(description="The alert the record would become.")
    resolved: bool = Field(description="The source says it is resolved: it would resolve.")
    warnings: list[FieldWarning]
    errors: list[FieldError] = Field(description="Why it would be refused, naming the field.")


class DryRunOut(BaseModel):
    mapping: str
    records: list[DryRecordOut]
    warnings: list[str] = Field(description="About the payload as a whole.")


class DryRunIn(BaseModel):
    """An unsaved mapping and a sample to try it on."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mapping": {
                        "source": "Splunk",
                        "fields": {
                            "title": "search_name",
                            "fingerprint": "sid",
                            "severity": "result.severity",
                            "link": "results_link",
                        },
                        "observables": {"ip": "result.src_ip"},
                    },
                    "payload": SPLUNK_EXAMPLE,
                }
            ]
        },
    )

    mapping: WebhookMapping
    payload: dict[str, Any] | list[Any] = Field(description="A sample as the tool sends it.")


def _out(view: MappingView) -> MappingOut:
    return MappingOut(name=view.name, origin=view.origin, mapping=view.mapping)


def _dry_out(run: DryRun) -> DryRunOut:
    return DryRunOut.model_validate_json(json.dumps(run.as_json()))


def _known(caller: Caller, name: str) -> None:
    if name in ADAPTERS:
        return
    try:
        find_mapping(caller.app, caller.workspace_id, name)
    except MappingError as exc:
        raise ApiProblem(404, str(exc.problem), kind="not-found") from None


def _json_only(request: Request) -> None:
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() != "application/json":
        raise ApiProblem(415, "send application/json")


@router.post(
    INPUT_PATH + "/dry-run",
    summary="Try an input on a sample payload (nothing stored)",
    description=(
        "Reads the body exactly as POST .../inputs/{name} would, with the workspace's mapping "
        "of that name (or the preset), and answers the alert each record would become, with "
        "its warnings, or why it would be refused. Nothing is stored, audited or ticketed."
    ),
    response_model=DryRunOut,
    openapi_extra={"requestBody": PAYLOAD_BODY},
)
async def dry_run_input(request: Request, name: MappingName, caller: Ingester) -> DryRunOut:
    _json_only(request)
    body = await request.body()
    return await run_in_threadpool(_dry_named, caller, name, body)


def _dry_named(caller: Caller, name: str, body: bytes) -> DryRunOut:
    _known(caller, name)
    decoded, problem = decode(body, caller.app.settings.limits.ingest_max_depth)
    if decoded is None:
        raise _unreadable("", problem or "invalid JSON")
    if decoded.problem is not None:
        raise _unreadable(decoded.field, decoded.problem)
    try:
        adapted = adapt(caller.app, caller.workspace_id, name, decoded.value)
    except InputError as exc:
        raise _unreadable(exc.field, exc.problem) from None
    return _dry_out(dry_run(adapted, name))


@router.post(
    INPUT_PATH,
    summary="Receive a tool's webhook through a mapping",
    description=(
        "Point a tool's webhook here (Splunk's webhook alert action, Kibana's webhook "
        "connector, Wazuh, your own) with the workspace API key as `Authorization: Bearer "
        "<key>`. `{name}` is a mapping saved in the workspace (PUT .../input-mappings/{name}) "
        "or a preset (splunk, elastic, wazuh). One payload or an array of them; each record is "
        "mapped and stored like a native alert, the payload kept with it (`source_payload`). A "
        "record whose title or fingerprint the mapping finds nothing for is refused naming the "
        "expression. A `status` in the mapping's `resolved_values` resolves the alert. Answered "
        "per record like POST .../alerts: 200, 207 when some were refused, 400 unreadable, 404 "
        "no such mapping, 413 over the ingest limits."
    ),
    response_model=InputIngestResult,
    responses={207: {"model": InputIngestResult, "description": "Some records were refused."}},
    openapi_extra={"requestBody": PAYLOAD_BODY},
)
async def receive_webhook(request: Request, name: MappingName, caller: Ingester) -> JSONResponse:
    _json_only(request)
    await run_in_threadpool(_known, caller, name)
    body = await request.body()
    result, refused = await run_in_threadpool(_receive, caller, name, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)


@router.post(
    MAPPINGS_PATH + "/dry-run",
    summary="Try an unsaved mapping on a sample payload (nothing stored)",
    description="As POST .../inputs/{name}/dry-run, with the mapping in the body: edit a "
    "mapping until the sample becomes the alert you want, then save it.",
    response_model=DryRunOut,
)
def dry_run_mapping(body: DryRunIn, caller: Ingester) -> DryRunOut:
    try:
        adapted = adapt_with("unsaved", body.mapping, body.payload)
    except InputError as exc:
        raise _unreadable(exc.field, exc.problem) from None
    return _dry_out(dry_run(adapted, "unsaved"))


@router.get(
    MAPPINGS_PATH,
    summary="List the webhook mappings",
    description="The workspace's saved mappings, then the presets it has not replaced.",
    response_model=MappingList,
)
def get_mappings(caller: Viewer) -> MappingList:
    return MappingList(mappings=[_out(v) for v in list_mappings(caller.app, caller.workspace_id)])


@router.get(
    MAPPINGS_PATH + "/{name}",
    summary="Show a webhook mapping",
    description="The mapping in effect under the name: saved, or the preset.",
    response_model=MappingOut,
)
def get_mapping(name: MappingName, caller: Viewer) -> MappingOut:
    try:
        return _out(find_mapping(caller.app, caller.workspace_id, name))
    except MappingError as exc:
        raise ApiProblem(404, str(exc.problem), kind="not-found") from None


@router.put(
    MAPPINGS_PATH + "/{name}",
    summary="Save a webhook mapping",
    description=(
        "Creates or replaces the mapping (owners and admins; audited with before and after). "
        "Every expression must compile; `fields.title` and `fields.fingerprint` are required; "
        "a refusal names the field (e.g. `fields.severity`). A preset's name replaces the "
        "preset in this workspace; built-in input names (alertmanager, ocsf) are refused."
    ),
    response_model=MappingOut,
)
def put_mapping(name: MappingName, body: WebhookMapping, caller: ProviderManager) -> MappingOut:
    try:
        check_name(name)
    except MappingError as exc:
        raise ApiProblem(
            422,
            str(exc),
            kind="validation",
            errors=[FieldError(field=exc.field, message=exc.problem)],
        ) from None
    save_mapping(
        caller.app,
        caller.workspace_id,
        name,
        body,
        actor=caller.actor,
        origin=audit_origin(caller.ip, caller.user_agent),
    )
    return _out(find_mapping(caller.app, caller.workspace_id, name))


@router.delete(
    MAPPINGS_PATH + "/{name}",
    summary="Delete a saved webhook mapping",
    description="A replaced preset comes back. 404 when the workspace saved none by that name.",
    status_code=204,
    response_class=Response,
)
def delete_mapping_route(name: MappingName, caller: ProviderManager) -> Response:
    removed = delete_mapping(
        caller.app,
        caller.workspace_id,
        name,
        actor=caller.actor,
        origin=audit_origin(caller.ip, caller.user_agent),
    )
    if not removed:
        detail = (
            f"{name!r} is a preset: nothing saved to delete"
            if name in PRESETS
            else (f"no saved mapping is named {name!r}")
        )
        raise ApiProblem(404, detail, kind="not-found")
    return Response(status_code=204)
