"""Shared fixtures.

Databases (each test gets a fresh one; nothing is shared between tests):
- `sqlite_url`: URL of a new SQLite file in the test's tmp_path, already at the newest schema.
- `pg_url`: URL of a new PostgreSQL schema `t_<hex>` (search_path set in the URL, so tables and
  Alembic's version table live there), already at the newest schema; dropped afterwards. Skips
  when the server is unreachable, but FAILS when the CI environment variable is set.
  Both are copies of a database each test process migrates once (migrating per test cost about
  0.5 s of CPU each, a fifth of the suite). A test marked `unmigrated` gets them empty instead
  (the migration tests, which run the migrations themselves).
  Server: SENTINELIQ_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test.
- `database_url`: parametrized over both of the above ("sqlite", "postgres"); the postgres
  case carries the `postgres` marker.
- `database`: a migrated `sentineliq.storage.Database` on `database_url`, disposed afterwards.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
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


def _migrated(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("unmigrated") is None


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    path = tmp_path / "test.db"
    if _migrated(request):
        template: Path = request.getfixturevalue("_sqlite_template")
        # SQLite's backup API: a consistent copy whatever is still in the template's WAL.
        with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        copy.close()
        source.close()
        path.chmod(0o600)  # as the product creates its database: readable by its owner only
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _pg_template_sql() -> str:
    """The SQL that recreates a migrated schema, its rows (Alembic's version) included, from a
    schema this process migrated once; `{schema}` stands for the new schema's name."""
    template = f"tpl_{uuid.uuid4().hex}"
    admin = _libpq_dsn(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{template}"')
    url = make_url(PG_ADMIN_URL).update_query_dict({"options": f"-csearch_path={template}"})
    try:
        upgrade_to_head(url.render_as_string(hide_password=False))
        dump = subprocess.run(
            ["pg_dump", "--schema", template, "--inserts", "--no-owner", "--no-privileges", admin],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{template}" CASCADE')
    # psql meta-commands (pg_dump's \restrict guard) are not SQL; the template's name is unique.
    lines = [line for line in dump.splitlines() if not line.startswith("\\")]
    return re.sub(template, "{schema}", "\n".join(lines).replace("{", "{{").replace("}", "}}"))


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    reason = _pg_unreachable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests must run)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex}"
    admin = _libpq_dsn(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        if _migrated(request):
            template_sql: str = request.getfixturevalue("_pg_template_sql")
            connection.execute(template_sql.format(schema=schema).encode())
        else:
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
