"""Resolve, dismiss or reopen an alert from its page, with a reason; the page shows its status.

A resolve or dismiss queues the moves of the alert's tickets (the worker makes them); the flash
says so. Members, admins and owners may triage (Permission.TRIAGE); the actor is the user's
email. Refusals come back as a flash on the alert's page, chosen by a fixed code.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.services.alerttriage import REASON_MAX, TriageAction, triage
from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import Flash, flash_from
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("alerts")]

MESSAGES = {
    "resolved_queued": Flash("success", "Alert resolved. Its ticket will be moved to done."),
    "dismissed_queued": Flash("success", "Alert dismissed. Its ticket will be closed."),
    "resolved": Flash("success", "Alert resolved. It has no ticket to move."),
    "dismissed": Flash("success", "Alert dismissed. It has no ticket to close."),
    "new": Flash("info", "Alert reopened in SentinelIQ. Its ticket was left as it is."),
    "already": Flash("info", "The alert already had that status: nothing changed."),
    "reason_required": Flash("error", "Give a reason: it goes into the ticket's comment."),
    "reason_too_long": Flash("error", f"The reason is longer than {REASON_MAX} characters."),
}


def status_context(request: Request, page: WorkspacePage, alert_id: str) -> dict[str, Any]:
    """What the alert page needs for its status card and this module's flash messages."""
    return {
        "flash": MESSAGES.get(request.query_params.get("done", "")) or flash_from(request),
        "triage": {
            "state": AlertStateRepository(page.app.db).state(alert_id),
            "can": page.can(Permission.TRIAGE),
            "reason_max": REASON_MAX,
        },
    }


def _act(
    page: WorkspacePage, alert_id: str, posted: VerifiedForm, action: TriageAction
) -> Response:
    page.require(Permission.TRIAGE)
    posted_reason = posted.get("reason")
    reason = posted_reason if isinstance(posted_reason, str) else None
    try:
        done = triage(
            page.app,
            page.workspace.id,
            alert_id,
            action,
            actor=page.actor,
            reason=reason,
        )
    except NotFoundError:
        raise PageNotFound("There is no such alert in this workspace.") from None
    except InvalidStateError:
        code = "already"
    except InvalidFieldError:
        code = "reason_too_long" if (reason or "").strip() else "reason_required"
    else:
        code = done.status + ("_queued" if done.transitions else "")
    return RedirectResponse(page.url(f"/alerts/{alert_id}?done={code}"), status_code=303)


@router.post("/w/{workspace_id}/alerts/{alert_id}/resolve")
def resolve(page: Page, alert_id: str, posted: VerifiedForm) -> Response:
    return _act(page, alert_id, posted, TriageAction.RESOLVE)


@router.post("/w/{workspace_id}/alerts/{alert_id}/dismiss")
def dismiss(page: Page, alert_id: str, posted: VerifiedForm) -> Response:
    return _act(page, alert_id, posted, TriageAction.DISMISS)


@router.post("/w/{workspace_id}/alerts/{alert_id}/reopen")
def reopen(page: Page, alert_id: str, posted: VerifiedForm) -> Response:
    return _act(page, alert_id, posted, TriageAction.REOPEN)
