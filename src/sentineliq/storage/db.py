"""The unit of work: one `Database` per process, one session per transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from sentineliq.settings import Settings
from sentineliq.storage.engine import (
    READ_ONLY,
    SQLITE_BUSY_TIMEOUT_MS,
    create_db_engine,
    sqlite_path,
)
from sentineliq.storage.filemodes import make_private_dirs, warn_exposed
from sentineliq.storage.migrate import upgrade_to_head


class Database:
    """Owns the engine; `session()` is the unit of work (commit on success, rollback on error).

    `transaction()` makes several units one: every `session()` opened inside it (in the same
    thread or task) joins its transaction instead of beginning its own. The worker uses it to
    claim a batch and load what the batch needs at once, and to take the rate budget's token
    with the "possibly sent" marker.
    """

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self.engine = create_db_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._joined: ContextVar[Session | None] = ContextVar(f"db-{id(self)}", default=None)
        self._writer = threading.RLock()  # SQLite: this process's writers, one at a time
        self._reads = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> Database:
        """Open the configured database, creating the SQLite data directory and schema if needed.

        Warns about files under the data directory that other users can access.
        """
        path = sqlite_path(settings.database_url)
        if path is not None:
            make_private_dirs(path.parent)
        if migrate:
            upgrade_to_head(settings.database_url)
        database = cls(settings.database_url)
        warn_exposed(settings.data_dir, path)
        return database

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        joined = self._joined.get()
        if joined is not None:
            yield joined  # the enclosing transaction() commits or rolls back
            return
        if not self.is_sqlite:
            with self._sessions.begin() as session:
                yield session
            return
        # SQLite has one writer at a time, and its busy handler waits for the lock by sleeping
        # (1, 2, 5, 10 ... 100 ms): threads of one process queue here instead and are woken at
        # once. Other processes still meet the busy timeout; after that long this thread goes
        # on to SQLite's own wait, as it did before.
        acquired = self._writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            with self._sessions.begin() as session:
                yield session
        finally:
            if acquired:
                self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A unit of work that only reads: on SQLite it neither takes nor waits for the write
        lock (`session()` begins IMMEDIATE so read-then-write cannot fail with SQLITE_BUSY)."""
        joined = self._joined.get()
        if joined is not None:
            yield joined
            return
        with self._reads.begin() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction for everything inside, `session()` calls included (see the class)."""
        joined = self._joined.get()
        if joined is not None:
            yield joined
            return
        with self.session() as session:  # SQLite: takes this process's writer lock too
            token = self._joined.set(session)
            try:
                yield session
            finally:
                self._joined.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
