"""Sender URLs: per-input tokens for tools that can only be given a URL (Splunk's webhook alert
action). Create, list and revoke a workspace input's tokens; POST a payload to
`/api/v1/hooks/{token}` without any header, read exactly as POST .../inputs/{name} would.

The token is the credential: it is checked before the body is read (web.bodylimit), answered
401 alike whether it is malformed, unknown or revoked, and masked in every log line
(sentineliq.logs). It authorizes that one input of that one workspace and no other route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sentineliq.services.mappings import MappingError
from sentineliq.services.urltokens import HOOKS_PATH, UrlTokens, principal_of
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.urltokens import UrlTokenRecord
from sentineliq.web.api.auth import Caller, ProviderManager, _unauthorized
from sentineliq.web.api.inputs import InputIngestResult, _receive
from sentineliq.web.api.mappings import PAYLOAD_BODY, MappingName, _json_only, _known
from sentineliq.web.api.problems import ApiProblem
from sentineliq.web.context import app_context

router = APIRouter(tags=["inputs"])

TOKENS_PATH = "/workspaces/{workspace_id}/inputs/{name}/url-tokens"
ONCE_NOTE = "Store this URL now: it cannot be shown again. It is a secret: anyone who has it can "
ONCE_NOTE += "post alerts to this input."


class UrlTokenOut(BaseModel):
    id: str
    input: str = Field(description="The input the token may post to, and nothing else.")
    prefix: str = Field(description="Tells tokens apart; not enough to use one.")
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class UrlTokenCreated(UrlTokenOut):
    url: str = Field(description="The sender URL, token included: shown this once only.")
    note: str = ONCE_NOTE


class UrlTokenList(BaseModel):
    url_tokens: list[UrlTokenOut]


def _out(record: UrlTokenRecord) -> UrlTokenOut:
    return UrlTokenOut(
        id=record.id,
        input=record.input_name,
        prefix=record.prefix,
        created_by=record.created_by,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


@router.post(
    TOKENS_PATH,
    status_code=201,
    summary="Create a sender URL for an input",
    description=(
        "For a tool that can only be given a URL, no header (Splunk's webhook alert action): "
        "a URL `/api/v1/hooks/<token>` that posts to this input (a saved mapping or a preset) "
        "of this workspace and to nothing else. The URL is answered this once; only a digest "
        "is kept. It is a secret: rotate it by creating a new one and revoking the old. Audited."
    ),
    response_model=UrlTokenCreated,
)
def create_url_token(
    request: Request, name: MappingName, caller: ProviderManager
) -> UrlTokenCreated:
    try:
        created = UrlTokens(caller.app).create(
            caller.workspace_id,
            name,
            actor=caller.actor,
            ip=caller.ip,
            user_agent=caller.user_agent,
        )
    except MappingError as exc:
        raise ApiProblem(404, str(exc.problem), kind="not-found") from None
    base = str(request.base_url).rstrip("/")
    return UrlTokenCreated(**dict(_out(created.record)), url=base + created.path)


@router.get(
    TOKENS_PATH,
    summary="List an input's sender URLs",
    description="Newest first, revoked ones included; by id and prefix, never the token.",
    response_model=UrlTokenList,
)
def list_url_tokens(name: MappingName, caller: ProviderManager) -> UrlTokenList:
    records = UrlTokens(caller.app).list(caller.workspace_id, name)
    return UrlTokenList(url_tokens=[_out(record) for record in records])


@router.delete(
    TOKENS_PATH + "/{token_id}",
    status_code=204,
    summary="Revoke a sender URL",
    description="It stops working at once (401). Revoking twice is a no-op. Audited.",
    response_class=Response,
)
def revoke_url_token(
    name: MappingName,
    token_id: Annotated[str, Path(min_length=1, max_length=64)],
    caller: ProviderManager,
) -> Response:
    try:
        UrlTokens(caller.app).revoke(
            caller.workspace_id,
            name,
            token_id,
            actor=caller.actor,
            ip=caller.ip,
            user_agent=caller.user_agent,
        )
    except NotFoundError:
        raise ApiProblem(404, "no such sender URL for this input", kind="not-found") from None
    return Response(status_code=204)


def hook_caller(request: Request, token: str) -> Caller:
    """The caller a sender URL stands for, checked once per request (the body-limit middleware
    checks it before the body is read). 401 alike for a malformed, unknown or revoked token."""
    known: Caller | None = getattr(request.state, "hook_caller", None)
    if known is not None:
        return known
    app = app_context(request)
    record = UrlTokens(app).verify(token)
    if record is None:
        raise _unauthorized("the sender URL is unknown or revoked")
    caller = Caller(
        principal=principal_of(record),
        workspace_id=record.workspace_id,
        app=app,
        ip=request.client.host if request.client is not None else None,
        user_agent=(request.headers.get("user-agent") or "")[:500] or None,
    )
    request.state.hook_caller = caller
    request.state.hook_input = record.input_name
    return caller


@router.post(
    HOOKS_PATH.removeprefix("/api/v1") + "{token}",
    summary="Receive a tool's webhook through a sender URL",
    description=(
        "As POST .../workspaces/{workspace_id}/inputs/{name}, for the one input and workspace "
        "the token was created for, with no Authorization header: the token in the path is the "
        "credential. 401 when it is unknown or revoked (never saying which)."
    ),
    response_model=InputIngestResult,
    responses={207: {"model": InputIngestResult, "description": "Some records were refused."}},
    openapi_extra={"requestBody": PAYLOAD_BODY},
)
async def receive_hook(
    request: Request, caller: Annotated[Caller, Depends(hook_caller)]
) -> JSONResponse:
    _json_only(request)
    name: str = request.state.hook_input
    await run_in_threadpool(_known, caller, name)
    body = await request.body()
    result, refused = await run_in_threadpool(_receive, caller, name, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)
