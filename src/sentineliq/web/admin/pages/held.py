"""The storm guard's held tickets: reviewed, then released (filed after all) or discarded.

Everyone in the workspace sees them (and the banner on every workspace page); owners and admins
(REPLAY, like dead-letter replay) settle them. A selection that is no longer held as a whole
(someone settled part of it meanwhile) changes nothing and says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.services.identity import Permission
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("deliveries")]
LIST_LIMIT = 1000  # the most one form may settle by id (the API's limit too)
MAX_ID_LENGTH = 64


@router.get("/w/{workspace_id}/deliveries/held")
def held(request: Request, page: Page) -> Response:
    rows = DeliveryRepository(page.app.db).list_for_workspace(
        page.workspace.id, DeliveryStatus.HELD, limit=LIST_LIMIT
    )
    rows.sort(key=lambda row: (row.updated_at, row.alert_title, row.id))  # oldest first
    return render(
        request,
        "held.html",
        {
            "title": "Held tickets",
            "page": page,
            "flash": flash_from(request),
            "rows": rows,
            "limit": LIST_LIMIT,
            "can_settle": page.can(Permission.REPLAY),
        },
    )


def _chosen(posted: VerifiedForm) -> list[str] | None:
    """The ids ticked, or None when "all" was asked for; [] when nothing usable was sent."""
    if posted.get("all") == "1":
        return None
    ids = [
        value.strip()
        for value in posted.getlist("ids")
        if isinstance(value, str) and 0 < len(value.strip()) <= MAX_ID_LENGTH
    ]
    return list(dict.fromkeys(ids))[:LIST_LIMIT]


def _settle(page: WorkspacePage, posted: VerifiedForm, release: bool) -> Response:
    page.require(Permission.REPLAY)
    chosen = _chosen(posted)
    if chosen == []:
        return RedirectResponse(page.url("/deliveries/held?done=held_none"), status_code=303)
    repository = DeliveryRepository(page.app.db)
    settle = repository.release_held if release else repository.discard_held
    try:
        records = settle(page.workspace.id, chosen, actor=page.actor)
    except NotFoundError:
        return RedirectResponse(page.url("/deliveries/held?done=held_changed"), status_code=303)
    action = "released" if release else "discarded"
    page.audit(
        f"deliveries.held_{action}", "deliveries", {"count": len(records), "all": chosen is None}
    )
    return RedirectResponse(
        page.url(f"/deliveries/held?done=held_{action}&count={len(records)}"), status_code=303
    )


@router.post("/w/{workspace_id}/deliveries/held/release")
def release(page: Page, posted: VerifiedForm) -> Response:
    return _settle(page, posted, release=True)


@router.post("/w/{workspace_id}/deliveries/held/discard")
def discard(page: Page, posted: VerifiedForm) -> Response:
    return _settle(page, posted, release=False)
