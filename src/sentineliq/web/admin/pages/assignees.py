"""Assignees: the workspace's email -> Jira account id mappings; list, add, remove.

Everyone in the workspace sees them; owners and admins (MANAGE_PROVIDERS) change them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.services import assignees
from sentineliq.services.identity import Permission
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("assignees")]


def _text(posted: VerifiedForm, name: str) -> str:
    value = posted.get(name)
    return value.strip() if isinstance(value, str) else ""


def _origin(page: WorkspacePage) -> dict[str, str]:
    return {key: value for key, value in page.origin.items() if value is not None}


def _list_page(
    request: Request,
    page: WorkspacePage,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "assignees.html",
        {
            "title": "Assignees",
            "page": page,
            "flash": flash_from(request),
            "mappings": assignees.list_mappings(page.app, page.workspace.id),
            "values": values or {"email": "", "account_id": ""},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/w/{workspace_id}/assignees")
def assignee_list(request: Request, page: Page) -> Response:
    return _list_page(request, page)


@router.post("/w/{workspace_id}/assignees")
def map_assignee(request: Request, page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    values = {"email": _text(posted, "email"), "account_id": _text(posted, "account_id")}
    try:
        assignees.map_assignee(
            page.app,
            page.workspace.id,
            values["email"],
            values["account_id"],
            actor=page.actor,
            origin=_origin(page),
        )
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        return _list_page(request, page, values=values, errors={field: [message]}, status_code=422)
    return RedirectResponse(page.url("/assignees?done=assignee_mapped"), status_code=303)


@router.post("/w/{workspace_id}/assignees/remove")
def unmap_assignee(page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    try:
        assignees.unmap_assignee(
            page.app,
            page.workspace.id,
            _text(posted, "email"),
            actor=page.actor,
            origin=_origin(page),
        )
    except (NotFoundError, ValueError):
        raise PageNotFound("This email has no assignee mapping in this workspace.") from None
    return RedirectResponse(page.url("/assignees?done=assignee_unmapped"), status_code=303)
