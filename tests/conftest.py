"""Shared fixtures.

Databases (each test gets a fresh, empty one; nothing is shared between tests):
- `sqlite_url`: URL of a new SQLite file in the test's tmp_path (schema NOT created).
- `pg_url`: URL of a new PostgreSQL schema `t_<hex>` (search_path set in the URL, so tables and
  Alembic's version table live there); dropped afterwards. Schema NOT created. Skips when the
  server is unreachable, but FAILS when the CI environment variable is set.
  Server: SENTINELIQ_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test.
- `database_url`: parametrized over both of the above ("sqlite", "postgres"); the postgres
  case carries the `postgres` marker.
- `database`: a migrated `sentineliq.storage.Database` on `database_url`, disposed afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from sentineliq.storage import Database, upgrade_to_head

PG_ADMIN_URL = os.environ.get(
    "SENTINELIQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@cache
def _pg_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(_libpq_dsn(PG_ADMIN_URL), connect_timeout=5):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()} unreachable: {error}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    reason = _pg_unreachable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests must run)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex}"
    admin = _libpq_dsn(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_ADMIN_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            # Fail loudly rather than hang if a test leaked a connection holding locks.
            connection.execute("SET lock_timeout = '20s'")
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    upgrade_to_head(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        db.dispose()
