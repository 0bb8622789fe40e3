"""The migration builds the schema the models describe, on both databases."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Inspector

from sentineliq.settings import Settings
from sentineliq.storage import Database, upgrade_to_head
from sentineliq.storage.engine import create_db_engine
from sentineliq.storage.migrate import head_revision
from sentineliq.storage.tables import Base

TABLES = {
    "workspaces",
    "ticket_providers",
    "alerts",
    "alert_observables",
    "alert_attack_refs",
    "evidence",
    "custody_entries",
    "deliveries",
    "ticket_links",
    "audit_log",
}


def _unique_sets(inspector: Inspector, table: str) -> set[tuple[str, ...]]:
    return {tuple(uc["column_names"]) for uc in inspector.get_unique_constraints(table)}


def test_migration_creates_tables_and_constraints(database: Database) -> None:
    inspector = inspect(database.engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert ("workspace_id", "provider") in _unique_sets(inspector, "ticket_providers")
    assert ("workspace_id", "fingerprint") in _unique_sets(inspector, "alerts")
    assert ("alert_id", "provider") in _unique_sets(inspector, "deliveries")
    assert ("alert_id", "provider") in _unique_sets(inspector, "ticket_links")
    assert ("name",) in _unique_sets(inspector, "workspaces")
    indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("deliveries")}
    assert ("status", "available_at") in indexes
    config = {c["name"]: c for c in inspector.get_columns("ticket_providers")}["config"]
    if database.url.get_backend_name() == "postgresql":
        assert isinstance(config["type"], JSONB)
        # Alembic's bookkeeping lives in the test's own schema, not in public.
        with database.engine.connect() as connection:
            schema = connection.scalar(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name = 'alembic_version' AND table_schema = current_schema()"
                )
            )
            assert schema is not None
            assert schema.startswith("t_")


def test_models_and_migration_do_not_drift(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(database_url: str) -> None:
    assert upgrade_to_head(database_url) == head_revision()
    assert upgrade_to_head(database_url) == head_revision()


def test_concurrent_upgrades_do_not_collide(database_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            upgrade_to_head(database_url)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
    finally:
        engine.dispose()


def test_sqlite_connection_pragmas(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    with Database(sqlite_url) as db, db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_from_settings_creates_data_dir_and_schema(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    settings = Settings.from_env({"SENTINELIQ_DATA_DIR": str(data_dir)})
    with Database.from_settings(settings) as db:
        assert (data_dir / "sentineliq.db").exists()
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        upgrade_to_head("sqlite://")
