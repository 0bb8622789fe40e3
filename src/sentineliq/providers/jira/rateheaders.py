"""What a Jira answer says about the site's request budget: X-RateLimit-* and Retry-After.

Reads response headers only; the client keeps the last snapshot and reports every signal (429s
and 5xx included) to its limiter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from sentineliq.providers.jira import errors
from sentineliq.ratelimit import RateSignal


@dataclass(frozen=True)
class RateLimitSnapshot:
    """The last X-RateLimit-* values Jira sent; None where a header was absent."""

    limit: float | None  # requests per second, for Jira's burst limits
    remaining: int | None
    near_limit: bool | None
    observed_at: float  # time.time() when seen


def _int_header(headers: httpx2.Headers, name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _number_header(headers: httpx2.Headers, name: str) -> float | None:
    try:
        value = float(headers[name])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def rate_snapshot(headers: httpx2.Headers, now: Callable[[], float]) -> RateLimitSnapshot | None:
    """The X-RateLimit-* values of one answer; None when it carried none of them."""
    limit = _number_header(headers, "x-ratelimit-limit")
    remaining = _int_header(headers, "x-ratelimit-remaining")
    near = headers.get("x-ratelimit-nearlimit")
    if limit is None and remaining is None and near is None:
        return None
    return RateLimitSnapshot(
        limit=limit,
        remaining=remaining,
        near_limit=None if near is None else near.strip().lower() == "true",
        observed_at=now(),
    )


def rate_signal(response: httpx2.Response, now: Callable[[], float]) -> RateSignal:
    """One answer as the limiter reads it. `now` is the wall clock for HTTP-date Retry-After."""
    headers = response.headers
    status = response.status_code
    near = headers.get("x-ratelimit-nearlimit", "")
    return RateSignal(
        status=status,
        retry_after=(errors.parse_retry_after(headers, now=now) if status >= 400 else None),
        limit=_number_header(headers, "x-ratelimit-limit"),
        remaining=_number_header(headers, "x-ratelimit-remaining"),
        near_limit=near.strip().lower() == "true",
    )
