"""Pausing a provider after an auth failure, and resuming it (by an operator or a new config).

While paused its deliveries wait (not dead-lettered); on resume the time they waited is credited
to each one, so the maximum age counts only time the provider could have delivered it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentineliq.logs import scrub
from sentineliq.storage.audit import add_audit
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import DeliveryRow, TicketProviderRow
from sentineliq.storage.types import utcnow

MAX_REASON_LENGTH = 2000


def find_locked_row(session: Session, workspace_id: str, provider: str) -> TicketProviderRow | None:
    """The provider's row, locked for this transaction, or None when it is not configured."""
    return session.scalar(
        select(TicketProviderRow)
        .where(
            TicketProviderRow.workspace_id == workspace_id,
            TicketProviderRow.provider == provider,
        )
        .with_for_update()
    )


def locked_row(session: Session, workspace_id: str, provider: str) -> TicketProviderRow:
    row = find_locked_row(session, workspace_id, provider)
    if row is None:
        raise NotFoundError(f"provider {provider!r} is not configured in this workspace")
    return row


def pause_provider(
    session: Session,
    workspace_id: str,
    provider: str,
    reason: str,
    *,
    actor: str,
    config_version: int | None = None,
    now: datetime | None = None,
) -> TicketProviderRow:
    """Pause in `session`'s transaction (see ProviderRepository.pause); returns the row."""
    row = locked_row(session, workspace_id, provider)
    if row.paused_at is not None:
        return row  # the first failure's time and reason stand
    if config_version is not None and config_version != row.config_version:
        return row  # the failure came from a configuration that has been replaced since
    row.paused_at = now or utcnow()
    row.paused_reason = _short(scrub(reason))
    row.updated_at = row.paused_at
    add_audit(
        session,
        "provider.paused",
        actor=actor,
        workspace_id=workspace_id,
        target=f"provider:{provider}",
        details={
            "provider": provider,
            "reason": row.paused_reason,
            "config_version": row.config_version,
        },
    )
    return row


# Deliveries that waited for the provider during a pause (not yet delivered or given up).
_WAITING = ("pending", "in_flight", "failed")


def _credit_pause(
    session: Session, row: TicketProviderRow, paused_at: datetime, now: datetime
) -> None:
    """Add the pause to each waiting delivery's `paused_seconds`, so the maximum age counts only
    time the provider could have delivered it: from the pause, or from its creation if later."""
    waiting = (
        DeliveryRow.workspace_id == row.workspace_id,
        DeliveryRow.provider == row.provider,
        DeliveryRow.status.in_(_WAITING),
    )
    whole = max(0.0, (now - paused_at).total_seconds())
    session.execute(
        update(DeliveryRow)
        .where(*waiting, DeliveryRow.created_at <= paused_at)
        .values(paused_seconds=DeliveryRow.paused_seconds + whole)
        .execution_options(synchronize_session=False)
    )
    later = session.execute(
        select(DeliveryRow.id, DeliveryRow.created_at, DeliveryRow.paused_seconds).where(
            *waiting, DeliveryRow.created_at > paused_at
        )
    ).all()
    if later:  # one executemany by primary key (row locks held: the provider row is locked)
        session.execute(
            update(DeliveryRow),
            [
                {
                    "id": delivery_id,
                    "paused_seconds": paused + max(0.0, (now - created_at).total_seconds()),
                }
                for delivery_id, created_at, paused in later
            ],
        )


def resume_provider(
    session: Session, row: TicketProviderRow, *, actor: str, reason: str, now: datetime
) -> None:
    paused_at, paused_reason = row.paused_at, row.paused_reason
    row.paused_at = None
    row.paused_reason = None
    row.updated_at = now
    if paused_at is not None:
        _credit_pause(session, row, paused_at, now)
    add_audit(
        session,
        "provider.resumed",
        actor=actor,
        workspace_id=row.workspace_id,
        target=f"provider:{row.provider}",
        details={
            "provider": row.provider,
            "reason": reason,
            "paused_at": paused_at.isoformat() if paused_at is not None else None,
            "paused_reason": paused_reason,
        },
    )


def _short(message: str) -> str:
    return message if len(message) <= MAX_REASON_LENGTH else message[: MAX_REASON_LENGTH - 1] + "…"
