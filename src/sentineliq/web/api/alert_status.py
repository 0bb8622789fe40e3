"""POST an alert's resolve, dismiss or reopen: a person (or an alert source's key) closing it.

Resolve and dismiss move the alert's tickets too: the answer lists the transition deliveries
queued, one per provider that files the alert's ticket; the worker performs each exactly once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator

from sentineliq.services.alerttriage import REASON_MAX, TriageAction, triage
from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.web.api.alerts import AlertId
from sentineliq.web.api.auth import Caller, require
from sentineliq.web.api.models import StrictInput
from sentineliq.web.api.problems import ApiProblem, FieldError, Problem

router = APIRouter(tags=["alerts"])


class TriageIn(StrictInput):
    # The document says what is accepted: not blank (the service trims), at most REASON_MAX.
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX,
        json_schema_extra={"pattern": r"\S"},  # checked below, with a plainer message
        description=f"Why: at most {REASON_MAX} characters, not blank (it is trimmed). "
        "Resolve and dismiss "
        "write it into the comment added to each ticket; it is kept in the audit log.",
        examples=["false positive: the scheduled vulnerability scan"],
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank: say why, for the ticket and the audit log")
        return value


class TransitionOut(BaseModel):
    provider: str
    delivery_id: str = Field(description="The transition delivery (GET .../deliveries/{id}).")


class TriageOut(BaseModel):
    alert_id: str
    previous_status: str
    status: str
    actor: str = Field(description='Who it is recorded as: a user\'s email or "api_key:<name>".')
    transitions: list[TransitionOut] = Field(
        description="Transition deliveries queued (none for reopen, or without a ticket)."
    )


Triager = Annotated[Caller, Depends(require(Permission.TRIAGE))]

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such alert in this workspace."},
    409: {"model": Problem, "description": "The alert already has that status."},
    422: {"model": Problem, "description": "`reason` is missing, blank or too long."},
}


def _act(caller: Caller, alert_id: str, action: TriageAction, body: TriageIn) -> TriageOut:
    try:
        done = triage(
            caller.app,
            caller.workspace_id,
            alert_id,
            action,
            actor=caller.actor,
            reason=body.reason,
        )
    except InvalidFieldError as exc:
        raise ApiProblem(
            422,
            f"{exc.field}: {exc.message}",
            kind="validation",
            errors=[FieldError(field=f"body.{exc.field}", message=exc.message)],
        ) from None
    except NotFoundError:
        raise ApiProblem(404, "no such alert in this workspace", kind="not-found") from None
    except InvalidStateError as exc:
        raise ApiProblem(409, str(exc), kind="conflict") from None
    return TriageOut(
        alert_id=done.alert_id,
        previous_status=done.before,
        status=done.status,
        actor=done.actor,
        transitions=[
            TransitionOut(provider=t.provider, delivery_id=t.delivery_id) for t in done.transitions
        ],
    )


_WHO = (
    " Needs the triage permission: any member of the workspace (recorded by email) or the "
    "workspace's API key (recorded as `api_key:<name>`). 404 for an alert of another workspace."
)


@router.post(
    "/workspaces/{workspace_id}/alerts/{alert_id}/resolve",
    summary="Resolve an alert",
    description=(
        "Sets the alert's status to `resolved` and queues, per provider that files its ticket, "
        "a transition moving the ticket by the provider's `lifecycle.resolve_transitions` "
        "(resolution `lifecycle.resolve_resolution`) with a comment naming who and why; the "
        "worker performs it once. 409 when the alert is already resolved." + _WHO
    ),
    response_model=TriageOut,
    responses=_ERRORS,
)
def resolve_alert(alert_id: AlertId, body: TriageIn, caller: Triager) -> TriageOut:
    return _act(caller, alert_id, TriageAction.RESOLVE, body)


@router.post(
    "/workspaces/{workspace_id}/alerts/{alert_id}/dismiss",
    summary="Dismiss an alert",
    description=(
        "Sets the alert's status to `dismissed` (not a real problem) and queues, per provider "
        "that files its ticket, a transition by `lifecycle.dismiss_transitions` (resolution "
        "`lifecycle.dismiss_resolution`, e.g. Won't Do) with a comment naming who and why. "
        "409 when the alert is already dismissed." + _WHO
    ),
    response_model=TriageOut,
    responses=_ERRORS,
)
def dismiss_alert(alert_id: AlertId, body: TriageIn, caller: Triager) -> TriageOut:
    return _act(caller, alert_id, TriageAction.DISMISS, body)


@router.post(
    "/workspaces/{workspace_id}/alerts/{alert_id}/reopen",
    summary="Reopen an alert",
    description=(
        "Sets the alert's status back to `new` in SentinelIQ only: nothing is sent to its "
        "tickets (`transitions` is empty), which stay as they are; reopen the ticket in Jira "
        "if it should be worked again. 409 when the alert is already new." + _WHO
    ),
    response_model=TriageOut,
    responses=_ERRORS,
)
def reopen_alert(alert_id: AlertId, body: TriageIn, caller: Triager) -> TriageOut:
    return _act(caller, alert_id, TriageAction.REOPEN, body)
