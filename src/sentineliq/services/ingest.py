"""Accepting alerts: parse a batch, store the valid records with their outbox rows, and say
loudly when the storm guard held new tickets (a log warning and a counter per provider)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog

from sentineliq import metrics
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.alerts.parse import ParseResult, RecordError, parse_alerts
from sentineliq.services.context import AppContext
from sentineliq.storage.alerts import AlertRepository, IngestOutcome

log = structlog.get_logger("sentineliq.ingest")


@dataclass(frozen=True)
class RecordOutcome:
    record: int
    outcome: IngestOutcome
    warnings: tuple[IngestWarning, ...] = ()
    line: int | None = None

    @property
    def without_delivery(self) -> bool:
        """Stored, but queued for no provider: none was enabled (see provider enable)."""
        return (
            self.outcome.status == "accepted"
            and self.outcome.deliveries == 0
            and not self.outcome.not_ticketed
        )


@dataclass
class IngestReport:
    outcomes: list[RecordOutcome] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    refused: int = 0

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == "accepted")

    @property
    def occurrences(self) -> int:
        """Repeats of alerts the workspace has: recorded and reported to their tickets."""
        return sum(1 for o in self.outcomes if o.outcome.status == "occurrence")

    @property
    def duplicates(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == "duplicate")

    @property
    def held(self) -> dict[str, int]:
        """New tickets the storm guard held, per provider."""
        return held_by_provider(o.outcome for o in self.outcomes)

    @property
    def without_delivery(self) -> int:
        return sum(1 for o in self.outcomes if o.without_delivery)


NO_DELIVERY_WARNING = (
    "{count} stored without a delivery: the workspace has no enabled ticket provider, so no "
    "ticket will be filed for them until one is enabled (enabling backfills the alerts of the "
    "last 24 hours by default)"
)


def no_delivery_warning(count: int) -> str | None:
    if not count:
        return None
    return NO_DELIVERY_WARNING.format(count="1 alert was" if count == 1 else f"{count} alerts were")


def held_by_provider(outcomes: Iterable[IngestOutcome]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        counts.update(outcome.held)
    return dict(sorted(counts.items()))


HELD_WARNING = (
    "{count} held by the storm guard for {provider}: more new tickets than its threshold "
    "arrived within its window; review them (release or discard) in the panel's held list, "
    "with `sentineliq deliveries held`, or GET .../deliveries?status=held"
)


def held_warnings(held: dict[str, int]) -> list[str]:
    return [
        HELD_WARNING.format(
            count="1 new ticket was" if count == 1 else f"{count} new tickets were",
            provider=provider,
        )
        for provider, count in held.items()
    ]


def note_held(workspace_id: str, held: dict[str, int]) -> None:
    """Make held tickets visible to operators: one WARNING line and the counter per provider."""
    for provider, count in held.items():
        metrics.STORM_HELD.labels(provider).inc(count)
        log.warning("ingest.storm_held", workspace_id=workspace_id, provider=provider, held=count)


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
        outcomes = alerts.ingest(
            workspace_id,
            [record.alert for record in chunk],
            actor=actor,
            warnings=[record.warnings for record in chunk],
        )
        report.outcomes.extend(
            RecordOutcome(record.record, outcome, record.warnings, record.line)
            for record, outcome in zip(chunk, outcomes, strict=True)
        )
        # Per chunk: what a committed chunk held is told even if a later chunk fails.
        note_held(workspace_id, held_by_provider(outcomes))
        if on_progress is not None:
            on_progress(len(report.outcomes), total)
    return report
