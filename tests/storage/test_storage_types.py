"""Aware datetimes survive both databases as the same instant, in UTC, and compare correctly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from sentineliq.storage import Database
from sentineliq.storage.tables import AuditRow, new_id

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=offsets
)


def _store(db: Database, at: datetime, action: str = "test") -> str:
    row_id = new_id()
    with db.session() as session:
        session.add(AuditRow(id=row_id, at=at, actor="t", action=action, details={}))
    return row_id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moment=aware)
def test_aware_datetime_round_trips_as_utc(database: Database, moment: datetime) -> None:
    row_id = _store(database, moment)
    with database.session() as session:
        loaded = session.get_one(AuditRow, row_id).at
    assert loaded == moment  # the same instant
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.tzinfo is UTC


def test_comparisons_in_sql_respect_offsets(database: Database) -> None:
    # 12:00+02:00 is 10:00Z: earlier than 11:00Z although its wall clock reads later.
    east = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    west = datetime(2026, 1, 1, 6, 30, tzinfo=timezone(timedelta(hours=-5)))  # 11:30Z
    _store(database, east, "east")
    _store(database, west, "west")
    cutoff = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    with database.session() as session:
        before = session.scalars(select(AuditRow.action).where(AuditRow.at <= cutoff)).all()
        ordered = session.scalars(select(AuditRow.action).order_by(AuditRow.at)).all()
    assert before == ["east"]
    assert ordered == ["east", "west"]


def test_naive_datetime_is_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        _store(database, datetime(2026, 1, 1))
