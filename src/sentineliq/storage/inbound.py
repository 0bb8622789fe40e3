"""What comes back from a ticket system, per provider: the webhook secret (encrypted), the
webhook receipts that make replays no-ops, the reconcile cursor, the cached own account, and
the look-up of an alert by its ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.storage.audit import add_audit
from sentineliq.storage.crypto import SecretBox
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import (
    AlertRow,
    InboundSyncRow,
    TicketLinkRow,
    TicketProviderRow,
    WebhookReceiptRow,
    new_id,
)
from sentineliq.storage.types import utcnow


@dataclass(frozen=True)
class ProviderRef:
    """Enough of a provider row to route an inbound event (no configuration, no secrets)."""

    id: str
    workspace_id: str
    provider: str
    is_enabled: bool
    config_version: int


@dataclass(frozen=True)
class LinkedAlert:
    alert_id: str
    status: str
    resolution: str | None
    issue_key: str


class InboundRepository:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self._db = db
        self._box = secrets

    # -- providers --------------------------------------------------------------------------

    def provider(self, provider_id: str) -> ProviderRef | None:
        with self._db.session() as session:
            row = session.get(TicketProviderRow, provider_id)
            return _ref(row) if row is not None else None

    def provider_of(self, workspace_id: str, provider: str) -> ProviderRef:
        with self._db.session() as session:
            row = session.scalar(
                select(TicketProviderRow).where(
                    TicketProviderRow.workspace_id == workspace_id,
                    TicketProviderRow.provider == provider,
                )
            )
            if row is None:
                raise NotFoundError(f"no {provider} provider is configured for this workspace")
            return _ref(row)

    def enabled_providers(
        self, provider: str, workspace_id: str | None = None
    ) -> list[ProviderRef]:
        query = select(TicketProviderRow).where(
            TicketProviderRow.provider == provider, TicketProviderRow.is_enabled.is_(True)
        )
        if workspace_id is not None:
            query = query.where(TicketProviderRow.workspace_id == workspace_id)
        with self._db.session() as session:
            return [_ref(row) for row in session.scalars(query.order_by(TicketProviderRow.id))]

    # -- webhook secret ---------------------------------------------------------------------

    def set_webhook_secret(self, provider_id: str, secret: str, *, actor: str) -> None:
        """Store a new secret (encrypted), replacing any earlier one; audited without it."""
        with self._db.session() as session:
            row = _sync_row(session, provider_id)
            provider = session.get(TicketProviderRow, provider_id)
            assert provider is not None  # _sync_row checked it
            row.webhook_secret = self._box.encrypt(secret)
            row.secret_created_at = utcnow()
            add_audit(
                session,
                "provider.webhook_secret_generated",
                actor=actor,
                workspace_id=provider.workspace_id,
                target=f"provider:{provider.provider}",
                details={"provider": provider.provider, "provider_id": provider_id},
            )

    def webhook_secret(self, provider_id: str) -> str | None:
        """The secret in plaintext (for verifying signatures only), or None if none was made."""
        with self._db.session() as session:
            row = session.get(InboundSyncRow, provider_id)
            token = row.webhook_secret if row is not None else None
        return self._box.decrypt(token) if token is not None else None

    def secret_created_at(self, provider_id: str) -> datetime | None:
        with self._db.session() as session:
            row = session.get(InboundSyncRow, provider_id)
            return row.secret_created_at if row is not None else None

    # -- receipts ---------------------------------------------------------------------------

    def seen(self, provider_id: str, identifier: str) -> bool:
        with self._db.session() as session:
            return (
                session.scalar(
                    select(WebhookReceiptRow.id).where(
                        WebhookReceiptRow.provider_id == provider_id,
                        WebhookReceiptRow.identifier == identifier,
                    )
                )
                is not None
            )

    def record_receipt(self, provider_id: str, identifier: str) -> bool:
        """Remember a delivery as applied; False if it already was (a concurrent duplicate)."""
        try:
            with self._db.session() as session:
                session.add(
                    WebhookReceiptRow(
                        id=new_id(),
                        provider_id=provider_id,
                        identifier=identifier,
                        received_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def prune_receipts(self, older_than: datetime) -> int:
        with self._db.session() as session:
            result = session.execute(
                delete(WebhookReceiptRow).where(WebhookReceiptRow.received_at < older_than)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -- reconcile cursor and own account ----------------------------------------------------

    def reconcile_cursor(self, provider_id: str) -> datetime | None:
        with self._db.session() as session:
            row = session.get(InboundSyncRow, provider_id)
            return row.reconcile_cursor if row is not None else None

    def set_reconcile_cursor(self, provider_id: str, at: datetime) -> None:
        with self._db.session() as session:
            _sync_row(session, provider_id).reconcile_cursor = at

    def own_account(self, provider_id: str, config_version: int) -> str | None:
        """The cached account id of the provider's credentials, if cached for this version."""
        with self._db.session() as session:
            row = session.get(InboundSyncRow, provider_id)
            if row is None or row.own_account_version != config_version:
                return None
            return row.own_account_id

    def set_own_account(self, provider_id: str, config_version: int, account_id: str) -> None:
        with self._db.session() as session:
            row = _sync_row(session, provider_id)
            row.own_account_id = account_id
            row.own_account_version = config_version

    # -- alerts by ticket ---------------------------------------------------------------------

    def linked_alert(self, workspace_id: str, provider: str, issue_id: str) -> LinkedAlert | None:
        with self._db.session() as session:
            found = session.execute(
                select(AlertRow.id, AlertRow.status, AlertRow.resolution, TicketLinkRow.issue_key)
                .join(TicketLinkRow, TicketLinkRow.alert_id == AlertRow.id)
                .where(
                    AlertRow.workspace_id == workspace_id,
                    TicketLinkRow.provider == provider,
                    TicketLinkRow.issue_id == issue_id,
                )
                .order_by(AlertRow.created_at)
                .limit(1)
            ).one_or_none()
            if found is None:
                return None
            return LinkedAlert(found[0], found[1], found[2], found[3])


def _ref(row: TicketProviderRow) -> ProviderRef:
    return ProviderRef(row.id, row.workspace_id, row.provider, row.is_enabled, row.config_version)


def _sync_row(session: Session, provider_id: str) -> InboundSyncRow:
    if session.get(TicketProviderRow, provider_id) is None:
        raise NotFoundError(f"provider {provider_id} not found")
    row = session.get(InboundSyncRow, provider_id)
    if row is None:
        row = InboundSyncRow(provider_id=provider_id)
        session.add(row)
    return row
