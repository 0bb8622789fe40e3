"""Applying what a provider's tickets say to their alerts: one service for the webhook receiver
and the reconcile poll, so both decide the same way and both are idempotent.

- The ticket's status in the *done* category resolves its alert (resolution name, when, and
  "jira:<who>"), unless the alert is already resolved or was dismissed.
- A ticket that leaves *done* reopens an alert it had resolved (back to "new"). An alert a
  person resolved in SentinelIQ is left alone: its ticket may simply not be closed yet.
- A person's comment becomes an alert note when the provider's `mirror_comments` is on; the
  product's own comments (comment property `sentineliq.delivery`, or written by the integration
  account itself, GET /myself, cached per configuration version) never are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from sentineliq.alerts.model import AlertStatus
from sentineliq.document.adftext import adf_plain_text
from sentineliq.errors import SentinelIQError, TicketSystemError
from sentineliq.providers.base import IssueState
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.webhook import InboundComment
from sentineliq.services.alertstatus import StatusOrigin, change_status
from sentineliq.services.context import AppContext
from sentineliq.services.providers import stored_config, validate_config
from sentineliq.storage.alertstate import AlertNote, AlertStateRepository, StatusChange
from sentineliq.storage.inbound import InboundRepository, LinkedAlert, ProviderRef
from sentineliq.storage.types import utcnow

log = structlog.get_logger("sentineliq.sync")

TICKET_ACTOR = "jira"
NOTE_BODY_MAX = 32_000


@dataclass(frozen=True)
class SyncResult:
    alert_id: str | None
    status_change: StatusChange | None = None
    note: AlertNote | None = None
    skipped: str | None = None  # why nothing was done, when nothing was


def ticket_actor(name: str | None) -> str:
    return f"{TICKET_ACTOR}:{name}" if name else TICKET_ACTOR


class TicketSync:
    """Bound to one provider of one workspace; its configuration is read once, when needed."""

    def __init__(self, app: AppContext, provider: ProviderRef) -> None:
        self._app = app
        self.provider = provider
        self._inbound = InboundRepository(app.db, app.secrets)
        self._config: JiraConfig | None = None
        self._config_version: int | None = None

    def config(self) -> JiraConfig:
        if self._config is None:
            record = stored_config(self._app, self.provider.workspace_id, self.provider.provider)
            config = validate_config(self._app, record.provider, record.config)
            assert isinstance(config, JiraConfig)
            self._config, self._config_version = config, record.config_version
        return self._config

    def _alert(self, issue_id: str) -> LinkedAlert | None:
        return self._inbound.linked_alert(
            self.provider.workspace_id, self.provider.provider, issue_id
        )

    # -- status -------------------------------------------------------------------------------

    def apply_state(self, state: IssueState, *, by: str | None = None) -> SyncResult:
        """Bring the issue's alert in line with the issue's status category."""
        linked = self._alert(state.id)
        if linked is None:
            return SyncResult(None, skipped="no alert has this ticket")
        current = AlertStateRepository(self._app.db).state(linked.alert_id)
        changed_by = current.status_changed_by or ""
        # "jira" (the poll) or "jira:<name>" (a webhook); a person's email may start with "jira".
        from_ticket = changed_by == TICKET_ACTOR or changed_by.startswith(f"{TICKET_ACTOR}:")
        where = f"{state.key} is {state.status} ({state.status_category.value})"
        changed_at = current.status_changed_at
        if (
            changed_at is not None
            and state.updated_at is not None
            and state.updated_at < changed_at
        ):
            # An older view of the issue (a late or replayed webhook, a lagging search) must not
            # undo a newer change.
            return SyncResult(linked.alert_id, skipped="older than the alert's last change")
        if state.done:
            if current.status == AlertStatus.DISMISSED:
                return SyncResult(linked.alert_id, skipped="the alert was dismissed")
            if current.status == AlertStatus.RESOLVED and not from_ticket:
                return SyncResult(linked.alert_id, skipped="already resolved in SentinelIQ")
            resolution = state.resolution or state.status
            change = change_status(
                self._app,
                linked.alert_id,
                AlertStatus.RESOLVED,
                actor=ticket_actor(by),
                reason=where,
                origin=StatusOrigin.TICKET,
                resolution=resolution,
                at=state.resolved_at or state.updated_at,
            )
        elif current.status == AlertStatus.RESOLVED and from_ticket:
            change = change_status(
                self._app,
                linked.alert_id,
                AlertStatus.NEW,
                actor=ticket_actor(by),
                reason=f"reopened: {where}",
                origin=StatusOrigin.TICKET,
                resolution=None,
                at=state.updated_at,
            )
        else:
            return SyncResult(linked.alert_id, skipped="nothing to change")
        if change is not None:
            log.info(
                "sync.alert_status",
                alert_id=linked.alert_id,
                issue_key=state.key,
                status=change.after,
                resolution=change.resolution,
            )
        return SyncResult(linked.alert_id, status_change=change)

    # -- comments -----------------------------------------------------------------------------

    def own_account_id(self) -> str | None:
        """The account of the configured credentials (GET /myself), cached per config version;
        None if Jira cannot be asked right now."""
        config = self.config()
        assert self._config_version is not None
        cached = self._inbound.own_account(self.provider.id, self._config_version)
        if cached is not None:
            return cached
        try:
            with JiraClient.from_config(config) as client:
                account = client.myself().get("accountId")
        except SentinelIQError as exc:  # any failure: the caller must not mirror blindly
            log.warning(
                "sync.myself_failed", provider_id=self.provider.id, error=type(exc).__name__
            )
            return None
        if not isinstance(account, str) or not account:
            return None
        self._inbound.set_own_account(self.provider.id, self._config_version, account)
        return account

    def apply_comment(self, comment: InboundComment) -> SyncResult:
        if not self.config().mirror_comments:
            return SyncResult(None, skipped="mirror_comments is off")
        linked = self._alert(comment.issue_id)
        if linked is None:
            return SyncResult(None, skipped="no alert has this ticket")
        if comment.own_property:
            return SyncResult(linked.alert_id, skipped="SentinelIQ's own comment")
        own = self.own_account_id()
        if own is None:
            # Unknown who we are: mirroring could loop our own comments back; the reconcile
            # poll catches the comment later.
            raise OwnAccountUnknown("the integration account could not be read from Jira")
        if comment.author_account_id == own:
            return SyncResult(linked.alert_id, skipped="SentinelIQ's own comment")
        text = adf_plain_text(comment.body)
        if not text:
            return SyncResult(linked.alert_id, skipped="empty comment")
        note = AlertStateRepository(self._app.db).add_note(
            linked.alert_id,
            at=comment.created or utcnow(),
            author=ticket_actor(comment.author_name),
            body=text[:NOTE_BODY_MAX],
            source=f"{TICKET_ACTOR}:{comment.id}",
        )
        return SyncResult(linked.alert_id, note=note, skipped=None if note else "already noted")


class OwnAccountUnknown(TicketSystemError):
    """Jira did not tell us which account we are; comments wait (retried, or reconciled)."""


def prune_receipts(app: AppContext, *, now: datetime | None = None) -> int:
    """Forget webhook identifiers older than the receipt window."""
    cutoff = (now or utcnow()) - timedelta(days=app.settings.sync.webhook_receipt_days)
    return InboundRepository(app.db, app.secrets).prune_receipts(cutoff)
