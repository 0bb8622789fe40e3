"""Chains of custody: verify a workspace's (or one alert's), add an entry, delete evidence.

Every answer carries the chains recomputed at that moment (`checked_at`); a broken chain names
its first failing entry. A deletion is an entry too: the evidence and its chain stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.model import CustodyAction
from sentineliq.services import custody
from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.web.api.auth import Caller, Viewer, require
from sentineliq.web.api.models import StrictInput
from sentineliq.web.api.problems import ApiProblem, FieldError, Problem

router = APIRouter(tags=["evidence"])

_ID = r"^[A-Za-z0-9-]+$"
EvidenceId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=_ID, description="Evidence id.")
]
Custodian = Annotated[Caller, Depends(require(Permission.TRIAGE))]


class CustodyEntryOut(BaseModel):
    number: int = Field(description="1 is the first entry; reports name entries by it.")
    action: str
    actor: str
    at: str
    location: str | None
    notes: str | None


class CustodyChainOut(BaseModel):
    evidence_id: str = Field(
        description="Empty when the evidence's record was removed outside SentinelIQ (broken)."
    )
    alert_id: str
    evidence_index: int = Field(description="The evidence's place in its alert, from 0.")
    name: str
    status: str = Field(description="`intact` or `broken`.")
    broken_entry: int | None = Field(
        description="The first entry that fails verification (0: the evidence's own name or "
        "hashes changed); null when intact."
    )
    problem: str | None = Field(description="What is wrong, naming the entry; null when intact.")
    checked_at: str = Field(description="When the chain was recomputed (UTC).")
    deleted_at: str | None = Field(description="When the evidence was deleted, if it was.")
    entries: list[CustodyEntryOut]


class CustodyEntryIn(StrictInput):
    # Lax for this field only: JSON carries the action as its string value.
    action: CustodyAction = Field(strict=False)
    actor: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        json_schema_extra={"pattern": r"\S"},
        description="Who handled the evidence; by default the caller (email or api_key:<name>).",
    )
    at: AwareDatetime | None = Field(
        default=None,
        strict=False,  # JSON carries it as an RFC 3339 string
        description="When, with a timezone; by default now.",
        examples=["2026-12-03T09:30:00Z"],
    )
    location: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=10_000)


class EvidenceDeleteIn(StrictInput):
    reason: str = Field(
        min_length=1,
        max_length=2000,
        json_schema_extra={"pattern": r"\S"},
        description="Why the evidence is deleted; the notes of its `deleted` entry.",
    )
    actor: str | None = Field(
        default=None, min_length=1, max_length=1000, json_schema_extra={"pattern": r"\S"}
    )


def _out(check: CustodyCheck) -> CustodyChainOut:
    return CustodyChainOut.model_validate(custody.check_view(check))


def _invalid(exc: InvalidFieldError) -> ApiProblem:
    return ApiProblem(
        422,
        f"{exc.field}: {exc.message}",
        kind="validation",
        errors=[FieldError(field=f"body.{exc.field}", message=exc.message)],
    )


_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such evidence in this workspace."},
}
_CHANGE_ERRORS: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND,
    409: {"model": Problem, "description": "The evidence was deleted: its chain is closed."},
    422: {"model": Problem, "description": "A field is invalid; `errors` names it."},
}


@router.get(
    "/workspaces/{workspace_id}/custody",
    summary="Verify chains of custody",
    description=(
        "Recomputes the hash chain of every evidence of the workspace (deleted evidence "
        "included), or of one alert's with `alert_id`, and reports each: `intact`, or `broken` "
        "with the first failing entry (altered, missing, added or out of order) named."
    ),
    response_model=list[CustodyChainOut],
    responses={404: {"model": Problem, "description": "No such alert in this workspace."}},
)
def verify_custody(
    caller: Viewer,
    alert_id: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=_ID, description="Only this alert's."),
    ] = None,
) -> list[CustodyChainOut]:
    try:
        checks = custody.verify(caller.app, caller.workspace_id, alert_id)
    except NotFoundError:
        raise ApiProblem(404, "no such alert in this workspace", kind="not-found") from None
    return [_out(check) for check in checks]


@router.post(
    "/workspaces/{workspace_id}/evidence/{evidence_id}/custody",
    summary="Add a custody entry",
    description=(
        "Chains an entry after the evidence's recorded head and answers the chain, verified. "
        "Needs the triage permission (members, admins, the workspace's API key); audited as "
        "the caller. 409 once the evidence is deleted."
    ),
    status_code=201,
    response_model=CustodyChainOut,
    responses=_CHANGE_ERRORS,
)
def add_custody_entry(
    evidence_id: EvidenceId, body: CustodyEntryIn, caller: Custodian
) -> CustodyChainOut:
    try:
        entry = custody.new_entry(
            body.action.value,
            body.actor or caller.actor,
            at=body.at,
            location=body.location,
            notes=body.notes,
        )
    except InvalidFieldError as exc:
        raise _invalid(exc) from None
    return _change(
        lambda: custody.append(
            caller.app, caller.workspace_id, evidence_id, entry, recorded_by=caller.actor
        )
    )


@router.post(
    "/workspaces/{workspace_id}/evidence/{evidence_id}/delete",
    summary="Delete evidence",
    description=(
        "Closes the evidence's chain with a `deleted` entry giving the reason; the evidence "
        "and its chain stay and keep verifying. Needs the triage permission; audited. 409 "
        "when it is already deleted."
    ),
    response_model=CustodyChainOut,
    responses=_CHANGE_ERRORS,
)
def delete_evidence(
    evidence_id: EvidenceId, body: EvidenceDeleteIn, caller: Custodian
) -> CustodyChainOut:
    return _change(
        lambda: custody.delete_evidence(
            caller.app,
            caller.workspace_id,
            evidence_id,
            actor=body.actor or caller.actor,
            reason=body.reason,
            recorded_by=caller.actor,
        )
    )


def _change(act: Callable[[], CustodyCheck]) -> CustodyChainOut:
    try:
        return _out(act())
    except InvalidFieldError as exc:
        raise _invalid(exc) from None
    except NotFoundError:
        raise ApiProblem(404, "no such evidence in this workspace", kind="not-found") from None
    except InvalidStateError as exc:
        raise ApiProblem(409, str(exc), kind="conflict") from None
