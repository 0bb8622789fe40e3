"""Storage test helpers: a rich sample alert, a workspace, a secret box, repositories."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from storage_samples import make_alert

from outbox_reports import ReportingRepository
from sentineliq.alerts.model import Alert
from sentineliq.storage import (
    AlertRepository,
    Database,
    ProviderRepository,
    SecretBox,
    WorkspaceRecord,
    WorkspaceRepository,
)


@pytest.fixture
def alert_factory() -> Callable[..., Alert]:
    return make_alert


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox([SecretBox.generate_key()])


@pytest.fixture
def workspace(database: Database) -> WorkspaceRecord:
    return WorkspaceRepository(database).create("acme-soc")


@pytest.fixture
def providers(database: Database, secret_box: SecretBox) -> ProviderRepository:
    return ProviderRepository(database, secret_box)


@pytest.fixture
def alerts(database: Database) -> AlertRepository:
    return AlertRepository(database)


@pytest.fixture
def deliveries(database: Database) -> ReportingRepository:
    return ReportingRepository(database)
