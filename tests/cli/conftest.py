"""Fixtures: the CLI against a real database (SQLite and PostgreSQL) and a real sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SENTINELIQ_") and key != "COLUMNS"
    }
    env.update(
        SENTINELIQ_DATA_DIR=str(tmp_path / "data"),
        SENTINELIQ_DATABASE_URL=database_url,
        SENTINELIQ_ALLOW_PRIVATE_TARGETS="1",
        COLUMNS="200",  # rich wraps tables to the terminal width; keep rows on one line
    )
    return Cli(env, tmp_path / "data")


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started
