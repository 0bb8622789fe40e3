"""Fixtures for inbound sync: a Jira sandbox, the service on loopback, an alert with a ticket.

- `sandbox`: a started `JiraSandbox` with a person "Pat Person" (pat@sentineliq.test, API token
  `PAT_TOKEN`) who moves and comments on issues through the REST API, as a person would.
- `inbound`: an `Inbound` harness on the `database_url` fixture (SQLite and PostgreSQL): an
  `AppContext`, a workspace with the Jira provider configured for the sandbox, the service
  served over real HTTP (`inbound.url`), and helpers (see the class).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from inbound_harness import PAT_EMAIL, PAT_NAME, PAT_TOKEN, Inbound

from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        started.add_user(PAT_EMAIL, PAT_NAME, api_token=PAT_TOKEN)
        yield started


@pytest.fixture
def inbound(tmp_path: Path, database_url: str, sandbox: JiraSandbox) -> Iterator[Inbound]:
    harness = Inbound.open(tmp_path, database_url, sandbox)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every log line (structlog and stdlib) as JSON into a buffer, as the service writes them."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("DEBUG")
    try:
        yield buffer
    finally:
        root.handlers, level = saved
        root.setLevel(level)
        structlog.reset_defaults()
