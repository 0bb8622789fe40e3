"""The shared request budget of each ticket-system site: one `rate_budgets` row per site.

Every worker process of an installation reads and changes the same row, so the site's rate limit
holds for all of them together. Each change is one short transaction that locks the row first:
`SELECT ... FOR UPDATE` on PostgreSQL, and on SQLite the write lock that the engine's
`BEGIN IMMEDIATE` takes (see engine.py), which serialises processes on one machine just as well.
What the numbers mean is the rate limiter's business (sentineliq.delivery.ratelimit); this module
only makes read-modify-write atomic. Times are wall-clock epoch seconds, comparable across the
processes of one machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Double, Integer, Text, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sentineliq.storage.db import Database
from sentineliq.storage.tables import Base

T = TypeVar("T")


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
