"""A stored Jira token is only ever used for the site and account it was entered for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentineliq.services.context import AppContext
from sentineliq.services.providers import ProviderConfigError, configure
from sentineliq.settings import Settings
from sentineliq.storage.crypto import MASK
from sentineliq.storage.workspaces import WorkspaceRepository

TOKEN = "first-token-value"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[AppContext]:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key=None, allow_private_targets=True
    )
    with AppContext.open(settings) as opened:
        yield opened


def config(**overrides: str) -> dict[str, str]:
    return {
        "base_url": "http://127.0.0.1:9",
        "email": "bot@sentineliq.test",
        "api_token": TOKEN,
        "project_key": "SEC",
        **overrides,
    }


def test_keeping_the_token_needs_the_same_site_and_account(app: AppContext) -> None:
    workspace = WorkspaceRepository(app.db).create("SOC").id
    configure(app, workspace, "jira", config(), actor="t")
    # Same site and account: the masked token keeps the stored one.
    configure(app, workspace, "jira", config(api_token=MASK, project_key="OPS"), actor="t")
    for moved in ({"base_url": "http://127.0.0.2:9"}, {"email": "other@sentineliq.test"}):
        with pytest.raises(ProviderConfigError) as refused:
            configure(app, workspace, "jira", config(api_token=MASK, **moved), actor="t")
        assert refused.value.problems[0].startswith("api_token: enter it again")
    # Entering the token again is always allowed.
    configure(app, workspace, "jira", config(base_url="http://127.0.0.2:9"), actor="t")
