"""What to do after a failed delivery attempt, decided by the error's class."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sentineliq.providers.base import ProviderError
from sentineliq.settings import DeliverySettings


class Action(StrEnum):
    RETRY = "retry"  # try again at `at`
    DEAD = "dead"  # give up; an operator can replay it
    PAUSE = "pause"  # credentials, CAPTCHA lock or create screen: hold all, lose nothing


@dataclass(frozen=True)
class Decision:
    action: Action
    at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 100
    max_age_s: float = 3 * 24 * 3600.0

    @classmethod
    def from_settings(cls, settings: DeliverySettings) -> RetryPolicy:
        return cls(
            base_s=settings.retry_base_s,
            cap_s=settings.retry_cap_s,
            max_attempts=settings.max_attempts,
            max_age_s=settings.max_age_s,
        )

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(max(0, attempt - 1), 60))
        return (rng or random).uniform(0, ceiling)

    def too_old(self, created_at: datetime, now: datetime) -> bool:
        return now - created_at > timedelta(seconds=self.max_age_s)

    def decide(
        self,
        error: ProviderError,
        *,
        attempts: int,
        created_at: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> Decision:
        if error.pauses_provider:
            return Decision(Action.PAUSE, reason=str(error))
        if self.too_old(created_at, now):
            hours = self.max_age_s / 3600
            return Decision(Action.DEAD, reason=f"older than the maximum age ({hours:g} h)")
        if not error.retryable:
            return Decision(Action.DEAD, reason=f"not retryable ({error.kind.value})")
        if attempts >= self.max_attempts:
            return Decision(Action.DEAD, reason=f"gave up after {attempts} attempts")
        delay = self.backoff(attempts, rng)
        if error.retry_after is not None:
            # Retry-After is the server's floor; jitter only ever adds to it.
            delay = max(delay, error.retry_after)
        return Decision(Action.RETRY, at=now + timedelta(seconds=delay))
