"""When the worker runs the reconcile poll (services.reconcile): every
SENTINELIQ_RECONCILE_INTERVAL_S seconds per provider (0: never).

Due-ness is read from each provider's stored cursor (the start of its last successful run), so
several workers share one schedule without talking to each other: whoever finds a provider due
runs it; two finding it at once only search twice (applying is idempotent). A failing run is
logged and tried again at the next check; it never disturbs the delivery loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from sentineliq.services.context import AppContext
from sentineliq.services.reconcile import JIRA, ReconcileReport, reconcile_provider
from sentineliq.services.ticketsync import prune_receipts
from sentineliq.storage.inbound import InboundRepository

log = structlog.get_logger("sentineliq.sync")

# Cursors are looked at no more often than this (a small query), and at least once an interval.
CHECK_EVERY_S = 30.0


class ReconcileSchedule:
    def __init__(
        self,
        app: AppContext,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._clock = clock
        self._monotonic = monotonic
        # Not at start-up: a worker (re)started in a loop must not search Jira each time.
        self._next_check = monotonic() + CHECK_EVERY_S

    def tick(self) -> list[ReconcileReport]:
        """Run whatever is due; cheap when nothing is. Never raises."""
        interval = self._app.settings.sync.reconcile_interval_s
        if interval <= 0 or self._monotonic() < self._next_check:
            return []
        self._next_check = self._monotonic() + min(interval, CHECK_EVERY_S)
        try:
            return self._run_due(timedelta(seconds=interval))
        except Exception:  # the database may be away; the delivery loop must go on
            log.exception("sync.schedule_failed")
            return []

    def _run_due(self, interval: timedelta) -> list[ReconcileReport]:
        inbound = InboundRepository(self._app.db, self._app.secrets)
        now = self._clock()
        reports = []
        for provider in inbound.enabled_providers(JIRA):
            cursor = inbound.reconcile_cursor(provider.id)
            if cursor is None or now - cursor >= interval:
                reports.append(reconcile_provider(self._app, provider, now=now))
        if reports:
            prune_receipts(self._app, now=now)
        return reports
