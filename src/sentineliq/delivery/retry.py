"""When to try a failed delivery again, decided by the error's class."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sentineliq.providers.base import ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 10

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return (rng or random).uniform(0, ceiling)

    def next_attempt_at(
        self, error: ProviderError, attempt: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """The time of the next try, or None when the delivery should be dead-lettered."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        delay = self.backoff(attempt, rng)
        if error.retry_after is not None:
            # Retry-After is the server's floor; jitter only ever adds to it.
            delay = max(delay, error.retry_after)
        return now + timedelta(seconds=delay)
