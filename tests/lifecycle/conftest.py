"""Fixtures for lifecycle tests: a real sandbox over HTTP and a pipeline on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lifecycle_harness import Lifecycle

from sentineliq.sandbox.jira import JiraSandbox


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


@pytest.fixture
def life(tmp_path: Path, database_url: str, sandbox: JiraSandbox) -> Iterator[Lifecycle]:
    opened = Lifecycle.open(tmp_path, database_url, sandbox)
    try:
        yield opened
    finally:
        opened.app.close()
