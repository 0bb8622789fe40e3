"""When the worker syncs MITRE ATT&CK (services.attack): off by default; with
SENTINELIQ_MITRE_SYNC=daily, a day after the last attempt, successful or not.

Due-ness is read from the stored last attempt, so several workers share one schedule; two finding
it due at once only fetch twice. The sync itself (a 50 MB download and about 20 s of parsing) runs
on a thread of its own, so deliveries go on meanwhile. A failure is recorded (shown by
`sentineliq mitre status` and /healthz) and logged, and never disturbs the delivery loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from sentineliq.services.attack import AttackSourceError, SyncResult, sync_catalog, sync_status
from sentineliq.services.context import AppContext

log = structlog.get_logger("sentineliq.mitre")

# The stored attempt time is looked at no more often than this.
CHECK_EVERY_S = 300.0


class AttackSyncSchedule:
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
        self._next_check = monotonic()
        self._running: threading.Thread | None = None
        self.last: SyncResult | None = None  # the last successful sync this schedule ran

    @property
    def enabled(self) -> bool:
        return self._app.settings.mitre.interval_s > 0

    def tick(self) -> bool:
        """Start a sync when one is due; cheap when not. Never raises. True: one was started."""
        if not self.enabled or self._monotonic() < self._next_check:
            return False
        if self._running is not None and self._running.is_alive():
            return False
        self._next_check = self._monotonic() + CHECK_EVERY_S
        try:
            last = sync_status(self._app).attempted_at
        except Exception:  # the database may be away; the delivery loop must go on
            log.exception("mitre.schedule_failed")
            return False
        interval = timedelta(seconds=self._app.settings.mitre.interval_s)
        if last is not None and self._clock() - last < interval:
            return False
        self._running = threading.Thread(target=self._sync, name="mitre-sync", daemon=True)
        self._running.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Until the sync in progress (if any) has ended."""
        if self._running is not None:
            self._running.join(timeout)

    def _sync(self) -> None:
        try:
            self.last = sync_catalog(self._app, now=self._clock)
        except AttackSourceError:
            pass  # recorded and logged by sync_catalog
        except Exception:
            log.exception("mitre.schedule_failed")


class Periodic:
    """The worker's background chores, run between batches: each is cheap when not due."""

    def __init__(self, *chores: Callable[[], object]) -> None:
        self._chores = chores

    def tick(self) -> None:
        for chore in self._chores:
            chore()
