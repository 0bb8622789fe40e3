"""The shared request budget of each ticket-system site: one `rate_budgets` row per site.

Every worker process of an installation reads and changes the same row, so the site's rate limit
holds for all of them together. Each change is one short transaction that locks the row first:
`SELECT ... FOR UPDATE` on PostgreSQL, and on SQLite the write lock that the engine's
`BEGIN IMMEDIATE` takes (see engine.py), which serialises processes on one machine just as well.
What the numbers mean is the rate limiter's business (sentineliq.ratelimit); this module makes
read-modify-write atomic and offers `DatabaseRateLimiter`, the limiter over these rows. Times are
wall-clock epoch seconds, comparable across the processes of one machine.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Double, Integer, Text, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from sentineliq.ratelimit.budget import (
    DEFAULT_RATE,
    BudgetPolicy,
    BudgetState,
    RateSignal,
    wait_for_turn,
)
from sentineliq.storage.db import Database
from sentineliq.storage.tables import Base

T = TypeVar("T")
log = logging.getLogger(__name__)


class RateBudgetRow(Base):
    __tablename__ = "rate_budgets"

    site: Mapped[str] = mapped_column(Text, primary_key=True)  # normalised base URL
    tokens: Mapped[float] = mapped_column(Double)  # whole requests that may go now
    updated_at: Mapped[float] = mapped_column(Double)  # tokens were refilled up to here
    blocked_until: Mapped[float] = mapped_column(Double)  # nothing may be sent before this
    learned_rate: Mapped[float] = mapped_column(Double)  # requests/s after backing off
    limit_rate: Mapped[float | None] = mapped_column(Double)  # the site's announced limit
    strikes: Mapped[int] = mapped_column(Integer)  # 429s without Retry-After in a row
    adjusted_at: Mapped[float] = mapped_column(Double)  # last decrease of learned_rate


_FIELDS = tuple(BudgetState.__dataclass_fields__)


def _state(row: RateBudgetRow) -> BudgetState:
    return BudgetState(**{name: getattr(row, name) for name in _FIELDS})


def _values(site: str, state: BudgetState) -> dict[str, Any]:
    return {"site": site, **{name: getattr(state, name) for name in _FIELDS}}


class RateBudgetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, site: str) -> BudgetState | None:
        with self._db.session() as session:
            row = session.get(RateBudgetRow, site)
            return None if row is None else _state(row)

    def update(
        self,
        site: str,
        initial: Callable[[], BudgetState],
        change: Callable[[BudgetState], tuple[BudgetState, T]],
    ) -> T:
        """Apply `change` to the site's budget atomically and return its second value.

        A site seen for the first time starts from `initial()`. Concurrent first uses are safe:
        the insert ignores a row another process created meanwhile, and the row lock then orders
        both changes.
        """
        with self._db.session() as session:
            row = self._locked(session, site)
            if row is None:
                self._insert_if_missing(session, site, initial())
                row = self._locked(session, site)
                if row is None:  # pragma: no cover - the row was inserted or existed just now
                    raise RuntimeError(f"the rate budget row of {site} vanished")
            new, result = change(_state(row))
            for name in _FIELDS:
                setattr(row, name, getattr(new, name))
        return result

    @staticmethod
    def _locked(session: Session, site: str) -> RateBudgetRow | None:
        return session.scalars(
            select(RateBudgetRow)
            .where(RateBudgetRow.site == site)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()

    @staticmethod
    def _insert_if_missing(session: Session, site: str, state: BudgetState) -> None:
        values = _values(site, state)
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(
                postgresql.insert(RateBudgetRow).values(values).on_conflict_do_nothing()
            )
        elif dialect == "sqlite":
            session.execute(sqlite.insert(RateBudgetRow).values(values).on_conflict_do_nothing())
        else:  # pragma: no cover - only the two supported databases reach here
            raise RuntimeError(f"unsupported database {dialect!r}")


class DatabaseRateLimiter:
    """The budget of each site for all processes on one database (`rate_budgets` rows).

    Each acquire is one short transaction that refills and takes a token or says how long to
    wait, and runs the caller's `then` (the worker's "possibly sent" marker) inside it once the
    token is taken; each observe that can change something is another. The clock is wall-clock epoch
    seconds, which every process on the machine agrees on.
    """

    def __init__(
        self,
        db: Database,
        rate: float = DEFAULT_RATE,
        burst: float | None = None,
        *,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 600.0,
        recovery_per_s: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = BudgetPolicy(rate, burst, backoff_base_s, backoff_cap_s, recovery_per_s)
        self._db = db
        self._budgets = RateBudgetRepository(db)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        # The state this process last read per site: an answer that cannot change it (the
        # common 2xx) then costs no transaction. Refreshed by every acquire.
        self._seen: dict[str, BudgetState] = {}

    def now(self) -> float:
        return self._clock()

    def state(self, site: str) -> BudgetState | None:
        return self._budgets.get(site)

    def acquire(
        self,
        site: str,
        *,
        deadline: float | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        wait_for_turn(site, lambda: self._try_take(site, then), self._clock, self._sleep, deadline)

    def observe(self, site: str, response: RateSignal) -> None:
        seen = self._seen.get(site)
        if seen is not None and self.policy.changes_nothing(seen, response):
            return

        def change(state: BudgetState) -> tuple[BudgetState, BudgetState]:
            # Read the clock under the row lock: a time read before waiting for it is stale.
            new = self.policy.observe(state, response, self._clock(), self._rng)
            return new, new

        try:
            self._seen[site] = self._budgets.update(site, self._initial, change)
        except SQLAlchemyError:
            # The answer is already in hand, perhaps a created issue: the worker must get it to
            # hold and record it once the database is back. Losing one observation costs some
            # pacing; nothing goes out unpaced, as the next acquire needs the database too.
            log.warning("rate budget of %s not updated: the database did not answer", site)

    def _try_take(self, site: str, then: Callable[[], None] | None) -> float:
        def change(state: BudgetState) -> tuple[BudgetState, tuple[BudgetState, float]]:
            new, wait = self.policy.take(state, self._clock())
            return new, (new, wait)

        # `then` writes through its own repositories; their sessions join this transaction, so
        # the token and what `then` records commit together, or neither does.
        with self._db.transaction():
            state, wait = self._budgets.update(site, self._initial, change)
            if wait <= 0 and then is not None:
                then()
        self._seen[site] = state
        return wait

    def _initial(self) -> BudgetState:
        return self.policy.initial(self._clock())
