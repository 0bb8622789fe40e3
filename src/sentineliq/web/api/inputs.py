"""Inputs: alerts in a source's own format. POST a Prometheus Alertmanager webhook notification;
show and set the workspace's settings for it (the severity map).

Answered like native ingest, per record (the group's alerts in order), plus what the source's
state changed: an alert the group reports resolved is resolved and its tickets transitioned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sentineliq.alerts.jsonread import decode
from sentineliq.inputs.alertmanager import AlertmanagerSettings
from sentineliq.inputs.base import InputError, InputResult
from sentineliq.services.identity import audit_origin
from sentineliq.services.inputs import adapt, follow_source, settings_of
from sentineliq.storage.alerts import IngestOutcome, IngestPart
from sentineliq.storage.audit import AuditEntry
from sentineliq.storage.ingestgroup import ingest_group
from sentineliq.storage.inputsettings import InputSettingsRepository
from sentineliq.web.api.alerts import MAX_RECORDS, _summarize, _Summary, answer
from sentineliq.web.api.auth import Caller, Ingester, ProviderManager, Viewer
from sentineliq.web.api.models import IngestResult
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["inputs"])

ALERTMANAGER = "alertmanager"
ALERTMANAGER_PATH = "/workspaces/{workspace_id}/inputs/alertmanager"

# Alertmanager's documented webhook shape (prometheus.io/docs/alerting/latest/configuration,
# <webhook_config>), as it sends it: the first alert of the test fixture
# tests/inputs/fixtures/alertmanager_webhook.json.
ALERTMANAGER_EXAMPLE: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="HostHighCpuLoad"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "sentineliq",
    "groupLabels": {"alertname": "HostHighCpuLoad"},
    "commonLabels": {"alertname": "HostHighCpuLoad", "job": "node", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example.org:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HostHighCpuLoad",
                "instance": "web-1.example.org:9100",
                "job": "node",
                "severity": "critical",
            },
            "annotations": {
                "summary": "Host high CPU load (instance web-1.example.org:9100)",
                "description": "CPU load is > 80%\n  VALUE = 93.4",
            },
            "startsAt": "2026-12-03T08:04:33.716Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=node_load1+%3E+0.8",
            "fingerprint": "37913954405f8f02",
        }
    ],
}

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
ALERTMANAGER_BODY = {
    "required": True,
    "description": "An Alertmanager webhook notification (payload version 4): one group.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["alerts"],
                "properties": {
                    "version": {"type": "string", "enum": ["4"]},
                    "groupKey": {"type": "string"},
                    "truncatedAlerts": {"type": "integer", "minimum": 0},
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "receiver": {"type": "string"},
                    "groupLabels": _STRINGS,
                    "commonLabels": _STRINGS,
                    "commonAnnotations": _STRINGS,
                    "externalURL": {"type": "string"},
                    "alerts": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_RECORDS,
                        "items": {
                            "type": "object",
                            "required": ["labels", "startsAt", "fingerprint"],
                            "properties": {
                                "status": {"type": "string", "enum": ["firing", "resolved"]},
                                "labels": _STRINGS,
                                "annotations": _STRINGS,
                                "startsAt": {"type": "string", "format": "date-time"},
                                "endsAt": {"type": "string", "format": "date-time"},
                                "generatorURL": {"type": "string"},
                                "fingerprint": {"type": "string", "minLength": 1},
                            },
                        },
                    },
                },
            },
            "example": ALERTMANAGER_EXAMPLE,
        }
    },
}


class SourceChangeOut(BaseModel):
    record: int = Field(description="The alert's position in the group (1-based).")
    alert_id: str
    status: str = Field(description="What the alert became: resolved, or new when it fires again.")
    transitions: list[str] = Field(
        description="Ticket transition deliveries queued (GET .../deliveries/{id})."
    )


class InputIngestResult(IngestResult):
    source_changes: list[SourceChangeOut] = Field(
        default_factory=list,
        description="Alerts whose status the source changed: resolved (its tickets are "
        "transitioned like a person's resolve) or firing again after a resolution.",
    )


@router.post(
    ALERTMANAGER_PATH,
    summary="Receive a Prometheus Alertmanager notification",
    description=(
        "Point an Alertmanager `webhook_config` here, with the workspace's API key as its "
        "`http_config.authorization.credentials` (sent as `Authorization: Bearer <key>`). Each "
        "alert of the group becomes one alert: Alertmanager's `fingerprint` is its identity "
        "(a re-notification is a duplicate, a new firing a repeat); title from "
        "`annotations.summary`, else `labels.alertname` on `labels.instance`; severity from "
        "`labels.severity` through the workspace's map (PUT .../inputs/alertmanager/settings); "
        "description from `annotations.description` with the labels and other annotations; "
        "`generatorURL` is the link; labels become tags. The notification is kept with each "
        "alert (`source_payload`). An alert with `status: resolved` is resolved and its "
        "tickets transitioned. Answered per alert like POST .../alerts: 200, 207 when some "
        "were refused (naming the field, e.g. `fingerprint`), 400 when the body is not a "
        "notification, 413 over the ingest limits."
    ),
    response_model=InputIngestResult,
    responses={207: {"model": InputIngestResult, "description": "Some alerts were refused."}},
    openapi_extra={"requestBody": ALERTMANAGER_BODY},
)
async def receive_alertmanager(request: Request, caller: Ingester) -> JSONResponse:
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() != "application/json":
        raise ApiProblem(415, "send application/json (Alertmanager does)")
    body = await request.body()
    result, refused = await run_in_threadpool(_receive, caller, ALERTMANAGER, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)


def _unreadable(field: str, problem: str) -> ApiProblem:
    return ApiProblem(
        400,
        "no alert could be read from the body",
        kind="unreadable",
        errors=[FieldError(field=field, message=problem)],
    )


def _receive(caller: Caller, name: str, body: bytes) -> tuple[InputIngestResult, bool]:
    limits = caller.app.settings.limits
    decoded, problem = decode(body, limits.ingest_max_depth)
    if decoded is None:
        raise _unreadable("", problem or "invalid JSON")
    if decoded.problem is not None:
        raise _unreadable(decoded.field, decoded.problem)
    try:
        adapted = adapt(caller.app, caller.workspace_id, name, decoded.value)
    except InputError as exc:
        raise _unreadable(exc.field, exc.problem) from None
    if len(adapted.accepted) + adapted.parse_result().refused_records > limits.ingest_max_records:
        raise ApiProblem(
            413,
            f"at most {limits.ingest_max_records} alerts per request "
            "(SENTINELIQ_MAX_INGEST_RECORDS); send fewer per request (Alertmanager: the receiver's "
            "max_alerts)",
            kind="too-many-records",
        )
    done = _store(caller, name, adapted)
    changes = follow_source(caller.app, name, adapted.accepted, done.outcomes, actor=caller.actor)
    answered = answer(caller, adapted.accepted, done)
    answered.warnings[:0] = adapted.warnings
    result = InputIngestResult(
        **dict(answered),
        source_changes=[
            SourceChangeOut(
                record=c.record,
                alert_id=c.alert_id,
                status=c.status,
                transitions=[t.delivery_id for t in c.transitions],
            )
            for c in changes
        ],
    )
    return result, done.totals.refused > 0


def _store(caller: Caller, name: str, adapted: InputResult) -> _Summary:
    """Store the accepted records with their payloads, audited in the same transaction."""
    parsed = adapted.parse_result()
    summary: list[_Summary] = []

    def audit(outcomes: Sequence[IngestOutcome]) -> AuditEntry | None:
        summary[:] = [_summarize(parsed, outcomes)]
        totals = summary[0].totals
        if not (totals.accepted or totals.occurrence):
            return None
        return caller.audit_entry(
            "api.inputs.ingested",
            target=f"workspace:{caller.workspace_id}",
            input=name,
            accepted=totals.accepted,
            occurrence=totals.occurrence,
            duplicate=totals.duplicate,
            refused=totals.refused,
            without_delivery=summary[0].stranded,
            held=summary[0].held,
        )

    if adapted.accepted:
        ingest_group(caller.app.db).ingest(
            caller.workspace_id,
            IngestPart(
                [record.alert for record in adapted.accepted],
                actor=caller.actor,
                warnings=[record.warnings for record in adapted.accepted],
                audit=audit,
                raw=[record.raw for record in adapted.accepted],
            ),
        )
    else:
        audit([])
    return summary[0]


SETTINGS_PATH = ALERTMANAGER_PATH + "/settings"


@router.get(
    SETTINGS_PATH,
    summary="Show the Alertmanager input settings",
    description="The severity map, default severity and module in effect (the defaults until set).",
    response_model=AlertmanagerSettings,
)
def get_alertmanager_settings(caller: Viewer) -> AlertmanagerSettings:
    found: AlertmanagerSettings = settings_of(caller.app, caller.workspace_id, ALERTMANAGER)
    return found


@router.put(
    SETTINGS_PATH,
    summary="Set the Alertmanager input settings",
    description="Replaces them whole (an omitted field takes its default; `{}` restores all "
    "defaults). Applies from the next notification on; audited with before and after.",
    response_model=AlertmanagerSettings,
)
def put_alertmanager_settings(
    body: AlertmanagerSettings, caller: ProviderManager
) -> AlertmanagerSettings:
    InputSettingsRepository(caller.app.db).put(
        caller.workspace_id,
        ALERTMANAGER,
        body.model_dump(mode="json"),
        actor=caller.actor,
        origin=audit_origin(caller.ip, caller.user_agent),
    )
    return body
