"""Prometheus metrics: counters the process increments, and gauges read from the database.

Counters and histograms live in one process-wide registry (`REGISTRY`): the API, the worker and
the Jira client increment them wherever they run. Gauges describing the outbox are computed at
scrape time from the database by `OutboxCollector`, so every process serving /metrics reports the
same queue whichever process filled it. All names start with `sentineliq_`; labels stay few and
bounded (never ids, never raw URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

ALERTS_INGESTED = Counter(
    "sentineliq_alerts_ingested",
    "Alerts accepted for delivery (duplicates and refused records excluded), by module.",
    ["module"],
    registry=REGISTRY,
)
JIRA_REQUESTS = Counter(
    "sentineliq_jira_requests",
    "Requests sent to Jira, by endpoint template and HTTP status ('error' when no answer).",
    ["endpoint", "status"],
    registry=REGISTRY,
)
JIRA_RATE_LIMITED = Counter(
    "sentineliq_jira_rate_limited",
    "HTTP 429 answers received from Jira.",
    registry=REGISTRY,
)
RETRY_DELAY = Histogram(
    "sentineliq_delivery_retry_delay_seconds",
    "Delay until the next attempt, observed whenever the worker schedules a retry.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)

# Jira REST paths -> route templates: ids and keys must not become label values.
_JIRA_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (
            r"^/rest/api/3/issue/createmeta/[^/]+/issuetypes/[^/]+$",
            "issue/createmeta/{project}/issuetypes/{id}",
        ),
        (
            r"^/rest/api/3/issue/createmeta/[^/]+/issuetypes$",
            "issue/createmeta/{project}/issuetypes",
        ),
        (r"^/rest/api/3/issue/[^/]+/properties/[^/]+$", "issue/{issue}/properties/{key}"),
        (r"^/rest/api/3/issue/[^/]+/comment$", "issue/{issue}/comment"),
        (r"^/rest/api/3/issue/[^/]+/transitions$", "issue/{issue}/transitions"),
        (r"^/rest/api/3/issue/[^/]+$", "issue/{issue}"),
        (r"^/rest/api/3/project/[^/]+$", "project/{key}"),
        (
            r"^/rest/api/3/(issue|serverInfo|myself|field|user/search|user/assignable/search"
            r"|search/jql)$",
            "",
        ),
    )
)


def jira_endpoint(method: str, path: str) -> str:
    """'POST /rest/api/3/issue', 'GET /rest/api/3/project/{key}', or 'GET other' if unknown."""
    clean = "/" + path.split("?", 1)[0].strip("/")
    for pattern, template in _JIRA_ROUTES:
        if pattern.match(clean):
            route = clean if not template else "/rest/api/3/" + template
            return f"{method.upper()} {route}"
    return f"{method.upper()} other"


def observe_jira_response(method: str, path: str, status: int | None) -> None:
    """Count one Jira request; `status` None means no answer (timeout, refused connection)."""
    JIRA_REQUESTS.labels(jira_endpoint(method, path), str(status) if status else "error").inc()
    if status == 429:
        JIRA_RATE_LIMITED.inc()


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
    return generate_latest(REGISTRY) + generate_latest(outbox)
