"""POST alerts (one, an array, or NDJSON), answered per record; GET one alert with its tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sentineliq import metrics
from sentineliq.alerts.parse import parse_alerts
from sentineliq.services.ingest import no_delivery_warning
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.api.auth import Ingester, Viewer
from sentineliq.web.api.models import (
    AlertOut,
    DeliveryOut,
    FieldWarning,
    IngestResult,
    IngestTotals,
    RecordResult,
    TicketLinkOut,
)
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["alerts"])

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_RECORDS = 1000  # one request is one transaction; bigger batches go in several requests
JSON_TYPES = frozenset({"application/json"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson"})

AlertId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="Alert id.")
]

ALERT_BODY = {
    "required": True,
    "description": "One alert object, an array of alerts, or NDJSON (one alert per line).",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Alert"},
                    {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Alert"},
                        "minItems": 1,
                        "maxItems": MAX_RECORDS,
                    },
                ]
            }
        },
        "application/x-ndjson": {"schema": {"$ref": "#/components/schemas/Alert"}},
    },
}


async def _read_text(request: Request) -> str:
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() not in JSON_TYPES | NDJSON_TYPES:
        raise ApiProblem(415, "send application/json or application/x-ndjson")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise ApiProblem(413, f"the body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiProblem(400, "the body is not UTF-8 text", kind="unreadable") from None


@router.post(
    "/workspaces/{workspace_id}/alerts",
    summary="Ingest alerts",
    description=(
        "Stores each valid alert and queues its delivery to the workspace's enabled providers. "
        "Answers per record: accepted (with warnings naming what was repaired, and "
        "`without_delivery` when no provider is enabled), duplicate (the workspace has it "
        "already) or refused with field errors. 200 when no record was refused, 207 when some "
        "were; 400 when the body could not be read at all."
    ),
    response_model=IngestResult,
    responses={207: {"model": IngestResult, "description": "Some records were refused."}},
    openapi_extra={"requestBody": ALERT_BODY},
)
async def ingest_alerts(request: Request, caller: Ingester) -> JSONResponse:
    text = await _read_text(request)
    # Parsing and storing are blocking work: keep them off the event loop.
    result, refused = await run_in_threadpool(_ingest, caller, text)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)


def _ingest(caller: Ingester, text: str) -> tuple[IngestResult, bool]:
    parsed = parse_alerts(text)
    unreadable = [error for error in parsed.errors if error.record == 0]
    if unreadable or parsed.total == 0:
        raise ApiProblem(
            400,
            "no alert could be read from the body",
            kind="unreadable",
            errors=[FieldError(field=e.field, message=e.problem) for e in unreadable],
        )
    if parsed.total > MAX_RECORDS:
        raise ApiProblem(413, f"at most {MAX_RECORDS} alerts per request")
    outcomes = (
        AlertRepository(caller.app.db).ingest(
            caller.workspace_id,
            [record.alert for record in parsed.accepted],
            actor=caller.actor,
            warnings=[record.warnings for record in parsed.accepted],
        )
        if parsed.accepted
        else []
    )
    results: dict[int, RecordResult] = {}
    for record, outcome in zip(parsed.accepted, outcomes, strict=True):
        results[record.record] = RecordResult(
            record=record.record,
            status=outcome.status,
            alert_id=outcome.alert_id,
            warnings=[FieldWarning(field=w.field, message=w.message) for w in record.warnings],
            deliveries=outcome.deliveries,
            without_delivery=outcome.status == "accepted" and outcome.deliveries == 0,
        )
        if outcome.status == "accepted":
            metrics.ALERTS_INGESTED.labels(record.alert.module.value).inc()
    for error in parsed.errors:
        refused = results.setdefault(
            error.record, RecordResult(record=error.record, status="refused")
        )
        refused.errors.append(FieldError(field=error.field, message=error.problem))
    ordered = [results[number] for number in sorted(results)]
    totals = IngestTotals(
        records=len(ordered),
        accepted=sum(1 for r in ordered if r.status == "accepted"),
        duplicate=sum(1 for r in ordered if r.status == "duplicate"),
        refused=sum(1 for r in ordered if r.status == "refused"),
    )
    stranded = sum(1 for r in ordered if r.without_delivery)
    if totals.accepted:
        caller.audit(
            "api.alerts.ingested",
            target=f"workspace:{caller.workspace_id}",
            accepted=totals.accepted,
            duplicate=totals.duplicate,
            refused=totals.refused,
            without_delivery=stranded,
        )
    warning = no_delivery_warning(stranded)
    result = IngestResult(
        results=ordered,
        totals=totals,
        without_delivery=stranded,
        warnings=[warning] if warning else [],
    )
    return result, totals.refused > 0


def _deliveries_of(caller: Viewer, alert_id: str) -> list[DeliveryOut]:
    views = DeliveryRepository(caller.app.db).list_for_workspace(
        caller.workspace_id, alert_id=alert_id
    )
    return [DeliveryOut.from_view(view) for view in sorted(views, key=lambda v: v.provider)]


@router.get(
    "/workspaces/{workspace_id}/alerts/{alert_id}",
    summary="Show an alert",
    description="The alert as stored, its ticket links and the status of each delivery.",
    response_model=AlertOut,
)
def get_alert(alert_id: AlertId, caller: Viewer) -> AlertOut:
    try:
        stored = AlertRepository(caller.app.db).get(alert_id)
    except NotFoundError:
        stored = None
    if stored is None or stored.workspace_id != caller.workspace_id:
        raise ApiProblem(404, "no such alert in this workspace", kind="not-found")
    return AlertOut(
        id=stored.id,
        workspace_id=stored.workspace_id,
        fingerprint=stored.fingerprint,
        created_at=stored.created_at,
        alert=stored.alert.model_dump(mode="json"),
        warnings=[FieldWarning(field=w.field, message=w.message) for w in stored.warnings],
        tickets=[
            TicketLinkOut(
                provider=t.provider, issue_key=t.issue_key, url=t.url, created_at=t.created_at
            )
            for t in stored.tickets
        ],
        deliveries=_deliveries_of(caller, stored.id),
    )
