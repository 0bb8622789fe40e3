"""Prometheus counters and histograms the process increments, in one process-wide `REGISTRY`.

The API, the worker and the Jira client increment them wherever they run; this module does no I/O,
so the transport can count without loading storage. The outbox gauges are read from the database
at scrape time by delivery.outbox_gauges. All names start with `sentineliq_`; labels stay few and
bounded (never ids, never raw URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

ALERTS_INGESTED = Counter(
    "sentineliq_alerts_ingested",
    "Alerts accepted for delivery (duplicates and refused records excluded), by module.",
    ["module"],
    registry=REGISTRY,
)
STORM_HELD = Counter(
    "sentineliq_storm_held",
    "New tickets the storm guard held at ingest (past the provider's threshold), by provider.",
    ["provider"],
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
        (r"^/rest/api/3/issue/[^/]+/attachments$", "issue/{issue}/attachments"),
        (r"^/rest/api/3/issue/bulk$", "issue/bulk"),  # before issue/{issue}, which it matches
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


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `Bearer <token>` (constant-time comparison)."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Digests first: compare_digest is constant-time only for equal lengths.
    offered = hashlib.sha256(credentials.strip().encode()).digest()
    return hmac.compare_digest(offered, hashlib.sha256(token.encode()).digest())
