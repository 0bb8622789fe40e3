"""Fixtures: the CLI against a real database and a real sandbox.

`cli` runs on SQLite: the commands are the same on both databases and every storage path is
tested on PostgreSQL under tests/storage, so one database keeps these slow process-per-call tests
affordable. `cli_any_db` runs the end-to-end flow on both databases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox


def _cli(tmp_path: Path, database_url: str) -> Cli:
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
def cli(tmp_path: Path, sqlite_url: str) -> Cli:
    return _cli(tmp_path, sqlite_url)


@pytest.fixture
def cli_any_db(tmp_path: Path, database_url: str) -> Cli:
    return _cli(tmp_path, database_url)


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started
