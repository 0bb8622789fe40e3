"""API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("api-keys")]


def _list_page(
    request: Request,
    page: WorkspacePage,
    *,
    name: str = "",
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "api_keys.html",
        {
            "title": "API keys",
            "page": page,
            "flash": flash_from(request),
            "keys": page.identity.list_api_keys(page.workspace.id),
            "name": name,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/w/{workspace_id}/api-keys")
def api_keys(request: Request, page: Page) -> Response:
    page.require(Permission.MANAGE_KEYS)
    return _list_page(request, page)


@router.post("/w/{workspace_id}/api-keys")
def create_key(request: Request, page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_KEYS)
    value = posted.get("name")
    name = value.strip() if isinstance(value, str) else ""
    origin = page.origin
    try:
        record, plaintext = page.identity.create_api_key(
            page.workspace.id,
            name,
            actor=page.actor,
            ip=origin["ip"],
            user_agent=origin["user_agent"],
        )
    except InvalidFieldError as exc:
        return _list_page(
            request, page, name=name, errors={exc.field: [exc.message]}, status_code=422
        )
    # The only time the key exists outside the caller's hands: this response, never cached.
    return render(
        request,
        "api_key_created.html",
        {"title": "API key created", "page": page, "record": record, "plaintext": plaintext},
        status_code=201,
    )


@router.post("/w/{workspace_id}/api-keys/{key_id}/revoke")
def revoke_key(page: Page, key_id: str, _posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_KEYS)
    origin = page.origin
    try:
        page.identity.revoke_api_key(
            page.workspace.id,
            key_id,
            actor=page.actor,
            ip=origin["ip"],
            user_agent=origin["user_agent"],
        )
    except NotFoundError:
        raise PageNotFound("There is no such API key in this workspace.") from None
    return RedirectResponse(page.url("/api-keys?done=revoked"), status_code=303)
