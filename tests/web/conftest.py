"""Fixtures for the service's tests (API and admin panel). Test modules use them as fixtures
only: `from conftest import ...` breaks when pytest collects several test directories at once.

- `app_context`: an `AppContext` on the `database_url` fixture (SQLite and PostgreSQL), private
  targets allowed (the sandbox is on loopback), fast retry settings; closed afterwards.
- `jira_sandbox`: a started `JiraSandbox` on 127.0.0.1 (`.url`).
- `jira_settings`: `jira_settings(**overrides)` -> a valid Jira provider config for the sandbox.
- `people`: a `People` helper to create workspaces, users with a role, API keys and sessions
  through `IdentityService` (the real thing: argon2 hashes, hashed keys and sessions).
- `serve`: starts `create_app(app_context, run_worker=...)` under uvicorn in a thread on
  127.0.0.1:0 and returns a `LiveServer` (`.url`); stopped (lifespan shutdown) afterwards.
- `live_server`: `serve()` without the worker.
- `json_logs`: routes every log line (structlog and stdlib, uvicorn included) through
  `configure_logging("DEBUG")` into a buffer; `json_logs.getvalue()` is the JSON lines.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService, Role, UserRecord, WebSession
from sentineliq.settings import DeliverySettings, LimitSettings, Settings
from sentineliq.storage.workspaces import WorkspaceRecord, WorkspaceRepository
from sentineliq.web.app import create_app
from sentineliq.web.server import BackgroundServer

PASSWORD = "correct horse battery staple"
FAST_DELIVERY = DeliverySettings(
    retry_base_s=0.1,
    retry_cap_s=0.5,
    search_lag_s=2.0,
    reconcile_interval_s=0.2,
    lease_s=5.0,
    rate_per_s=200.0,
)


@pytest.fixture
def app_context(tmp_path: Path, database_url: str) -> Iterator[AppContext]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=None,
        allow_private_targets=True,
        delivery=FAST_DELIVERY,
    )
    context = AppContext.open(settings)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def limited(app_context: AppContext) -> Iterator[Callable[..., BackgroundServer]]:
    """`limited(**limits)`: the service on loopback with those LimitSettings."""
    started: list[BackgroundServer] = []

    def start(**limits: int) -> BackgroundServer:
        settings = replace(app_context.settings, limits=LimitSettings(**limits))
        live = BackgroundServer.start(create_app(replace(app_context, settings=settings)))
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def jira_sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


def jira_config(sandbox: JiraSandbox, **overrides: Any) -> dict[str, Any]:
    """A valid Jira provider configuration for the seeded sandbox."""
    return {**sandbox_provider_config(sandbox.url), "timeout_s": 15.0, **overrides}


@pytest.fixture
def jira_settings(jira_sandbox: JiraSandbox) -> Callable[..., dict[str, Any]]:
    """`jira_settings(**overrides)`: a valid Jira configuration for `jira_sandbox`."""
    return lambda **overrides: jira_config(jira_sandbox, **overrides)


@dataclass
class Person:
    user: UserRecord
    password: str
    session: WebSession

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"siq_session={self.session.token}"}

    @property
    def headers(self) -> dict[str, str]:
        """Cookie and CSRF header: what the admin panel's browser code would send."""
        return {**self.cookie, "X-CSRF-Token": self.session.csrf_token}


@dataclass
class People:
    app: AppContext
    identity: IdentityService = field(init=False)

    def __post_init__(self) -> None:
        self.identity = IdentityService(self.app)

    def workspace(self, name: str) -> WorkspaceRecord:
        return WorkspaceRepository(self.app.db).create(name, actor="test")

    def user(
        self,
        email: str,
        memberships: dict[str, Role] | None = None,
        *,
        password: str = PASSWORD,
    ) -> Person:
        """A user with the given {workspace_id: role} and a started session."""
        user = self.identity.create_user(email, password, actor="test")
        for workspace_id, role in (memberships or {}).items():
            self.identity.add_member(workspace_id, user.id, role, actor="test")
        session = self.identity.start_session(user.id, ip="127.0.0.1", user_agent="pytest")
        return Person(user, password, session)

    def api_key(self, workspace_id: str, name: str = "ingest") -> str:
        _record, plaintext = self.identity.create_api_key(workspace_id, name, actor="test")
        return plaintext


@pytest.fixture
def people(app_context: AppContext) -> People:
    return People(app_context)


LiveServer = BackgroundServer


def start_server(app: Any) -> LiveServer:
    return BackgroundServer.start(app)


@pytest.fixture
def serve(app_context: AppContext) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(*, run_worker: bool = False) -> LiveServer:
        live = start_server(create_app(app_context, run_worker=run_worker))
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def live_server(serve: Callable[..., LiveServer]) -> LiveServer:
    return serve()


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("DEBUG")  # binds its handlers to the buffer
    try:
        yield buffer
    finally:
        root.handlers, level = saved
        root.setLevel(level)
        structlog.reset_defaults()
