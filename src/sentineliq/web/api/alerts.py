"""POST alerts (one, an array, or NDJSON), answered per record; GET one alert with its tickets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sentineliq import metrics
from sentineliq.alerts.parse import ParsedRecord, ParseResult, TooManyRecords, parse_chunks
from sentineliq.services.ingest import (
    held_by_provider,
    held_warnings,
    no_delivery_warning,
    note_held,
)
from sentineliq.settings import LimitSettings
from sentineliq.storage.alerts import AlertRepository, IngestOutcome, IngestPart
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.storage.audit import AuditEntry
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.ingestgroup import ingest_group
from sentineliq.storage.occurrence_reads import OccurrenceSummary, occurrence_summary
from sentineliq.web.api.auth import Caller, Ingester, Viewer
from sentineliq.web.api.models import (
    AlertList,
    AlertListItem,
    AlertOut,
    DeliveryOut,
    FieldWarning,
    IngestResult,
    IngestTotals,
    NoteOut,
    ObservableKeyOut,
    OccurrenceOut,
    RecordResult,
    TicketLinkOut,
)
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["alerts"])

# The default cap, for the OpenAPI document; the running cap is SENTINELIQ_MAX_INGEST_RECORDS.
MAX_RECORDS = LimitSettings().ingest_max_records
JSON_TYPES = frozenset({"application/json"})
SMALL_BODY_BYTES = 64 * 1024  # a body this small is read whole before it is parsed
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


def _check_media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() not in JSON_TYPES | NDJSON_TYPES:
        raise ApiProblem(415, "send application/json or application/x-ndjson")


class _BodyChunks:
    """The request body as a blocking iterator for the worker thread that parses it.

    Each chunk is fetched from the event loop when the parser wants it, so the parser stops
    reading where it stops parsing (the record cap), and the size limit (web.bodylimit) is
    counted as the chunks arrive.
    """

    def __init__(self, request: Request) -> None:
        self._stream = request.stream()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return anyio.from_thread.run(self._next)
        except StopAsyncIteration:
            raise StopIteration from None

    async def _next(self) -> bytes:
        return await self._stream.__anext__()


@router.post(
    "/workspaces/{workspace_id}/alerts",
    summary="Ingest alerts",
    description=(
        "Stores each valid alert and queues its delivery to the workspace's enabled providers. "
        "Answers per record: accepted (with warnings naming what was repaired, and "
        "`without_delivery` when no provider is enabled), occurrence (a repeat of an alert the "
        "workspace has: recorded and reported to its ticket), duplicate (the same record sent "
        "again) or refused with field errors; `held` names the providers whose new ticket the "
        "storm guard held (see POST .../deliveries/held/release). 200 when no record was "
        "refused, 207 when some "
        "were; 400 when the body could not be read at all (not JSON, truncated, or neither an "
        "object, an array nor NDJSON); 413 when the body is larger than "
        "SENTINELIQ_MAX_INGEST_BODY_BYTES (5 MiB by default) or holds more records than "
        "SENTINELIQ_MAX_INGEST_RECORDS (1,000 by default), in which case nothing is stored. "
        "A record nested deeper than SENTINELIQ_MAX_INGEST_DEPTH (32) or with a key twice in "
        "one object is refused."
    ),
    response_model=IngestResult,
    responses={207: {"model": IngestResult, "description": "Some records were refused."}},
    openapi_extra={"requestBody": ALERT_BODY},
)
async def ingest_alerts(request: Request, caller: Ingester) -> JSONResponse:
    _check_media_type(request)
    length = request.headers.get("content-length", "")
    body: Iterable[bytes] = _BodyChunks(request)
    if length.isdigit() and int(length) <= SMALL_BODY_BYTES:
        # Read at once: streaming it to the parser would cost two hops between the threads
        # for a body that holds a few records at most.
        body = [await request.body()]
    # Parsing and storing are blocking work: keep them off the event loop.
    result, refused = await run_in_threadpool(_ingest, caller, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)


def _ingest(caller: Ingester, body: Iterable[bytes]) -> tuple[IngestResult, bool]:
    limits = caller.app.settings.limits
    try:
        # The caps apply as records are read: the first record over the cap ends the read.
        parsed = parse_chunks(
            body, max_records=limits.ingest_max_records, max_depth=limits.ingest_max_depth
        )
    except TooManyRecords as exc:
        # Nothing is stored: one request is one transaction, and this one is refused whole.
        raise ApiProblem(
            413,
            f"at most {exc.limit} alerts per request (SENTINELIQ_MAX_INGEST_RECORDS); "
            "send the rest in further requests",
            kind="too-many-records",
        ) from None
    unreadable = [error for error in parsed.errors if error.record == 0]
    if unreadable or parsed.total == 0:
        raise ApiProblem(
            400,
            "no alert could be read from the body",
            kind="unreadable",
            errors=[FieldError(field=e.field, message=e.problem) for e in unreadable],
        )
    summary: list[_Summary] = []

    def audit(outcomes: Sequence[IngestOutcome]) -> AuditEntry | None:
        # Made inside the ingest transaction: the request's audit entry commits with it.
        summary[:] = [_summarize(parsed, outcomes)]
        totals, stranded, held = summary[0].totals, summary[0].stranded, summary[0].held
        if not (totals.accepted or totals.occurrence):
            return None
        return caller.audit_entry(
            "api.alerts.ingested",
            target=f"workspace:{caller.workspace_id}",
            accepted=totals.accepted,
            occurrence=totals.occurrence,
            duplicate=totals.duplicate,
            refused=totals.refused,
            without_delivery=stranded,
            held=held,
        )

    if parsed.accepted:
        # Concurrent requests into the workspace share a transaction (storage.ingestgroup).
        ingest_group(caller.app.db).ingest(
            caller.workspace_id,
            IngestPart(
                [record.alert for record in parsed.accepted],
                actor=caller.actor,
                warnings=[record.warnings for record in parsed.accepted],
                audit=audit,
            ),
        )
    else:
        audit([])
    done = summary[0]
    return answer(caller, parsed.accepted, done), done.totals.refused > 0


def answer(caller: Caller, accepted: Sequence[ParsedRecord], done: _Summary) -> IngestResult:
    """Count and log what a request stored, and its answer (native ingest and the inputs)."""
    for record, outcome in zip(accepted, done.outcomes, strict=True):
        if outcome.status == "accepted":
            metrics.ALERTS_INGESTED.labels(record.alert.module.value).inc()
    note_held(caller.workspace_id, done.held)
    warning = no_delivery_warning(done.stranded)
    return IngestResult(
        results=done.results,
        totals=done.totals,
        without_delivery=done.stranded,
        warnings=([warning] if warning else []) + held_warnings(done.held),
    )


@dataclass(frozen=True)
class _Summary:
    outcomes: Sequence[IngestOutcome]
    results: list[RecordResult]
    totals: IngestTotals
    stranded: int  # accepted without a delivery
    held: dict[str, int]


def _summarize(parsed: ParseResult, outcomes: Sequence[IngestOutcome]) -> _Summary:
    """The answer per record, in the body's order, and its totals."""
    results: dict[int, RecordResult] = {}
    for record, outcome in zip(parsed.accepted, outcomes, strict=True):
        results[record.record] = RecordResult(
            record=record.record,
            status=outcome.status,
            alert_id=outcome.alert_id,
            occurrence=outcome.occurrence,
            held=list(outcome.held),
            warnings=[FieldWarning(field=w.field, message=w.message) for w in record.warnings],
            deliveries=outcome.deliveries,
            without_delivery=outcome.status == "accepted"
            and outcome.deliveries == 0
            and not outcome.not_ticketed,
            not_ticketed=dict(outcome.not_ticketed),
        )
    for error in parsed.errors:
        refused = results.setdefault(
            error.record, RecordResult(record=error.record, status="refused")
        )
        refused.errors.append(FieldError(field=error.field, message=error.problem))
    ordered = [results[number] for number in sorted(results)]
    held = held_by_provider(outcomes)
    totals = IngestTotals(
        records=len(ordered),
        accepted=sum(1 for r in ordered if r.status == "accepted"),
        occurrence=sum(1 for r in ordered if r.status == "occurrence"),
        duplicate=sum(1 for r in ordered if r.status == "duplicate"),
        refused=sum(1 for r in ordered if r.status == "refused"),
        held=sum(held.values()),
    )
    stranded = sum(1 for r in ordered if r.without_delivery)
    return _Summary(outcomes, ordered, totals, stranded, held)


def _occurrences(summary: OccurrenceSummary) -> list[OccurrenceOut]:
    return [
        OccurrenceOut(
            seq=o.seq,
            received_at=o.received_at,
            detected_at=o.detected_at,
            source_id=o.source_id,
            severity=o.severity,
            raised_from=o.raised_from,
            new_observables=[
                ObservableKeyOut(type=k["type"], value=k["value"]) for k in o.new_observables
            ],
            new_assets=list(o.new_assets),
        )
        for o in summary.latest
    ]


def _deliveries_of(caller: Viewer, alert_id: str) -> list[DeliveryOut]:
    views = DeliveryRepository(caller.app.db).list_for_workspace(
        caller.workspace_id, alert_id=alert_id
    )
    return [DeliveryOut.from_view(view) for view in sorted(views, key=lambda v: v.provider)]


@router.get(
    "/workspaces/{workspace_id}/alerts",
    summary="List alerts",
    description="The workspace's newest alerts (`limit`, default 100), each with the providers "
    "that file no ticket for it and why (brand-protection detections below the gate).",
    response_model=AlertList,
)
def list_alerts(
    caller: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> AlertList:
    rows = AlertRepository(caller.app.db).list_for_workspace(caller.workspace_id, limit=limit)
    return AlertList(
        alerts=[
            AlertListItem(
                id=row.id,
                title=row.title,
                severity=row.severity,
                status=row.status,
                fingerprint=row.fingerprint,
                detected_at=row.detected_at,
                created_at=row.created_at,
                not_ticketed=row.not_ticketed or {},
            )
            for row in rows
        ]
    )


@router.get(
    "/workspaces/{workspace_id}/alerts/{alert_id}",
    summary="Show an alert",
    description="The alert as stored, how often it came back (count, last seen, peak severity "
    "and the latest 20 repeats), its ticket links and the status of each delivery (the "
    "ticket's create, comments about repeats, transitions).",
    response_model=AlertOut,
)
def get_alert(alert_id: AlertId, caller: Viewer) -> AlertOut:
    try:
        stored = AlertRepository(caller.app.db).get(alert_id)
    except NotFoundError:
        stored = None
    if stored is None or stored.workspace_id != caller.workspace_id:
        raise ApiProblem(404, "no such alert in this workspace", kind="not-found")
    lifecycle = AlertStateRepository(caller.app.db)
    state = lifecycle.state(stored.id)
    repeats = occurrence_summary(caller.app.db, stored.id)
    return AlertOut(
        id=stored.id,
        workspace_id=stored.workspace_id,
        fingerprint=stored.fingerprint,
        created_at=stored.created_at,
        occurrence_count=repeats.count,
        last_seen_at=repeats.last_seen_at,
        peak_severity=repeats.peak_severity,
        occurrences=_occurrences(repeats),
        alert=stored.alert.model_dump(mode="json"),
        warnings=[FieldWarning(field=w.field, message=w.message) for w in stored.warnings],
        tickets=[
            TicketLinkOut(
                provider=t.provider, issue_key=t.issue_key, url=t.url, created_at=t.created_at
            )
            for t in stored.tickets
        ],
        deliveries=_deliveries_of(caller, stored.id),
        not_ticketed=stored.not_ticketed or {},
        status=state.status,
        resolution=state.resolution,
        status_changed_at=state.status_changed_at,
        status_changed_by=state.status_changed_by,
        notes=[
            NoteOut(at=n.at, author=n.author, body=n.body, source=n.source)
            for n in lifecycle.notes(stored.id)
        ],
        source_payload=stored.source_payload,
    )
