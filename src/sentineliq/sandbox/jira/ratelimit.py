"""Jira Cloud's burst rate limit (a token bucket) and a record of announced Retry-After times.

One bucket covers all API requests of the sandbox (Cloud keeps one per endpoint and method; one
bucket is stricter and easier to reason about in tests). As Jira documents for burst limits,
`X-RateLimit-Limit` is the refill rate in requests per second and `X-RateLimit-Remaining` the
whole tokens left; the capacity (`burst`) is not announced, as Cloud does not publish it. Every
Retry-After the sandbox sends (429 here, 503 from the `error` fault) is remembered, and a request
that arrives before it expired is flagged `early`, so tests can assert that a client honours
Retry-After.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import timedelta

from sentineliq.sandbox.jira.clock import Clock, iso_utc, utc_now

# Timers may fire a hair early; a client that really waited Retry-After must not be flagged.
EARLY_TOLERANCE_S = 0.01


@dataclass(frozen=True)
class Admission:
    allowed: bool
    headers: dict[str, str]
    retry_after: int | None = None


class RateLimiter:
    """Thread-safe token bucket over the sandbox clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._burst = 0
        self._tokens = 0.0
        self._last = 0.0
        self._not_before: float | None = None

    def configure(self, requests_per_second: float | None, burst: int | None = None) -> None:
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive (or None for unlimited)")
        if burst is not None and burst < 1:
            raise ValueError("burst must be at least 1")
        with self._lock:
            self._rate = requests_per_second
            if requests_per_second is None:
                return
            self._burst = burst if burst is not None else max(1, math.floor(requests_per_second))
            self._tokens = float(self._burst)
            self._last = self._clock()

    def reset(self) -> None:
        self.configure(None)
        with self._lock:
            self._not_before = None

    def is_early(self, arrived_at: float) -> bool:
        """Whether a request arriving now ignores a Retry-After the sandbox announced."""
        with self._lock:
            return self._not_before is not None and arrived_at < self._not_before

    def announce_retry_after(self, seconds: int) -> None:
        with self._lock:
            self._announce(self._clock(), seconds)

    def admit(self) -> Admission:
        with self._lock:
            if self._rate is None:
                return Admission(True, {})
            now = self._clock()
            self._tokens = min(float(self._burst), self._tokens + (now - self._last) * self._rate)
            self._last = now
            limit = _number(self._rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                headers = {
                    "X-RateLimit-Limit": limit,
                    "X-RateLimit-Remaining": str(math.floor(self._tokens)),
                }
                if self._tokens < 0.2 * self._burst:
                    headers["X-RateLimit-NearLimit"] = "true"
                return Admission(True, headers)
            wait = (1.0 - self._tokens) / self._rate
            retry_after = max(1, math.ceil(wait))
            self._announce(now, retry_after)
            headers = {
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": limit,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso_utc(utc_now() + timedelta(seconds=retry_after)),
                "RateLimit-Reason": "jira-burst-based",
            }
            return Admission(False, headers, retry_after)

    def _announce(self, now: float, seconds: int) -> None:
        until = now + seconds - EARLY_TOLERANCE_S
        if self._not_before is None or until > self._not_before:
            self._not_before = until


def _number(value: float) -> str:
    """A header number: integral rates as integers, as Jira sends them."""
    return str(int(value)) if value == int(value) else f"{value:g}"
