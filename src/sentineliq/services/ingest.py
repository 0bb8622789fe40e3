"""Accepting alerts: parse a batch, store the valid records with their outbox rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sentineliq.alerts.parse import ParseResult, RecordError, parse_alerts
from sentineliq.services.context import AppContext
from sentineliq.storage.alerts import AlertRepository, IngestOutcome


@dataclass(frozen=True)
class RecordOutcome:
    record: int
    outcome: IngestOutcome


@dataclass
class IngestReport:
    outcomes: list[RecordOutcome] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    refused: int = 0

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == "accepted")

    @property
    def duplicates(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == "duplicate")


ProgressCallback = Callable[[int, int], None]  # (stored so far, total to store)


def ingest_text(
    app: AppContext,
    workspace_id: str,
    text: str,
    *,
    actor: str,
    chunk_size: int = 500,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Store every valid record. Each chunk is one transaction (alerts with their outbox rows),
    so a huge file neither holds one giant transaction nor loses what was already stored."""
    parsed: ParseResult = parse_alerts(text)
    report = IngestReport(errors=parsed.errors, refused=parsed.refused_records)
    alerts = AlertRepository(app.db)
    total = len(parsed.accepted)
    for start in range(0, total, chunk_size):
        chunk = parsed.accepted[start : start + chunk_size]
        outcomes = alerts.ingest(workspace_id, [record.alert for record in chunk], actor=actor)
        report.outcomes.extend(
            RecordOutcome(record.record, outcome)
            for record, outcome in zip(chunk, outcomes, strict=True)
        )
        if on_progress is not None:
            on_progress(len(report.outcomes), total)
    return report
