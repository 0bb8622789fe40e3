"""Identity fixtures: an AppContext on a real database, a controllable clock, cheap hashing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from identity_support import FakeClock, RecordingHasher, cheap_hasher
from sqlalchemy import select

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.settings import Settings
from sentineliq.storage import Database, SecretBox, WorkspaceRecord, WorkspaceRepository
from sentineliq.storage.tables import Base


@pytest.fixture
def app(database: Database, database_url: str, tmp_path: Path) -> AppContext:
    key = SecretBox.generate_key()
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key=key, allow_private_targets=True
    )
    return AppContext(settings, database, SecretBox([key]))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hasher() -> RecordingHasher:
    return cheap_hasher()


@pytest.fixture
def identity(app: AppContext, clock: FakeClock, hasher: RecordingHasher) -> IdentityService:
    return IdentityService(app, clock=clock, hasher=hasher)


@pytest.fixture
def workspace_factory(database: Database) -> Callable[[str], WorkspaceRecord]:
    return lambda name: WorkspaceRepository(database).create(name, actor="test")


@pytest.fixture
def raw_rows(database: Database) -> Callable[[str], list[dict[str, Any]]]:
    """Every row of a table as the database holds it, bypassing the repositories."""

    def rows(table: str) -> list[dict[str, Any]]:
        with database.engine.connect() as connection:
            result = connection.execute(select(Base.metadata.tables[table]))
            return [dict(row._mapping) for row in result]

    return rows
