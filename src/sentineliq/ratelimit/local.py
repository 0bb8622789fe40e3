"""The in-process limiter: every site's budget for the threads of one process."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from sentineliq.ratelimit.budget import (
    DEFAULT_RATE,
    BudgetPolicy,
    BudgetState,
    RateSignal,
    wait_for_turn,
)


class LocalRateLimiter:
    """The budget of each site for the threads of one process. Thread-safe."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: float | None = None,
        *,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 600.0,
        recovery_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = BudgetPolicy(rate, burst, backoff_base_s, backoff_cap_s, recovery_per_s)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._budgets: dict[str, BudgetState] = {}

    def now(self) -> float:
        return self._clock()

    def state(self, site: str) -> BudgetState | None:
        with self._lock:
            return self._budgets.get(site)

    def acquire(
        self,
        site: str,
        *,
        deadline: float | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        wait_for_turn(site, lambda: self._try_take(site), self._clock, self._sleep, deadline)
        if then is not None:
            then()  # outside the lock: it may write to a database

    def observe(self, site: str, response: RateSignal) -> None:
        with self._lock:
            now = self._clock()
            state = self._budgets.get(site) or self.policy.initial(now)
            self._budgets[site] = self.policy.observe(state, response, now, self._rng)

    def _try_take(self, site: str) -> float:
        with self._lock:
            now = self._clock()
            state = self._budgets.get(site) or self.policy.initial(now)
            self._budgets[site], wait = self.policy.take(state, now)
            return wait
