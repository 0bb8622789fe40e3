"""The outbox gauges, computed at scrape time from the database, and the /metrics exposition.

Every process serving /metrics reports the same queue, whichever process filled it, because the
gauges are read from the shared database rather than counted in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sentineliq.metrics import REGISTRY
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class OutboxCollector(Collector):
    """Deliveries by status, queue depth and the age of the oldest due delivery, read at scrape
    time. A database failure yields no outbox samples rather than a failed scrape."""

    def __init__(self, db: Database) -> None:
        self._deliveries = DeliveryRepository(db)

    def describe(self) -> Iterator[Metric]:
        return iter(())  # samples depend on the database; nothing to pre-register

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._deliveries.count_by_status()
            next_due = self._deliveries.next_due_at()
        except Exception:  # the scrape must still answer; /healthz reports the database
            return
        by_status = GaugeMetricFamily(
            "sentineliq_deliveries", "Deliveries in the outbox, by status.", labels=["status"]
        )
        for status in DeliveryStatus:
            by_status.add_metric([status.value], counts[status])
        yield by_status
        yield GaugeMetricFamily(
            "sentineliq_queue_depth",
            "Deliveries waiting for an attempt (pending and failed awaiting retry).",
            value=counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.FAILED],
        )
        age = 0.0
        if next_due is not None:
            age = max(0.0, (datetime.now(UTC) - next_due).total_seconds())
        yield GaugeMetricFamily(
            "sentineliq_queue_oldest_due_age_seconds",
            "How long the oldest due delivery has been waiting for a worker (0 when none is due).",
            value=age,
        )


def render(db: Database) -> bytes:
    """The exposition text for one database: process counters plus the outbox gauges."""
    outbox = CollectorRegistry(auto_describe=False)
    outbox.register(OutboxCollector(db))
    # Gauges first: a request is counted before its outcome is stored, so counters read after
    # the database always cover the deliveries it shows (read the other way round, a scrape
    # could show a delivered issue whose create it had not counted yet).
    gauges = generate_latest(outbox)
    return generate_latest(REGISTRY) + gauges
