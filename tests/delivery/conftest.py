"""Fixtures for delivery scenarios: a sandbox and a ready pipeline on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_harness import Pipeline

from sentineliq.sandbox.jira import JiraSandbox


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


@pytest.fixture
def pipeline(tmp_path: Path, database_url: str, sandbox: JiraSandbox) -> Iterator[Pipeline]:
    opened = Pipeline.open(tmp_path, database_url, sandbox)
    try:
        yield opened
    finally:
        opened.close()
