"""Enabling a provider: switch it on, then queue what it missed (see storage.backfill)."""

from __future__ import annotations

from dataclasses import dataclass

from sentineliq.services.context import AppContext
from sentineliq.storage.backfill import (
    DEFAULT_BACKFILL_HOURS,
    BackfillResult,
    backfill_deliveries,
    check_hours,
)
from sentineliq.storage.providers import ProviderRecord, ProviderRepository


@dataclass(frozen=True)
class EnableResult:
    record: ProviderRecord  # masked
    backfill: BackfillResult | None  # None when backfill was switched off


def enable_provider(
    app: AppContext,
    workspace_id: str,
    provider: str,
    *,
    actor: str,
    backfill_hours: int | None = DEFAULT_BACKFILL_HOURS,
) -> EnableResult:
    """Enable `provider` and, unless `backfill_hours` is None or 0, queue a delivery for every
    alert received in that many hours that has none for it.

    Raises NotFoundError if the provider is not configured, ValueError naming backfill_hours
    for a window out of range (checked before anything changes).
    """
    if backfill_hours is not None:
        check_hours(backfill_hours)
    record = ProviderRepository(app.db, app.secrets).set_enabled(
        workspace_id, provider, True, actor=actor
    )
    if not backfill_hours:
        return EnableResult(record, None)
    # After the enable has committed: every ingest from now on queues for it by itself.
    result = backfill_deliveries(app.db, workspace_id, provider, hours=backfill_hours, actor=actor)
    return EnableResult(record, result)
