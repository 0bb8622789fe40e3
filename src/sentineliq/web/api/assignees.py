"""A workspace's assignee mappings: email -> Jira account id, tried before Jira's user search.

Anyone who can view the workspace may list them; only owners and admins (MANAGE_PROVIDERS) may
change them, since they decide who gets paged. Changes are audited with the caller's origin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from sentineliq.services import assignees
from sentineliq.services.assignees import AssigneeMappingRecord
from sentineliq.services.identity import audit_origin
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.api.auth import Caller, ProviderManager, Viewer
from sentineliq.web.api.models import StrictInput
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["assignees"])

PATH = "/workspaces/{workspace_id}/assignees"


class AssigneeIn(StrictInput):
    email: str = Field(max_length=320, description="The assignee email as alerts carry it.")
    account_id: str = Field(
        max_length=128, description="The Jira accountId, e.g. 5b10ac8d82e05b22cc7d4ef5."
    )


class AssigneeOut(BaseModel):
    email: str = Field(description="Trimmed and lower-cased.")
    account_id: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class AssigneeList(BaseModel):
    assignees: list[AssigneeOut]


def _out(record: AssigneeMappingRecord) -> AssigneeOut:
    return AssigneeOut(
        email=record.email,
        account_id=record.account_id,
        updated_by=record.updated_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _refused(exc: ValueError) -> ApiProblem:
    field, sep, message = str(exc).partition(": ")
    error = (
        FieldError(field=field, message=message) if sep else FieldError(field="", message=str(exc))
    )
    return ApiProblem(422, "the assignee mapping was refused", kind="validation", errors=[error])


def _origin(caller: Caller) -> dict[str, str]:
    return dict(audit_origin(caller.ip, caller.user_agent))


@router.get(PATH, summary="List assignee mappings", response_model=AssigneeList)
def list_assignees(caller: Viewer) -> AssigneeList:
    records = assignees.list_mappings(caller.app, caller.workspace_id)
    return AssigneeList(assignees=[_out(r) for r in records])


@router.put(
    PATH,
    summary="Map an assignee email to a Jira account",
    description=(
        "Tickets for this email are assigned to the account, whatever Jira's user search "
        "finds. Replaces an earlier mapping of the same email. 201 when created."
    ),
    response_model=AssigneeOut,
    responses={201: {"model": AssigneeOut, "description": "Created."}},
)
def put_assignee(body: AssigneeIn, caller: ProviderManager, response: Response) -> AssigneeOut:
    try:
        record, created = assignees.map_assignee(
            caller.app,
            caller.workspace_id,
            body.email,
            body.account_id,
            actor=caller.actor,
            origin=_origin(caller),
        )
    except ValueError as exc:
        raise _refused(exc) from None
    if created:
        response.status_code = 201
    return _out(record)


@router.delete(
    PATH,
    summary="Remove an assignee mapping",
    description="Tickets for the email are resolved by Jira's user search again.",
    status_code=204,
    response_class=Response,
)
def delete_assignee(
    caller: ProviderManager,
    email: Annotated[str, Query(min_length=1, max_length=320, description="The mapped email.")],
) -> Response:
    try:
        assignees.unmap_assignee(
            caller.app, caller.workspace_id, email, actor=caller.actor, origin=_origin(caller)
        )
    except (NotFoundError, ValueError):
        # An address that is not one cannot have been mapped either.
        raise ApiProblem(
            404, "this email has no assignee mapping in the workspace", kind="not-found"
        ) from None
    return Response(status_code=204)
