"""Pacing requests to ticket-system sites: the budget arithmetic, the limiter interface and
the in-process limiter. No I/O: the database-backed limiter lives in storage.ratebudget and is
injected where several processes share one budget."""

from sentineliq.ratelimit.budget import (
    DEFAULT_RATE,
    BudgetPolicy,
    BudgetState,
    RateLimitDeadline,
    RateSignal,
    SiteRateLimiter,
    site_key,
)
from sentineliq.ratelimit.local import LocalRateLimiter

__all__ = [
    "DEFAULT_RATE",
    "BudgetPolicy",
    "BudgetState",
    "LocalRateLimiter",
    "RateLimitDeadline",
    "RateSignal",
    "SiteRateLimiter",
    "site_key",
]
