"""Fixtures for the admin panel's HTTP-level tests: a real database, users with roles, and a
signed-in TestClient over the real app (`create_app`). Import them into a test module.

A World has two workspaces: "Acme" (owner, admin and member users) and "Globex" (its own owner).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService, Role
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRecord, WorkspaceRepository
from sentineliq.web.app import create_app

PASSWORD = "correct horse battery staple"
OWNER = "owner@acme.test"
ADMIN = "admin@acme.test"
MEMBER = "member@acme.test"
OUTSIDER = "owner@globex.test"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class World:
    app: AppContext
    acme: WorkspaceRecord
    globex: WorkspaceRecord


def open_context(tmp_path: Path, database_url: str) -> AppContext:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        allow_private_targets=True,  # the Jira sandbox listens on loopback
    )
    return AppContext.open(settings)


def populate(app: AppContext) -> World:
    workspaces = WorkspaceRepository(app.db)
    acme, globex = workspaces.create("Acme"), workspaces.create("Globex")
    # Cheap argon2 parameters for the test users: the panel verifies with the hash's own
    # parameters, so only the rehash on first login pays the production cost.
    identity = IdentityService(app, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    for email, workspace, role in (
        (OWNER, acme, Role.OWNER),
        (ADMIN, acme, Role.ADMIN),
        (MEMBER, acme, Role.MEMBER),
        (OUTSIDER, globex, Role.OWNER),
    ):
        user = identity.create_user(email, PASSWORD, actor="test")
        identity.add_member(workspace.id, user.id, role, actor="test")
    return World(app, acme, globex)


@pytest.fixture
def admin_world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    app = open_context(tmp_path, sqlite_url)
    try:
        yield populate(app)
    finally:
        app.close()


@pytest.fixture
def admin_client(admin_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(admin_world.app), follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a csrf_token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the login form; returns the session's CSRF token (from a page)."""
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    assert "siq_session" in client.cookies
    return csrf_of(client.get("/", follow_redirects=True).text)
