"""A workspace's deliveries: list and filter, show with attempt history, replay, and the storm
guard's held tickets released or discarded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.api.auth import Replayer, Viewer
from sentineliq.web.api.models import (
    AttemptOut,
    DeliveryDetailOut,
    DeliveryList,
    DeliveryOut,
    HeldResult,
    HeldSelectionIn,
    ReplayResult,
)
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["deliveries"])

DeliveryId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="Delivery id."),
]


def _not_found() -> ApiProblem:
    return ApiProblem(404, "no such delivery in this workspace", kind="not-found")


@router.get(
    "/workspaces/{workspace_id}/deliveries",
    summary="List deliveries",
    description="Most recently updated first, optionally only those with one status: "
    "`?status=held` lists the new tickets the storm guard holds for review. Each says its "
    "`operation` (create_issue for an alert's ticket, report_occurrences for a comment about "
    "repeats, ...).",
    response_model=DeliveryList,
)
def list_deliveries(
    caller: Viewer,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryList:
    views = DeliveryRepository(caller.app.db).list_for_workspace(
        caller.workspace_id, status, limit=limit
    )
    return DeliveryList(deliveries=[DeliveryOut.from_view(view) for view in views])


def _selection(body: HeldSelectionIn) -> list[str] | None:
    """The ids chosen, or None for all of them; exactly one of the two must be given."""
    if body.all:
        if "ids" in body.model_fields_set:
            raise _selection_problem("body.all", "give either ids or all: true, not both")
        return None
    if not body.ids:
        raise _selection_problem("body.ids", "give the held deliveries' ids, or all: true")
    return body.ids


def _selection_problem(field: str, message: str) -> ApiProblem:
    return ApiProblem(
        422,
        "the request does not match the operation's parameters or body",
        kind="validation",
        errors=[FieldError(field=field, message=message)],
    )


def _settle(caller: Replayer, body: HeldSelectionIn, release: bool) -> HeldResult:
    ids = _selection(body)
    repository = DeliveryRepository(caller.app.db)
    settle = repository.release_held if release else repository.discard_held
    try:
        records = settle(caller.workspace_id, ids, actor=caller.actor)
    except NotFoundError as exc:  # names the ids that are not held here (any workspace's)
        raise ApiProblem(
            404, str(exc), kind="not-found", errors=[FieldError(field="body.ids", message=str(exc))]
        ) from None
    action = "released" if release else "discarded"
    caller.audit(
        f"api.deliveries.held_{action}",
        target=f"workspace:{caller.workspace_id}",
        count=len(records),
        all=ids is None,
    )
    return HeldResult(
        action=action,
        ids=[record.id for record in records],
        count=len(records),
        still_held=repository.count_held(caller.workspace_id),
    )


HELD_BODY_HELP = (
    'Body: {"ids": [...]} for chosen held deliveries, or {"all": true} for every one of the '
    "workspace (exactly one of the two; 422 naming the field otherwise). 404 naming the ids "
    "that are not held in this workspace (unknown, or released or discarded already); then "
    "nothing is changed."
)


@router.post(
    "/workspaces/{workspace_id}/deliveries/held/release",
    summary="Release held tickets: file them after all",
    description="The storm guard held these new tickets; released ones become pending and the "
    "next worker run files them. " + HELD_BODY_HELP,
    response_model=HeldResult,
)
def release_held(body: HeldSelectionIn, caller: Replayer) -> HeldResult:
    return _settle(caller, body, release=True)


@router.post(
    "/workspaces/{workspace_id}/deliveries/held/discard",
    summary="Discard held tickets: never file them",
    description="The alerts stay (and keep counting repeats); their tickets are not filed. "
    + HELD_BODY_HELP,
    response_model=HeldResult,
)
def discard_held(body: HeldSelectionIn, caller: Replayer) -> HeldResult:
    return _settle(caller, body, release=False)


@router.get(
    "/workspaces/{workspace_id}/deliveries/{delivery_id}",
    summary="Show a delivery with its attempt history",
    response_model=DeliveryDetailOut,
)
def get_delivery(delivery_id: DeliveryId, caller: Viewer) -> DeliveryDetailOut:
    detail = DeliveryRepository(caller.app.db).detail(delivery_id)
    if detail is None or detail.delivery.workspace_id != caller.workspace_id:
        raise _not_found()
    d = detail.delivery
    return DeliveryDetailOut(
        **DeliveryOut.from_view(detail.view).model_dump(),
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        provider_paused_reason=detail.provider_paused_reason,
        history=[
            AttemptOut(
                attempt=a.attempt,
                worker_id=a.worker_id,
                started_at=a.started_at,
                finished_at=a.finished_at,
                outcome=a.outcome.value,
                error_kind=a.error_kind,
                message=a.message,
                http_status=a.http_status,
                retry_at=a.retry_at,
            )
            for a in detail.history
        ],
    )


@router.post(
    "/workspaces/{workspace_id}/deliveries/replay-dead",
    summary="Replay every dead delivery of the workspace",
    response_model=ReplayResult,
)
def replay_dead(caller: Replayer) -> ReplayResult:
    records = DeliveryRepository(caller.app.db).replay_dead(caller.workspace_id, actor=caller.actor)
    caller.audit(
        "api.deliveries.replayed_dead",
        target=f"workspace:{caller.workspace_id}",
        count=len(records),
    )
    return ReplayResult(replayed=[record.id for record in records])


@router.post(
    "/workspaces/{workspace_id}/deliveries/{delivery_id}/replay",
    summary="Replay one dead or failed delivery now",
    description="409 when the delivery is delivered (a replay would file a second ticket) or "
    "on its way.",
    response_model=ReplayResult,
)
def replay_delivery(delivery_id: DeliveryId, caller: Replayer) -> ReplayResult:
    repository = DeliveryRepository(caller.app.db)
    found = repository.get(delivery_id)
    if found is None or found.workspace_id != caller.workspace_id:
        raise _not_found()
    try:
        record = repository.requeue(delivery_id, actor=caller.actor)
    except NotFoundError:
        raise _not_found() from None
    # InvalidStateError (delivered, or waiting for its paused provider): 409, by PROBLEM_TYPES.
    caller.audit("api.delivery.replayed", target=f"delivery:{record.id}")
    return ReplayResult(replayed=[record.id])
