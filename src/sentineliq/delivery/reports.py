"""A worker's reports to the outbox, held in memory while the database does not answer.

A lost database connection is an event: the outcome the worker holds (say, the issue it just
created) is kept and recorded as soon as the database answers again, if the lease has not been
taken meanwhile; then every other delivery leased to the worker is handed back, so none waits
for its lease to expire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime

import structlog

from sentineliq.outbox import Event, Released
from sentineliq.storage.deliveries import ConnectionLostError, DeliveryRecord, DeliveryRepository
from sentineliq.storage.errors import LeaseLostError, StorageError

log = structlog.get_logger("sentineliq.worker")


@dataclass
class WorkerStats:
    delivered: int = 0
    adopted: int = 0  # found already created by an earlier, unanswered attempt
    retrying: int = 0
    reconciling: int = 0
    dead: int = 0
    paused: int = 0
    released: int = 0
    lost_leases: int = 0
    waiting: int = 0  # not started: waiting for another delivery (a comment for its ticket)
    held: int = 0  # outcomes kept in memory while the database did not answer
    recorded_late: int = 0  # held outcomes recorded once it answered again
    handed_back: int = 0  # other leases released once it answered again
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: WorkerStats) -> None:
        """Count `other`'s figures in too (a worker's lanes each keep their own: no shared
        counter is written by two threads)."""
        for name in (f.name for f in fields(self) if f.name != "by_kind"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, count in dict(other.by_kind).items():  # dict(): a copy taken at once
            self.by_kind[kind] = self.by_kind.get(kind, 0) + count


class DatabaseGoneError(StorageError):
    """The database stopped answering mid-batch; the worker holds what it could not record."""


@dataclass(frozen=True)
class _Held:
    delivery: DeliveryRecord
    events: tuple[Event, ...]
    at: datetime


class Reporter:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        worker_id: str,
        stats: WorkerStats,
        clock: Callable[[], datetime],
    ) -> None:
        self._deliveries = deliveries
        self._worker_id = worker_id
        self._stats = stats
        self._clock = clock
        self._held: list[_Held] = []
        self._gone = False

    def report(self, delivery: DeliveryRecord, *events: Event, now: datetime) -> None:
        """Record the events; if the database does not answer, hold them (DatabaseGoneError)."""
        try:
            self._deliveries.record(delivery.id, self._worker_id, *events, now=now)
        except ConnectionLostError:
            self._held.append(_Held(delivery, events, now))
            self._stats.held += 1
            self._gone = True
            raise DatabaseGoneError(f"holding the outcome of delivery {delivery.id}") from None

    def release(self, delivery: DeliveryRecord, reason: str) -> bool:
        try:
            self._deliveries.record(
                delivery.id, self._worker_id, Released(reason), now=self._clock()
            )
        except LeaseLostError:
            self._stats.lost_leases += 1
            return False
        self._stats.released += 1
        return True

    def database_gone(self) -> None:
        self._gone = True

    def reconnect(self) -> None:
        """After a lost connection: record the held outcomes, then hand back every other
        delivery the database says is leased to us. Raises while the database is still away."""
        if not self._gone:
            return
        while self._held:
            held = self._held[0]
            try:
                self._deliveries.record(
                    held.delivery.id, self._worker_id, *held.events, now=held.at
                )
                self._stats.recorded_late += 1
            except LeaseLostError:
                # Reclaimed meanwhile: the new holder finds the outcome by its idempotency rule.
                self._stats.lost_leases += 1
            self._held.pop(0)
        for delivery in self._deliveries.leased_to(self._worker_id):
            if self.release(delivery, "handed back after the database connection was lost"):
                self._stats.handed_back += 1
        self._gone = False
        log.info("worker.database_back", worker_id=self._worker_id)
