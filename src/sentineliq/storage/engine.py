"""Engine construction: the connection settings every part of the application relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from sentineliq.storage.filemodes import protect_sqlite_files

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "sentineliq_read_only"  # execution option of Database.read()'s connections
# Negative: KiB rather than pages. 64 MiB per connection keeps the indexes ingest probes in
# memory well past 100k alerts (the default is 2 MiB).
SQLITE_CACHE_KIB = -65_536


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases and other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_db_engine(url: str | URL, *, foreign_keys: bool = True, pooled: bool = True) -> Engine:
    """An engine configured for this application.

    SQLite gets WAL (readers never block the writer) with synchronous=FULL, a busy timeout
    instead of immediate "database is locked" errors, enforced foreign keys, and `BEGIN
    IMMEDIATE` transactions (deferred `BEGIN` for Database.read()). The sqlite3 module's own
    transaction handling is switched off: it does not begin a transaction before SELECT or
    SAVEPOINT, which breaks savepoints and lets a read-then-write transaction
    fail with SQLITE_BUSY that no timeout can cure. Taking the write lock at BEGIN instead
    serialises writers cleanly; WAL keeps that cheap.
    """
    kwargs: dict[str, Any] = {}
    if not pooled:
        kwargs["poolclass"] = NullPool
    if is_sqlite(url):
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        path = sqlite_path(url)
        if path is not None:
            protect_sqlite_files(engine, path)  # after _configure_sqlite: WAL is on by then
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL at every commit. NORMAL (sync at checkpoints only) would let a
            # power loss take back commits already acted on: an alert answered `accepted`, or
            # the "possibly sent" marker of a create that left, which would then be sent again
            # as a duplicate ticket. Group commit (ingestgroup) spreads the fsync over callers.
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
            cursor.execute("PRAGMA temp_store = MEMORY")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A read-only unit of work (Database.read) begins deferred: in WAL it reads a snapshot
        # without taking or waiting for the write lock.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
