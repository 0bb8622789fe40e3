"""Reading an alert's repeats for people: the counters the alert keeps and its latest repeats.

Writing them is storage.occurrences' (ingest); this module only reads, in one transaction, so
the counters and the list shown together agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrences import OccurrenceRecord, occurrence_record
from sentineliq.storage.tables import AlertOccurrenceRow, AlertRow

LATEST_SHOWN = 20


@dataclass(frozen=True)
class OccurrenceSummary:
    """How often an alert came back. `count` is the number of repeats after the first alert
    (0: never repeated); `latest` holds the newest ones first, at most the limit asked for."""

    alert_id: str
    count: int
    last_seen_at: datetime  # the latest detection time among the alert and its repeats
    peak_severity: str  # the highest severity seen, the alert's own when it never rose
    latest: tuple[OccurrenceRecord, ...]


def occurrence_summary(
    db: Database, alert_id: str, *, limit: int = LATEST_SHOWN
) -> OccurrenceSummary:
    """Raises NotFoundError for an unknown alert."""
    with db.session() as session:
        found = session.execute(
            select(
                AlertRow.occurrence_count,
                AlertRow.last_seen_at,
                AlertRow.detected_at,
                AlertRow.peak_severity,
                AlertRow.severity,
            ).where(AlertRow.id == alert_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"alert {alert_id} not found")
        rows = session.scalars(
            select(AlertOccurrenceRow)
            .where(AlertOccurrenceRow.alert_id == alert_id)
            .order_by(AlertOccurrenceRow.seq.desc())
            .limit(limit)
        )
        return OccurrenceSummary(
            alert_id=alert_id,
            count=found.occurrence_count or 0,
            last_seen_at=max(filter(None, (found.last_seen_at, found.detected_at))),
            peak_severity=found.peak_severity or found.severity,
            latest=tuple(occurrence_record(row) for row in rows),
        )
