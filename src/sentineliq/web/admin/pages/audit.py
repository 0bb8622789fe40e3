"""The audit log: who did what, when, and from where."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sentineliq.services.identity import Permission
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("audit")]
LIST_LIMIT = 300
_ORIGIN_KEYS = ("ip", "user_agent")


@router.get("/w/{workspace_id}/audit")
def audit_log(request: Request, page: Page) -> Response:
    page.require(Permission.VIEW_AUDIT)
    entries = AuditRepository(page.app.db).list(page.workspace.id, limit=LIST_LIMIT)
    rows = [
        {
            "entry": entry,
            "ip": entry.details.get("ip"),
            "user_agent": entry.details.get("user_agent"),
            # Details are scrubbed of secrets when written; shown here as short key=value text.
            "details": ", ".join(
                f"{key}={value}"
                for key, value in entry.details.items()
                if key not in _ORIGIN_KEYS and not isinstance(value, dict | list)
            ),
        }
        for entry in entries
    ]
    return render(
        request,
        "audit.html",
        {"title": "Audit log", "page": page, "rows": rows, "limit": LIST_LIMIT},
    )
