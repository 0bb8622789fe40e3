"""Failed sign-in bookkeeping: one `login_throttle` row per (kind, key).

What the counts mean (how long a key is blocked) is the identity service's business; this module
only keeps the counts and makes each change atomic. A failure locks its rows first, exactly as
the rate budget does (storage/ratebudget.py): `SELECT ... FOR UPDATE` on PostgreSQL, and on
SQLite the write lock that `BEGIN IMMEDIATE` takes. Concurrent failures therefore never lose a
count. Rows are locked in key order, so two failures sharing keys cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sentineliq.storage.db import Database
from sentineliq.storage.tables import LoginThrottleRow, new_id

ThrottleKind = Literal["address", "client", "device"]
# (failures so far, including this one) -> blocked until, or None for no delay
BlockPolicy = Callable[["ThrottleKey", int, datetime], datetime | None]

_LOCK_ATTEMPTS = 3


@dataclass(frozen=True, order=True)
class ThrottleKey:
    kind: ThrottleKind
    key: str


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    first_failure_at: datetime
    last_failure_at: datetime
    blocked_until: datetime | None


def _state(row: LoginThrottleRow) -> ThrottleState:
    return ThrottleState(
        failures=row.failures,
        first_failure_at=row.first_failure_at,
        last_failure_at=row.last_failure_at,
        blocked_until=row.blocked_until,
    )


class LoginThrottleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(
        self, keys: Iterable[ThrottleKey], *, forget_before: datetime
    ) -> dict[ThrottleKey, ThrottleState]:
        """The current state of each key that has one; rows older than `forget_before` count
        as absent (they are pruned later)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        with self._db.session() as session:
            rows = session.scalars(
                select(LoginThrottleRow).where(
                    tuple_(LoginThrottleRow.kind, LoginThrottleRow.key).in_(
                        [(k.kind, k.key) for k in wanted]
                    ),
                    LoginThrottleRow.last_failure_at >= forget_before,
                )
            ).all()
            return {ThrottleKey(row.kind, row.key): _state(row) for row in rows}  # type: ignore[arg-type]

    def record_failure(
        self,
        keys: Iterable[ThrottleKey],
        *,
        now: datetime,
        forget_before: datetime,
        block: BlockPolicy,
    ) -> dict[ThrottleKey, ThrottleState]:
        """Count one failure against every key, in one transaction; returns the new states.

        A key whose last failure is older than `forget_before` starts again from one.
        `block(key, failures, now)` says until when the key is blocked; a block never shortens.
        """
        result: dict[ThrottleKey, ThrottleState] = {}
        with self._db.session() as session:
            for key in sorted(set(keys)):
                row = self._lock_or_create(session, key, now)
                if row.last_failure_at < forget_before:
                    row.failures, row.first_failure_at, row.blocked_until = 0, now, None
                row.failures += 1
                row.last_failure_at = now
                until = block(key, row.failures, now)
                if until is not None and (row.blocked_until is None or until > row.blocked_until):
                    row.blocked_until = until
                result[key] = _state(row)
        return result

    def reset(self, key: ThrottleKey) -> None:
        """Forget the key's failures (a successful sign-in along that path)."""
        with self._db.session() as session:
            session.execute(
                delete(LoginThrottleRow).where(
                    LoginThrottleRow.kind == key.kind, LoginThrottleRow.key == key.key
                )
            )

    def prune(self, *, forget_before: datetime) -> int:
        """Delete rows with no failure since `forget_before`; returns how many went.

        Rows another transaction holds are skipped (PostgreSQL), so pruning never waits on, or
        deadlocks with, a sign-in; they go next time.
        """
        with self._db.session() as session:
            expired = (
                select(LoginThrottleRow.id)
                .where(LoginThrottleRow.last_failure_at < forget_before)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(expired))
            if ids:
                session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.id.in_(ids)))
            return len(ids)

    def _lock_or_create(
        self, session: Session, key: ThrottleKey, now: datetime
    ) -> LoginThrottleRow:
        # A concurrent prune may delete the row between our insert (a no-op because the row
        # existed) and our lock: insert again then.
        for _ in range(_LOCK_ATTEMPTS):
            row = self._locked(session, key)
            if row is not None:
                return row
            self._insert_if_missing(session, key, now)
        raise RuntimeError(f"could not lock the {key.kind} throttle row")  # pragma: no cover

    @staticmethod
    def _locked(session: Session, key: ThrottleKey) -> LoginThrottleRow | None:
        return session.scalars(
            select(LoginThrottleRow)
            .where(LoginThrottleRow.kind == key.kind, LoginThrottleRow.key == key.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()

    @staticmethod
    def _insert_if_missing(session: Session, key: ThrottleKey, now: datetime) -> None:
        # failures 0 and last_failure_at now: record_failure then counts this failure as the
        # first, whether it created the row or another transaction did.
        values = {
            "id": new_id(),
            "kind": key.kind,
            "key": key.key,
            "failures": 0,
            "first_failure_at": now,
            "last_failure_at": now,
            "blocked_until": None,
        }
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(
                postgresql.insert(LoginThrottleRow).values(values).on_conflict_do_nothing()
            )
        elif dialect == "sqlite":
            session.execute(sqlite.insert(LoginThrottleRow).values(values).on_conflict_do_nothing())
        else:  # pragma: no cover - only the two supported databases reach here
            raise RuntimeError(f"unsupported database {dialect!r}")
