"""End-to-end fixtures: the real app served by uvicorn on a thread, the Jira sandbox, and
Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, LiveServer, World

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.web.app import create_app
from sentineliq.web.server import BackgroundServer

from admin_fixtures import open_context, populate  # isort: skip - on the path browser_support sets

STARTUP_TIMEOUT_S = 20.0


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI is set: .ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    app = open_context(tmp_path, sqlite_url)
    world = populate(app)
    # The service's own worker delivers, as in production.
    server = BackgroundServer.start(create_app(app, run_worker=True))
    try:
        yield LiveServer(server.url, world)
    finally:
        server.stop()
        app.close()


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, World]]:
    """The app served without its worker (the test runs one when it wants tickets filed), and
    its address."""
    app = open_context(tmp_path, sqlite_url)
    world = populate(app)
    server = BackgroundServer.start(create_app(app, run_worker=False))
    try:
        yield server.url, world
    finally:
        server.stop()
        app.close()
