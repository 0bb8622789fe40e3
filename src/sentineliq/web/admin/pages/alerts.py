"""The alerts list and an alert's page: its fields, its evidence with each chain of custody
verified, its tickets and its deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentineliq.services import custody
from sentineliq.storage.alerts import AlertRepository, StoredAlert
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrence_reads import occurrence_summary
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.pages.alert_status import status_context
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("alerts")]
LIST_LIMIT = 200


@router.get("/w/{workspace_id}/alerts")
def alerts(request: Request, page: Page) -> Response:
    rows = AlertRepository(page.app.db).list_for_workspace(page.workspace.id, limit=LIST_LIMIT)
    return render(
        request,
        "alerts.html",
        {"title": "Alerts", "page": page, "rows": rows, "limit": LIST_LIMIT},
    )


def _alert(page: WorkspacePage, alert_id: str) -> StoredAlert:
    try:
        found = AlertRepository(page.app.db).get(alert_id)
    except NotFoundError:
        found = None
    # Another workspace's alert looks exactly like a missing one.
    if found is None or found.workspace_id != page.workspace.id:
        raise PageNotFound("There is no such alert in this workspace.")
    return found


@router.get("/w/{workspace_id}/alerts/{alert_id}")
def alert(request: Request, page: Page, alert_id: str) -> Response:
    stored = _alert(page, alert_id)
    deliveries = DeliveryRepository(page.app.db).list_for_workspace(
        page.workspace.id, alert_id=alert_id
    )
    return render(
        request,
        "alert.html",
        {
            "title": stored.alert.title,
            "page": page,
            "stored": stored,
            "alert": stored.alert,
            "deliveries": deliveries,
            "repeats": occurrence_summary(page.app.db, stored.id),
            # Recomputed on every view: the page shows each chain's state as of now.
            "custody": custody.verify(page.app, page.workspace.id, stored.id),
            **status_context(request, page, stored.id),
        },
    )
