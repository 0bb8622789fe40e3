"""SQLite's plan of a statement a call sends: the statement is stopped at the cursor and explained
with the same parameters (EXPLAIN QUERY PLAN reads no rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from sentineliq.storage import Database


class _Stop(Exception):
    """Raised at the cursor once the statement is in hand."""


def sqlite_plan(database: Database, call: Callable[[], object], containing: str = "") -> list[str]:
    """The plan of the first statement of `call` containing `containing`; the ones before it run."""
    assert database.is_sqlite
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN") and containing in statement:
            seen.append((statement, parameters))
            raise _Stop

    event.listen(database.engine, "before_cursor_execute", grab)
    try:
        call()
    except Exception:
        if not seen:
            raise
    finally:
        event.remove(database.engine, "before_cursor_execute", grab)
    statement, parameters = seen[0]
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [str(row[-1]) for row in rows]
