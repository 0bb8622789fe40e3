"""Adding deliveries beyond an alert's first create: comments for repeats, transitions, a new
linked ticket. Each is numbered per (alert, provider, operation), and the unique key on that
number makes enqueueing the same step twice impossible, even from two workers at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentineliq.storage.deliveries.records import new_delivery
from sentineliq.storage.tables import DeliveryRow

# Operation kinds (sentineliq.delivery.operations implements them).
REPORT_OCCURRENCES = "report_occurrences"
TRANSITION_ISSUE = "transition_issue"
ATTACH_EVIDENCE = "attach_evidence"  # payload {"file_id": ...}


def next_sequence(session: Session, alert_id: str, provider: str, operation: str) -> int:
    latest = session.scalar(
        select(func.max(DeliveryRow.sequence)).where(
            DeliveryRow.alert_id == alert_id,
            DeliveryRow.provider == provider,
            DeliveryRow.operation == operation,
        )
    )
    return 0 if latest is None else latest + 1


def enqueue(
    session: Session,
    *,
    alert_id: str,
    workspace_id: str,
    provider: str,
    operation: str,
    payload: Mapping[str, Any],
    now: datetime,
    available_at: datetime | None = None,
    status: str | None = None,
) -> DeliveryRow:
    """Add the next delivery of `operation` for the alert and provider (flushed)."""
    row = new_delivery(alert_id, workspace_id, provider, now, operation=operation)
    row.sequence = next_sequence(session, alert_id, provider, operation)
    row.payload = dict(payload)
    if available_at is not None:
        row.available_at = available_at
    if status is not None:
        row.status = status
    session.add(row)
    session.flush()
    return row
