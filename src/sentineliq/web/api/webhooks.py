"""Webhooks from the ticket system, and the secret that signs them.

`POST /api/v1/webhooks/jira/{provider_id}` has no API key or session: it is authenticated by the
HMAC signature over the raw body (read bounded, see web.bodylimit). The secret is generated here
(owners and admins), shown once in that answer, and stored encrypted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sentineliq.providers.jira.webhook import HANDLED_EVENTS
from sentineliq.services.webhooks import (
    JIRA,
    WEBHOOK_PATH,
    Verdict,
    WebhookReceiver,
    generate_webhook_secret,
)
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.inbound import InboundRepository, ProviderRef
from sentineliq.web.api.auth import Caller, ProviderManager
from sentineliq.web.api.problems import ApiProblem, problem_response

router = APIRouter(tags=["webhooks"])

# What the Jira admin ticks on System > WebHooks.
EVENT_LABELS = {
    "jira:issue_updated": "Issue: updated",
    "comment_created": "Comment: created",
}

ProviderId = Annotated[
    str, Path(max_length=36, description="The provider's id (see the Jira provider page).")
]


class WebhookAccepted(BaseModel):
    status: str = Field(description="applied, or duplicate for a delivery already applied.")
    detail: str
    alert_id: str | None = None


class WebhookSetup(BaseModel):
    url: str = Field(description="The URL to register in Jira (System > WebHooks).")
    events: list[str] = Field(description="The events to tick.")
    secret_set: bool
    secret_created_at: datetime | None = None


class WebhookSecretOut(WebhookSetup):
    secret: str = Field(description="Shown ONCE: paste it into the webhook's Secret field.")


_STATUS = {
    Verdict.UNKNOWN_PROVIDER: 404,
    Verdict.UNAUTHORIZED: 401,
    Verdict.BAD_PAYLOAD: 400,
    Verdict.RETRY_LATER: 503,
}


@router.post(
    "/webhooks/jira/{provider_id}",
    summary="Receive a Jira webhook",
    description=(
        "For Jira only. Authenticated by `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>` "
        "with the provider's webhook secret; a missing or wrong signature is 401 and audited. "
        "Deliveries are recognised by `X-Atlassian-Webhook-Identifier`: a replay is 200 and "
        "changes nothing. Events other than issue updated and comment created are 204."
    ),
    response_model=WebhookAccepted,
    responses={204: {"description": "Ignored (an event not used)."}},
)
async def receive_jira_webhook(provider_id: ProviderId, request: Request) -> Response:
    body = await request.body()  # bounded by the BodyLimit middleware
    headers = {name.lower(): value for name, value in request.headers.items()}
    client = request.client.host if request.client is not None else None
    receiver = WebhookReceiver(request.app.state.context)
    answer = await run_in_threadpool(
        receiver.receive, JIRA, provider_id, body, headers, client=client
    )
    if answer.verdict is Verdict.IGNORED:
        return Response(status_code=204)
    status = _STATUS.get(answer.verdict)
    if status is not None:
        return problem_response(status, answer.detail)
    accepted = WebhookAccepted(
        status=answer.verdict.value, detail=answer.detail, alert_id=answer.alert_id
    )
    return Response(accepted.model_dump_json(), media_type="application/json")


def _provider(caller: Caller) -> ProviderRef:
    try:
        return InboundRepository(caller.app.db, caller.app.secrets).provider_of(
            caller.workspace_id, JIRA
        )
    except NotFoundError:
        raise ApiProblem(
            404, "no jira provider is configured in this workspace", kind="not-found"
        ) from None


def webhook_url(base_url: str, provider_id: str) -> str:
    return base_url.rstrip("/") + WEBHOOK_PATH.format(provider_id=provider_id)


def _setup(caller: Caller, request: Request, provider: ProviderRef) -> WebhookSetup:
    created = InboundRepository(caller.app.db, caller.app.secrets).secret_created_at(provider.id)
    return WebhookSetup(
        url=webhook_url(str(request.base_url), provider.id),
        events=list(HANDLED_EVENTS),
        secret_set=created is not None,
        secret_created_at=created,
    )


@router.get(
    "/workspaces/{workspace_id}/providers/jira/webhook",
    summary="How to register the Jira webhook (never the secret)",
    response_model=WebhookSetup,
)
def get_webhook_setup(caller: ProviderManager, request: Request) -> WebhookSetup:
    return _setup(caller, request, _provider(caller))


@router.post(
    "/workspaces/{workspace_id}/providers/jira/webhook-secret",
    summary="Generate (or replace) the Jira webhook secret; shown once",
    description=(
        "Generates a new random secret, stores it encrypted and returns it in this answer only. "
        "Webhooks signed with the previous secret are refused from now on."
    ),
    response_model=WebhookSecretOut,
    status_code=201,
)
def generate_secret(caller: ProviderManager, request: Request) -> WebhookSecretOut:
    provider = _provider(caller)
    secret = generate_webhook_secret(caller.app, provider, actor=caller.actor)
    caller.audit("api.provider.webhook_secret", target=f"provider:{JIRA}", provider=JIRA)
    setup = _setup(caller, request, provider)
    return WebhookSecretOut(**setup.model_dump(), secret=secret)
