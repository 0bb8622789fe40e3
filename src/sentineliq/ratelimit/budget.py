"""The request budget of each ticket-system site: proactive pacing that adapts to the answers.

One token bucket per site (normalised base URL, `site_key`), shared by every delivery of a process
(`ratelimit.local.LocalRateLimiter`) or, through a `rate_budgets` row, by every worker process of
an installation (`storage.ratebudget.DatabaseRateLimiter`). The HTTP client calls `acquire` before
each request and `observe` after each answer, so the budget covers metadata reads as well as
creates.

Pacing rules (all in `BudgetPolicy`, shared by both limiters):
- Proactive: at most `rate` requests/s (default 10), with a small burst (default a fifth of a
  second of the rate, at least 1). Jira does not publish its bucket capacity and tells clients to
  "design around the steady-state refill rate, not the burst buffer"; a bucket no bigger than the
  site's, refilled no faster, can never outrun it, while a big burst spends the site's bucket at
  start and earns 429s.
- `X-RateLimit-Limit` (for Jira's burst limits: requests per second) caps the rate; the burst
  shrinks with it.
- A low `X-RateLimit-Remaining` or `X-RateLimit-NearLimit: true` slows down to the steady pace:
  we never hold more tokens than the site says are left, none at all when it is near its limit,
  so the next requests are spaced at the rate instead of bursting. They do not lower the rate: a
  client that is a small bucket's only user paces exactly at the limit and sees NearLimit on
  almost every answer; lowering the rate on it halved throughput in bench/ratelimit.py without
  avoiding a single 429.
- 429 or 503 with Retry-After: nobody sends to the site before it expires, then one request goes
  and pacing resumes. 429 without Retry-After: the same with exponential backoff and full jitter
  (uniform in [0, min(cap, base * 2^(n-1))] for the n-th such 429 in a row).
- A 429 also halves the learned rate (at most once a second: answers to requests already in
  flight report the same congestion); it recovers additively toward the configured rate (by
  default the whole rate in a minute).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

from sentineliq.errors import TicketSystemError

DEFAULT_RATE = 10.0
BURST_SECONDS = 0.2  # default burst: this many seconds' worth of the rate
RECOVERY_SECONDS = 60.0  # a backed-off rate regains the configured rate in about this long
FLOOR_FRACTION = 0.01  # congestion never slows a site below this share of the configured rate
DECREASE_ON_429 = 0.5
DECREASE_INTERVAL_S = 1.0
_MAX_EXPONENT = 40  # 2**40 * base is beyond any sane cap; keeps the arithmetic finite
_EPSILON = 1e-9  # float refills land a hair below 1.0; do not sleep for nanoseconds


@dataclass(frozen=True)
class BudgetState:
    """A site's budget as stored; see RateBudgetRow for the fields."""

    tokens: float
    updated_at: float
    blocked_until: float
    learned_rate: float
    limit_rate: float | None
    strikes: int
    adjusted_at: float


@dataclass(frozen=True)
class RateSignal:
    """What one answer says about the site's budget; None where the answer did not say."""

    status: int
    retry_after: float | None  # seconds, from Retry-After (or X-RateLimit-Reset)
    limit: float | None  # X-RateLimit-Limit: requests per second for Jira's burst limits
    remaining: float | None  # X-RateLimit-Remaining
    near_limit: bool = False  # X-RateLimit-NearLimit: true


class SiteRateLimiter(Protocol):
    def now(self) -> float:
        """The limiter's clock: `acquire` deadlines are times on it."""
        ...

    def acquire(
        self,
        site: str,
        *,
        deadline: float | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Block until one request may be sent to `site`.

        Raises RateLimitDeadline, without waiting, when that is only possible after `deadline`.
        `then` runs once the turn is granted, before acquire returns; a limiter that keeps its
        budget in a database runs it in the transaction that takes the token (one transaction
        for both, and an exception from `then` leaves the token untaken).
        """
        ...

    def observe(self, site: str, response: RateSignal) -> None:
        """Adapt the budget to an answer from `site` (any status, 429 and 5xx included)."""
        ...


class RateLimitDeadline(TicketSystemError):
    """The site's budget has no room for a request before the caller's deadline."""

    def __init__(self, site: str, wait_s: float) -> None:
        super().__init__(f"the request budget of {site} has room again in {wait_s:.1f} s")
        self.site = site
        self.wait_s = wait_s


def site_key(base_url: str) -> str:
    """The budget a base URL belongs to: scheme, host and path, lower-cased, no default port.

    User info is dropped, so no credential can end up in a key (keys are stored and logged).
    """
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class BudgetPolicy:
    """The token-bucket arithmetic; pure functions of a BudgetState and the time."""

    rate: float = DEFAULT_RATE
    burst: float | None = None
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 600.0
    recovery_per_s: float | None = None  # requests/s regained per second after a decrease

    def __post_init__(self) -> None:
        if not 0 < self.rate < math.inf:
            raise ValueError("rate must be a number of requests per second greater than 0")
        if self.burst is not None and not self.burst >= 1:
            raise ValueError("burst must be at least 1 request")
        if not 0 < self.backoff_base_s <= self.backoff_cap_s:
            raise ValueError("backoff needs 0 < base <= cap")
        if self.recovery_per_s is not None and not self.recovery_per_s > 0:
            raise ValueError("recovery_per_s must be greater than 0")

    @property
    def burst_size(self) -> float:
        return self.burst if self.burst is not None else max(1.0, self.rate * BURST_SECONDS)

    @property
    def recovery(self) -> float:
        if self.recovery_per_s is not None:
            return self.recovery_per_s
        return self.rate / RECOVERY_SECONDS

    def initial(self, now: float) -> BudgetState:
        return BudgetState(
            tokens=self.burst_size,
            updated_at=now,
            blocked_until=now,
            learned_rate=self.rate,
            limit_rate=None,
            strikes=0,
            adjusted_at=now - DECREASE_INTERVAL_S,
        )

    def effective_rate(self, state: BudgetState) -> float:
        limit = state.limit_rate if state.limit_rate is not None else math.inf
        return min(self.rate, state.learned_rate, limit)

    def capacity(self, rate: float) -> float:
        """The burst at `rate`: the configured burst scaled down with the rate, at least 1."""
        return max(1.0, self.burst_size * rate / self.rate)

    def refill(self, state: BudgetState, now: float) -> BudgetState:
        if now <= state.updated_at:  # also while blocked: updated_at is then the block's end
            return state
        elapsed = now - state.updated_at
        rate = self.effective_rate(state)
        # Recovery never lowers a rate another process (configured higher) learned.
        recovered = min(self.rate, state.learned_rate + self.recovery * elapsed)
        state_after = replace(
            state, learned_rate=max(state.learned_rate, recovered), updated_at=now
        )
        capacity = self.capacity(self.effective_rate(state_after))
        return replace(state_after, tokens=min(capacity, state.tokens + elapsed * rate))

    def take(self, state: BudgetState, now: float) -> tuple[BudgetState, float]:
        """Take a token if one is there: (new state, 0). Otherwise (new state, seconds to wait)."""
        state = self.refill(state, now)
        if now < state.blocked_until:
            return state, state.blocked_until - now
        if state.tokens >= 1.0 - _EPSILON:
            return replace(state, tokens=max(0.0, state.tokens - 1.0)), 0.0
        return state, (1.0 - state.tokens) / self.effective_rate(state)

    def observe(
        self, state: BudgetState, signal: RateSignal, now: float, rng: random.Random
    ) -> BudgetState:
        state = self.refill(state, now)
        rate = self.effective_rate(state)
        if signal.limit is not None and signal.limit > 0:
            state = replace(state, limit_rate=signal.limit)
            capacity = self.capacity(self.effective_rate(state))
            state = replace(state, tokens=min(state.tokens, capacity))
        if signal.status == 429:
            state = self._decrease(state, rate, now)
            if signal.retry_after is not None:
                return self._block(state, now, now + signal.retry_after)
            strikes = state.strikes + 1
            ceiling = self.backoff_base_s * 2.0 ** min(strikes - 1, _MAX_EXPONENT)
            wait = rng.uniform(0.0, min(self.backoff_cap_s, ceiling))
            return self._block(replace(state, strikes=strikes), now, now + wait)
        if signal.status == 503 and signal.retry_after is not None:
            # Not a rate signal (Jira says so), but the site asked everybody to stay away.
            return self._block(state, now, now + signal.retry_after)
        if signal.status < 400 and state.strikes:
            state = replace(state, strikes=0)
        left = 0.0 if signal.near_limit else signal.remaining
        if left is not None:
            state = replace(state, tokens=min(state.tokens, max(0.0, left)))
        return state

    def changes_nothing(self, state: BudgetState, signal: RateSignal) -> bool:
        """Whether `observe` would leave `state` as it is (refilling aside)."""
        limit = signal.limit if signal.limit is not None and signal.limit > 0 else None
        return (
            signal.status < 400
            and not signal.near_limit
            and state.strikes == 0
            and (limit is None or limit == state.limit_rate)
            and (
                signal.remaining is None
                or signal.remaining >= self.capacity(self.effective_rate(state))
            )
        )

    def _decrease(self, state: BudgetState, rate: float, now: float) -> BudgetState:
        if now - state.adjusted_at < DECREASE_INTERVAL_S:
            return state
        floor = self.rate * FLOOR_FRACTION
        return replace(state, learned_rate=max(floor, rate * DECREASE_ON_429), adjusted_at=now)

    def _block(self, state: BudgetState, now: float, until: float) -> BudgetState:
        # Nothing refills while blocked; when the block ends one request may go (Retry-After is
        # the time until the site has room for one), unless the bucket would not have refilled
        # that far by then (a short Retry-After must not hand out extra requests).
        blocked_until = max(state.blocked_until, until)
        # While already blocked, the tokens are those of the earlier block's end.
        since = max(now, state.updated_at)
        refilled = state.tokens + max(0.0, blocked_until - since) * self.effective_rate(state)
        return replace(
            state, blocked_until=blocked_until, tokens=min(1.0, refilled), updated_at=blocked_until
        )


def wait_for_turn(
    site: str,
    try_take: Callable[[], float],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    deadline: float | None,
) -> None:
    """Take a turn with `try_take` (0 once taken, else the seconds to wait), sleeping between."""
    while True:
        wait = try_take()
        if wait <= 0:
            return
        if deadline is not None and clock() + wait > deadline:
            raise RateLimitDeadline(site, wait)
        # Only an estimate when others share the budget: the loop takes the token afresh.
        sleep(wait)
