"""The migration builds the schema the models describe, on both databases."""

from __future__ import annotations

import stat
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, column, insert, inspect, text
from sqlalchemy import table as table_clause
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Inspector
from sqlalchemy.sql.expression import ColumnClause

import sentineliq.storage.ratebudget  # noqa: F401  (registers its table for the drift check)
from outbox_reports import ReportingRepository
from sentineliq.settings import Settings
from sentineliq.storage import (
    Database,
    ProviderRepository,
    SecretBox,
    upgrade_to_head,
)
from sentineliq.storage.engine import create_db_engine
from sentineliq.storage.migrate import alembic_config, head_revision
from sentineliq.storage.tables import Base
from sentineliq.storage.types import PortableJSON, UTCDateTime

# These tests run the migrations themselves.
pytestmark = pytest.mark.unmigrated

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
    "delivery_attempts",
}


def _unique_sets(inspector: Inspector, table: str) -> set[tuple[str, ...]]:
    return {tuple(uc["column_names"]) for uc in inspector.get_unique_constraints(table)}


def test_migration_creates_tables_and_constraints(database: Database) -> None:
    inspector = inspect(database.engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert ("workspace_id", "provider") in _unique_sets(inspector, "ticket_providers")
    assert ("workspace_id", "fingerprint") in _unique_sets(inspector, "alerts")
    assert ("alert_id", "provider", "operation", "sequence") in _unique_sets(
        inspector, "deliveries"
    )
    assert ("alert_id", "provider") in _unique_sets(inspector, "ticket_links")
    assert ("name",) in _unique_sets(inspector, "workspaces")
    indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("deliveries")}
    assert ("workspace_id", "provider", "available_at", "id") in indexes  # the claim (partial)
    assert ("workspace_id", "status", "updated_at", "id") in indexes  # a list of one status
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
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == head_revision()
    finally:
        engine.dispose()


def test_sqlite_connection_pragmas(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    with Database(sqlite_url) as db, db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        # 2 = FULL: every commit is synced, so a power loss takes back nothing already acted on
        # (an accepted alert, a "possibly sent" marker; docs/operations.md).
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


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


def _at_revision(url: str, revision: str, *, downgrade: bool = False) -> None:
    # Foreign keys off, as upgrade_to_head does: SQLite batch steps recreate tables.
    engine = create_db_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if downgrade else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def _insert(connection: Connection, table: str, **values: Any) -> None:
    # Typed columns, so datetimes and JSON are stored the way the application stores them.
    def typed(name: str, value: Any) -> ColumnClause[Any]:
        if isinstance(value, datetime):
            return column(name, UTCDateTime())
        if isinstance(value, dict | list):
            return column(name, PortableJSON)
        return column(name)

    target = table_clause(table, *(typed(name, value) for name, value in values.items()))
    connection.execute(insert(target).values(**values))


def _rows_at_0001(url: str) -> dict[str, str]:
    """A workspace, a Jira provider, an alert and a failed delivery, as 0001 stored them."""
    ids = {name: str(uuid.uuid4()) for name in ("workspace", "provider", "alert", "delivery")}
    now = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)  # in the past, so the row is due
    engine = create_db_engine(url, pooled=False)
    try:
        with engine.begin() as connection:
            _insert(connection, "workspaces", id=ids["workspace"], name="soc", created_at=now)
            _insert(
                connection, "ticket_providers",
                id=ids["provider"], created_at=now, updated_at=now, workspace_id=ids["workspace"],
                provider="jira", is_enabled=True, config={"project_key": "SEC"}, config_version=1,
            )  # fmt: skip
            _insert(
                connection, "alerts",
                id=ids["alert"], workspace_id=ids["workspace"], fingerprint="fp", module="edr",
                title="Beacon to C2", severity="high", status="new", source="edr",
                detected_at=now, description="", affected_assets=[], tags=[], payload={},
                created_at=now,
            )  # fmt: skip
            _insert(
                connection, "deliveries",
                id=ids["delivery"], alert_id=ids["alert"], workspace_id=ids["workspace"],
                provider="jira", status="failed", attempts=2, available_at=now,
                last_error="503", error_kind="unavailable", created_at=now, updated_at=now,
                idempotency_key="siq-0123456789abcdef01234567",
            )  # fmt: skip
    finally:
        engine.dispose()
    return ids


def test_upgrade_from_0001_keeps_existing_rows_and_round_trips(database_url: str) -> None:
    _at_revision(database_url, "0001")
    ids = _rows_at_0001(database_url)
    assert upgrade_to_head(database_url) == head_revision()
    with Database(database_url) as db:
        deliveries = ReportingRepository(db)
        record = deliveries.get(ids["delivery"])
        assert record is not None
        assert (record.status, record.attempts, record.last_error) == ("failed", 2, "503")
        assert record.dropped_fields == ()  # filled in by the server default
        assert (record.last_sent_at, record.reconcile_until, record.claimed_at) == (
            None,
            None,
            None,
        )
        assert deliveries.history(ids["delivery"]) == []
        provider = ProviderRepository(db, SecretBox([SecretBox.generate_key()])).get(
            ids["workspace"], "jira", decrypt=False
        )
        assert provider is not None
        assert not provider.is_paused
        # The old row works with the new code: claimed, reported, in the history.
        [claimed] = deliveries.claim_due("w1", limit=5, lease_seconds=60)
        assert claimed.id == ids["delivery"]
        assert claimed.attempts == 3
        deliveries.mark_delivered(claimed.id, "w1", ("1", "SEC-1", "https://x/browse/SEC-1"))
        [attempt] = deliveries.history(claimed.id)
        assert attempt.outcome == "delivered"
    # And back: 0002's columns and table go, the rows stay.
    _at_revision(database_url, "0001", downgrade=True)
    engine = create_db_engine(database_url, pooled=False)
    try:
        inspector = inspect(engine)
        assert "delivery_attempts" not in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("deliveries")}
        assert not columns & {"claimed_at", "last_sent_at", "reconcile_until", "dropped_fields"}
        assert "paused_at" not in {c["name"] for c in inspector.get_columns("ticket_providers")}
        with engine.connect() as connection:
            status = connection.scalar(text("SELECT status FROM deliveries"))
            assert status == "delivered"
            assert connection.scalar(text("SELECT count(*) FROM ticket_links")) == 1
    finally:
        engine.dispose()
    assert upgrade_to_head(database_url) == head_revision()


def test_0008_adds_the_login_throttle_table_and_takes_it_away(database_url: str) -> None:
    assert upgrade_to_head(database_url) == head_revision()
    engine = create_db_engine(database_url, pooled=False)
    try:
        inspector = inspect(engine)
        assert ("kind", "key") in _unique_sets(inspector, "login_throttle")
        indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("login_throttle")}
        assert ("last_failure_at",) in indexes
    finally:
        engine.dispose()
    _at_revision(database_url, "0007", downgrade=True)
    engine = create_db_engine(database_url, pooled=False)
    try:
        assert "login_throttle" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert upgrade_to_head(database_url) == head_revision()
