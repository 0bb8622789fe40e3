"""Time sources. Rate limiting, search lag and request timestamps read an injectable monotonic
clock, so tests can move time forward instead of sleeping; wall-clock timestamps shown to clients
(created, serverTime, X-RateLimit-Reset) come from the real clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]


class ManualClock:
    """A monotonic clock that only moves when told to. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += seconds


def utc_now() -> datetime:
    return datetime.now(UTC)


def jira_timestamp(moment: datetime) -> str:
    """Jira's own datetime format: 2026-11-27T08:22:00.123+0000."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as in X-RateLimit-Reset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
