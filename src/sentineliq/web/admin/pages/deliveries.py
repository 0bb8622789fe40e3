"""The delivery log, a delivery's attempt history, and dead-letter replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.services.identity import Permission
from sentineliq.storage.deliveries import DeliveryDetail, DeliveryRepository, DeliveryStatus
from sentineliq.storage.errors import InvalidStateError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageError, PageNotFound
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("deliveries")]
LIST_LIMIT = 200
STATUSES = tuple(status.value for status in DeliveryStatus)


class Conflict(PageError):
    status_code = 409
    title = "Cannot replay"


@router.get("/w/{workspace_id}/deliveries")
def deliveries(request: Request, page: Page, status: str = "") -> Response:
    chosen = status if status in STATUSES else ""
    repository = DeliveryRepository(page.app.db)
    rows = repository.list_for_workspace(page.workspace.id, chosen or None, limit=LIST_LIMIT)
    counts = repository.count_by_status(page.workspace.id)
    return render(
        request,
        "deliveries.html",
        {
            "title": "Deliveries",
            "page": page,
            "flash": flash_from(request),
            "rows": rows,
            "status": chosen,
            "statuses": STATUSES,
            "counts": {s.value: n for s, n in counts.items()},
            "limit": LIST_LIMIT,
            "can_replay": page.can(Permission.REPLAY),
        },
    )


def _detail(page: WorkspacePage, delivery_id: str) -> DeliveryDetail:
    found = DeliveryRepository(page.app.db).detail(delivery_id)
    # Another workspace's delivery looks exactly like a missing one.
    if found is None or found.delivery.workspace_id != page.workspace.id:
        raise PageNotFound("There is no such delivery in this workspace.")
    return found


@router.get("/w/{workspace_id}/deliveries/{delivery_id}")
def delivery(request: Request, page: Page, delivery_id: str) -> Response:
    detail = _detail(page, delivery_id)
    return render(
        request,
        "delivery.html",
        {
            "title": f"Delivery {detail.delivery.id[:8]}",
            "page": page,
            "flash": flash_from(request),
            "detail": detail,
            "can_replay": page.can(Permission.REPLAY),
        },
    )


@router.post("/w/{workspace_id}/deliveries/replay-dead")
def replay_all_dead(page: Page, _posted: VerifiedForm) -> Response:
    page.require(Permission.REPLAY)
    replayed = DeliveryRepository(page.app.db).replay_dead(page.workspace.id, actor=page.actor)
    page.audit("deliveries.replay_all", "deliveries", {"count": len(replayed)})
    code = "replayed_all" if replayed else "nothing_dead"
    return RedirectResponse(page.url(f"/deliveries?done={code}"), status_code=303)


@router.post("/w/{workspace_id}/deliveries/{delivery_id}/replay")
def replay(page: Page, delivery_id: str, _posted: VerifiedForm) -> Response:
    page.require(Permission.REPLAY)
    _detail(page, delivery_id)
    try:
        DeliveryRepository(page.app.db).requeue(delivery_id, actor=page.actor)
    except InvalidStateError as exc:
        raise Conflict(str(exc)) from None
    page.audit("delivery.replay", f"delivery:{delivery_id}")
    return RedirectResponse(page.url(f"/deliveries/{delivery_id}?done=replayed"), status_code=303)
