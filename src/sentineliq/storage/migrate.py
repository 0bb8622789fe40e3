"""Schema migrations, run from code: no alembic.ini is needed at run time.

The migration scripts ship inside the package (`storage/migrations`). To write a new revision
against a scratch database::

    from alembic import command
    from sentineliq.storage.migrate import alembic_config
    command.revision(alembic_config("sqlite:///scratch.db"), "what changed", autogenerate=True)

then review it (see the notes in migrations/script.py.mako).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

from sentineliq.storage.engine import create_db_engine, sqlite_path
from sentineliq.storage.errors import StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic Config built in code. `url` is only needed by Alembic commands that connect."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = make_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(url: str | URL) -> str | None:
    """Bring the database at `url` to the newest schema; safe to call from many processes at once.

    Returns the revision the database is at afterwards.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and sqlite_path(parsed) is None:
        raise ValueError("an in-memory SQLite database cannot be migrated; use a file")
    head = head_revision()
    # Foreign keys off while migrating: SQLite batch migrations drop and recreate tables, and a
    # DROP TABLE with enforcement on would cascade-delete the rows referring to it.
    engine = create_db_engine(parsed, foreign_keys=False, pooled=False)
    try:
        with engine.connect() as connection:
            if current_revision(connection) == head:
                return head
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two processes starting together must not both create the tables. Keyed on the
                # schema so separate schemas (e.g. parallel tests) migrate independently.
                connection.execute(
                    text(
                        "SELECT pg_advisory_xact_lock(hashtext('sentineliq:' || current_schema()))"
                    )
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if connection.dialect.name == "sqlite":
                _check_foreign_keys(connection)
            return current_revision(connection)
    finally:
        engine.dispose()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StorageError(
            "the migration left rows pointing at missing parents in: " + ", ".join(tables)
        )
