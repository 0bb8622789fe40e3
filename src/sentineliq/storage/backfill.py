"""Backfill: queue the deliveries a provider missed because it was not enabled when alerts came.

Ingest queues an alert for the providers enabled at that moment only, so alerts received while
a provider was off (or before there was one) would never reach it. Enabling the provider runs a
backfill over the recent alerts of its workspace.

Idempotent: an alert that has a delivery for the provider (in any state) is skipped, and the
(alert_id, provider) unique constraint backs that up. Race-free with ingest: the backfill takes
the workspace row FOR UPDATE while every ingest holds it FOR SHARE until it commits, so an
ingest that read the provider as disabled is committed, and seen here, before the scan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from sentineliq.alerts.model import Alert, Module
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import new_delivery
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.tables import AlertRow, DeliveryRow, TicketProviderRow, WorkspaceRow
from sentineliq.storage.types import utcnow
from sentineliq.tickets.content import BrandGate, content_from_config

DEFAULT_BACKFILL_HOURS = 24
MAX_BACKFILL_HOURS = 24 * 30


@dataclass(frozen=True)
class BackfillResult:
    provider: str
    hours: int
    since: datetime  # alerts received at or after this were considered
    created: int  # deliveries queued now
    alert_ids: tuple[str, ...]


def check_hours(hours: int) -> int:
    """Raises ValueError naming the setting for a window out of range."""
    if isinstance(hours, bool) or not isinstance(hours, int):
        raise ValueError("backfill_hours: must be a whole number of hours")
    if not 0 <= hours <= MAX_BACKFILL_HOURS:
        raise ValueError(f"backfill_hours: must be between 0 and {MAX_BACKFILL_HOURS}")
    return hours


def backfill_deliveries(
    db: Database,
    workspace_id: str,
    provider: str,
    *,
    hours: int,
    actor: str,
    now: datetime | None = None,
) -> BackfillResult:
    """Queue a delivery to `provider` for each alert of the workspace received in the last
    `hours` that has none, in one audited transaction. A brand-protection detection below the
    provider's gate gets no delivery, and its alert says why (`not_ticketed`), as at ingest.

    Raises NotFoundError if the provider is not configured, InvalidStateError if it is disabled.
    """
    check_hours(hours)
    now = now or utcnow()
    since = now - timedelta(hours=hours)
    with db.session() as session:
        locked = session.scalar(
            select(WorkspaceRow.id).where(WorkspaceRow.id == workspace_id).with_for_update()
        )
        if locked is None:
            raise NotFoundError(f"workspace {workspace_id} not found")
        found = session.execute(
            select(TicketProviderRow.is_enabled, TicketProviderRow.config).where(
                TicketProviderRow.workspace_id == workspace_id,
                TicketProviderRow.provider == provider,
            )
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"provider {provider!r} is not configured in this workspace")
        if not found.is_enabled:
            raise InvalidStateError(f"provider {provider!r} is disabled; enable it first")
        has_delivery = exists().where(
            DeliveryRow.alert_id == AlertRow.id, DeliveryRow.provider == provider
        )
        missed = session.execute(
            select(AlertRow.id, AlertRow.module)
            .where(
                AlertRow.workspace_id == workspace_id,
                AlertRow.created_at >= since,
                ~has_delivery,
            )
            .order_by(AlertRow.created_at, AlertRow.id)
        ).all()
        declined = _below_gate(
            session,
            content_from_config(found.config).brand_gate,
            [row.id for row in missed if row.module == Module.ECLIPSE.value],
            provider,
        )
        alert_ids = tuple(row.id for row in missed if row.id not in declined)
        session.add_all(new_delivery(a, workspace_id, provider, now) for a in alert_ids)
        add_audit(
            session,
            "provider.backfilled",
            actor=actor,
            workspace_id=workspace_id,
            target=f"provider:{provider}",
            details={
                "provider": provider,
                "hours": hours,
                "since": since.isoformat(),
                "created": len(alert_ids),
                **({"not_ticketed": len(declined)} if declined else {}),
            },
            at=now,
        )
    return BackfillResult(provider, hours, since, len(alert_ids), alert_ids)


def _below_gate(session: Session, gate: BrandGate, alert_ids: list[str], provider: str) -> set[str]:
    """The brand-protection detections among `alert_ids` that the provider's gate keeps from
    filing a ticket, each marked with why (as ingest does)."""
    declined: set[str] = set()
    if not alert_ids:
        return declined
    for row in session.scalars(select(AlertRow).where(AlertRow.id.in_(alert_ids))):
        try:
            alert = Alert.model_validate_json(json.dumps(row.payload))
        except ValueError:  # unreadable: the delivery will say so, as for any other alert
            continue
        reason = gate.holds(alert)
        if reason is not None:
            declined.add(row.id)
            row.not_ticketed = {**(row.not_ticketed or {}), provider: reason}
    return declined
