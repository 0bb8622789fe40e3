"""Jira Cloud's webhooks, read: the signature of an admin-registered webhook and the parts of
its payload the ticket sync needs. No I/O.

A webhook saved with a secret carries `X-Hub-Signature: sha256=<hex>`, an HMAC-SHA256 of the
raw body keyed with the secret; `X-Atlassian-Webhook-Identifier` names the delivery (the same on
its retries, `X-Atlassian-Webhook-Retry: n`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentineliq.errors import InputError
from sentineliq.providers.base import IssueState
from sentineliq.providers.jira.issuestate import jira_datetime, parse_issue_state

SIGNATURE_HEADER = "x-hub-signature"
IDENTIFIER_HEADER = "x-atlassian-webhook-identifier"
RETRY_HEADER = "x-atlassian-webhook-retry"
ISSUE_UPDATED = "jira:issue_updated"
COMMENT_CREATED = "comment_created"
HANDLED_EVENTS = (ISSUE_UPDATED, COMMENT_CREATED)
# SentinelIQ's own comments carry this comment property (set by the comment operation).
OWN_COMMENT_PROPERTY = "sentineliq.delivery"
IDENTIFIER_MAX = 200


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of `sha256=<hex>` against the body's HMAC under `secret`."""
    if not header:
        return False
    scheme, sep, digest = header.strip().partition("=")
    if not sep or scheme.lower() != "sha256":
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), digest.strip().lower().encode())


@dataclass(frozen=True)
class InboundComment:
    id: str
    issue_id: str
    author_account_id: str | None
    author_name: str
    body: Any  # ADF, or text
    created: datetime | None
    own_property: bool  # carries OWN_COMMENT_PROPERTY: written by SentinelIQ


@dataclass(frozen=True)
class WebhookEvent:
    event: str
    issue_id: str | None
    state: IssueState | None  # for issue events with a readable status
    comment: InboundComment | None
    user_name: str | None  # who made the change (the payload's `user`)


class WebhookPayloadError(InputError, ValueError):
    """The body is not a Jira webhook payload we can read; the message names the part."""


def _display_name(user: Any) -> str | None:
    if isinstance(user, Mapping):
        name = user.get("displayName")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def parse_webhook(payload: Any) -> WebhookEvent:
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError("the body must be a JSON object")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise WebhookPayloadError("webhookEvent is missing")
    issue = payload.get("issue")
    issue_id: str | None = None
    state: IssueState | None = None
    if isinstance(issue, Mapping):
        raw_id = issue.get("id")
        issue_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else None
        if event == ISSUE_UPDATED:
            try:
                state = parse_issue_state(issue)
            except ValueError as exc:
                raise WebhookPayloadError(f"issue: {exc}") from None
    elif event in HANDLED_EVENTS:
        raise WebhookPayloadError("issue is missing")
    comment = None
    raw_comment = payload.get("comment")
    if event == COMMENT_CREATED:
        if not isinstance(raw_comment, Mapping) or issue_id is None:
            raise WebhookPayloadError("comment or issue.id is missing")
        comment = parse_comment(raw_comment, issue_id)
    return WebhookEvent(event, issue_id, state, comment, _display_name(payload.get("user")))


def parse_comment(raw: Mapping[str, Any], issue_id: str) -> InboundComment:
    """One comment, as webhooks and GET .../comment return it."""
    comment_id = raw.get("id")
    if not isinstance(comment_id, str | int) or not str(comment_id):
        raise WebhookPayloadError("comment.id is missing")
    author = raw.get("author")
    account = author.get("accountId") if isinstance(author, Mapping) else None
    properties = raw.get("properties")
    own = isinstance(properties, list) and any(
        isinstance(p, Mapping) and p.get("key") == OWN_COMMENT_PROPERTY for p in properties
    )
    return InboundComment(
        id=str(comment_id),
        issue_id=issue_id,
        author_account_id=account if isinstance(account, str) else None,
        author_name=_display_name(author) or "unknown",
        body=raw.get("body"),
        created=jira_datetime(raw.get("created")),
        own_property=own,
    )
