"""Receiving a ticket system's webhook: authenticate it by its signature, drop replays, apply it.

The endpoint has no API key or session: the HMAC signature over the raw body, keyed with the
provider's webhook secret, is the only proof it comes from the site. A refusal is audited with
the provider and the client's address (never the secret, the signature or the body).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import structlog

from sentineliq.errors import SentinelIQError
from sentineliq.providers.jira.webhook import (
    COMMENT_CREATED,
    IDENTIFIER_HEADER,
    IDENTIFIER_MAX,
    ISSUE_UPDATED,
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookPayloadError,
    parse_webhook,
    signature_matches,
)
from sentineliq.services.context import AppContext
from sentineliq.services.ticketsync import OwnAccountUnknown, TicketSync
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.crypto import SecretError
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.inbound import InboundRepository, ProviderRef

log = structlog.get_logger("sentineliq.sync")

JIRA = "jira"
# Where Jira sends its webhooks (the web layer serves it; the CLI and panel show it).
WEBHOOK_PATH = "/api/v1/webhooks/jira/{provider_id}"
WEBHOOK_SECRET_BYTES = 32  # token_urlsafe: 43 characters


class Verdict(StrEnum):
    APPLIED = "applied"  # 200
    DUPLICATE = "duplicate"  # 200: a replay or retry of a delivery already applied
    IGNORED = "ignored"  # 204: an event we do not act on
    UNKNOWN_PROVIDER = "unknown_provider"  # 404
    UNAUTHORIZED = "unauthorized"  # 401, audited
    BAD_PAYLOAD = "bad_payload"  # 400
    RETRY_LATER = "retry_later"  # 503: Jira retries


@dataclass(frozen=True)
class WebhookAnswer:
    verdict: Verdict
    detail: str
    alert_id: str | None = None


def generate_webhook_secret(app: AppContext, provider: ProviderRef, *, actor: str) -> str:
    """A new secret for the provider's webhooks, stored encrypted; the caller shows it ONCE."""
    secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    InboundRepository(app.db, app.secrets).set_webhook_secret(provider.id, secret, actor=actor)
    return secret


class WebhookReceiver:
    def __init__(self, app: AppContext) -> None:
        self._app = app
        self._inbound = InboundRepository(app.db, app.secrets)

    def receive(
        self,
        provider_name: str,
        provider_id: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        client: str | None,
    ) -> WebhookAnswer:
        """`headers` with lower-case names. Never raises for anything the sender controls."""
        provider = self._inbound.provider(provider_id) if _plausible_id(provider_id) else None
        if provider is None or provider.provider != provider_name or provider_name != JIRA:
            return WebhookAnswer(Verdict.UNKNOWN_PROVIDER, "no such webhook endpoint")
        refusal = self._check_signature(provider, body, headers.get(SIGNATURE_HEADER))
        if refusal is not None:
            AuditRepository(self._app.db).record(
                "webhook.refused",
                actor=f"webhook:{provider_name}",
                workspace_id=provider.workspace_id,
                target=f"provider:{provider_name}",
                details={"provider_id": provider.id, "reason": refusal, "ip": (client or "")[:64]},
            )
            log.warning("webhook.refused", provider_id=provider.id, reason=refusal, ip=client)
            return WebhookAnswer(Verdict.UNAUTHORIZED, "the webhook signature is missing or wrong")
        identifier = (headers.get(IDENTIFIER_HEADER) or "").strip()
        if not identifier or len(identifier) > IDENTIFIER_MAX:
            return WebhookAnswer(
                Verdict.BAD_PAYLOAD, f"the {IDENTIFIER_HEADER} header is missing or too long"
            )
        if self._inbound.seen(provider.id, identifier):
            return WebhookAnswer(Verdict.DUPLICATE, "this delivery was already applied")
        answer = self._apply(provider, body)
        if answer.verdict in (Verdict.APPLIED, Verdict.IGNORED):
            # After applying, not before: a delivery that failed half-way is applied again on
            # Jira's retry (applying is idempotent), never lost.
            self._inbound.record_receipt(provider.id, identifier)
        return answer

    def _check_signature(
        self, provider: ProviderRef, body: bytes, header: str | None
    ) -> str | None:
        try:
            secret = self._inbound.webhook_secret(provider.id)
        except SecretError:
            return "the stored webhook secret cannot be decrypted"
        if secret is None:
            return "no webhook secret was generated for this provider"
        if not header:
            return "no X-Hub-Signature header"
        if not signature_matches(secret, body, header):
            return "signature mismatch"
        return None

    def _apply(self, provider: ProviderRef, body: bytes) -> WebhookAnswer:
        try:
            event = parse_webhook(json.loads(body))
        except (ValueError, RecursionError, WebhookPayloadError) as exc:
            # JSONDecodeError is a ValueError; absurdly deep nesting is a RecursionError.
            detail = str(exc) if isinstance(exc, WebhookPayloadError) else "the body is not JSON"
            return WebhookAnswer(Verdict.BAD_PAYLOAD, detail)
        if not provider.is_enabled:
            return WebhookAnswer(Verdict.IGNORED, "the provider is disabled")
        try:
            return self._sync(provider, event)
        except NotFoundError:  # the alert or provider was deleted meanwhile
            return WebhookAnswer(Verdict.IGNORED, "nothing to apply it to any more")
        except SentinelIQError as exc:
            # Our side cannot apply it now (its configuration or secret unreadable): Jira
            # retries a failed delivery, and the reconcile poll covers it in any case.
            log.warning("webhook.not_applied", provider_id=provider.id, error=type(exc).__name__)
            return WebhookAnswer(Verdict.RETRY_LATER, "it cannot be applied now; retry")

    def _sync(self, provider: ProviderRef, event: WebhookEvent) -> WebhookAnswer:
        sync = TicketSync(self._app, provider)
        if event.event == ISSUE_UPDATED and event.state is not None:
            result = sync.apply_state(event.state, by=event.user_name)
            return WebhookAnswer(Verdict.APPLIED, result.skipped or "applied", result.alert_id)
        if event.event == COMMENT_CREATED and event.comment is not None:
            try:
                result = sync.apply_comment(event.comment)
            except OwnAccountUnknown:
                return WebhookAnswer(Verdict.RETRY_LATER, "Jira could not be asked; retry")
            return WebhookAnswer(Verdict.APPLIED, result.skipped or "applied", result.alert_id)
        return WebhookAnswer(Verdict.IGNORED, f"event {event.event!r} is not used")


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= 36 and all(c.isalnum() or c == "-" for c in value)
