"""Alembic environment. `sentineliq.storage.migrate` passes an open connection in
`config.attributes["connection"]`; a `sqlalchemy.url` option is the fallback for developer use."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import sentineliq.storage.ratebudget  # noqa: F401  (its table joins Base.metadata on import)
from sentineliq.storage.engine import create_db_engine
from sentineliq.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter little in place; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set the sqlalchemy.url option")
    engine = create_db_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
