"""Trusted proxies (SENTINELIQ_TRUSTED_PROXIES): X-Forwarded-For/-Proto count from listed peers
only. Every test talks HTTP to a real uvicorn server on loopback, so the direct peer is always
127.0.0.1; whether that peer is trusted is what the tests vary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from argon2 import PasswordHasher
from starlette.types import Receive, Scope, Send

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.settings import Settings, SettingsError, parse_trusted_proxies
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.app import create_app
from sentineliq.web.proxies import TrustedProxyHeaders
from sentineliq.web.server import BackgroundServer

EMAIL = "analyst@proxied.test"
PASSWORD = "quartz-lantern-Orbit-4417"
HSTS = "max-age=31536000; includeSubDomains"
CLIENT = "203.0.113.7"
FORWARDED = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def running_service(tmp_path: Path, database_url: str, trusted: str) -> Iterator[Site]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=None,
        allow_private_targets=False,
        trusted_proxies=parse_trusted_proxies(trusted, source="test"),
    )
    with AppContext.open(settings) as context:
        # Cheap argon2 parameters for the test user; sign-in verifies with the hash's own.
        identity = IdentityService(context, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
        identity.create_user(EMAIL, PASSWORD, actor="test")
        server = BackgroundServer.start(create_app(context))
        try:
            yield Site(context, server.url)
        finally:
            server.stop()


class Site:
    def __init__(self, context: AppContext, url: str) -> None:
        self.context = context
        self.url = url

    def audit_ips(self, action: str) -> list[str | None]:
        entries = AuditRepository(self.context.db).list()
        return [entry.details.get("ip") for entry in reversed(entries) if entry.action == action]


def _cookie(response: httpx2.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def _sign_in(site: Site, headers: dict[str, str], password: str) -> dict[str, httpx2.Response]:
    """The browser's sign-in, by hand: a Secure cookie would not go back over http, so the
    login nonce is echoed in a Cookie header the way a browser behind TLS would send it."""
    with httpx2.Client(base_url=site.url, follow_redirects=False, timeout=30) as client:
        page = client.get("/login", headers=headers)
        nonce = _cookie(page, "siq_login_csrf").split(";", 1)[0]
        match = _CSRF.search(page.text)
        assert match, page.text
        answer = client.post(
            "/login",
            headers={**headers, "Cookie": nonce},
            data={"csrf_token": match[1], "email": EMAIL, "password": password, "next": "/"},
        )
    return {"page": page, "answer": answer}


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8, 2001:db8::/32"], ids=["unset", "other"])
def test_forwarded_headers_from_an_untrusted_peer_change_nothing(
    tmp_path: Path, sqlite_url: str, trusted: str
) -> None:
    with running_service(tmp_path, sqlite_url, trusted) as site:
        failed = _sign_in(site, FORWARDED, "not the password")
        assert failed["answer"].status_code == 401
        signed = _sign_in(site, FORWARDED, PASSWORD)
        assert signed["answer"].status_code == 303

        assert site.audit_ips("login.failed") == ["127.0.0.1"]
        assert site.audit_ips("session.started") == ["127.0.0.1"]
        assert "Secure" not in _cookie(signed["page"], "siq_login_csrf")
        assert "Secure" not in _cookie(signed["answer"], "siq_session")
        for response in (signed["page"], signed["answer"]):
            assert "strict-transport-security" not in response.headers
        health = httpx2.get(site.url + "/healthz", headers=FORWARDED)
        assert "strict-transport-security" not in health.headers


def test_behind_a_trusted_proxy_the_real_client_and_https_count(
    tmp_path: Path, sqlite_url: str
) -> None:
    with running_service(tmp_path, sqlite_url, "127.0.0.1") as site:
        failed = _sign_in(site, FORWARDED, "not the password")
        assert failed["answer"].status_code == 401
        signed = _sign_in(site, FORWARDED, PASSWORD)
        assert signed["answer"].status_code == 303

        # What the identity service (audit log and login throttle) was handed as the client.
        assert site.audit_ips("login.failed") == [CLIENT]
        assert site.audit_ips("session.started") == [CLIENT]
        assert "Secure" in _cookie(signed["page"], "siq_login_csrf")
        assert "Secure" in _cookie(signed["answer"], "siq_session")
        for response in (failed["page"], failed["answer"], signed["page"], signed["answer"]):
            assert response.headers["strict-transport-security"] == HSTS
        api = httpx2.get(site.url + "/api/v1/workspaces", headers=FORWARDED)
        assert api.headers["strict-transport-security"] == HSTS

        # The same proxy forwarding a plain-http request: no Secure cookie, no HSTS.
        plain = _sign_in(site, {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "http"}, PASSWORD)
        assert plain["answer"].status_code == 303
        assert "Secure" not in _cookie(plain["answer"], "siq_session")
        assert "strict-transport-security" not in plain["answer"].headers


def test_spoofed_left_entries_are_ignored_and_the_chain_is_read_from_the_right(
    tmp_path: Path, sqlite_url: str
) -> None:
    with running_service(tmp_path, sqlite_url, "127.0.0.1") as site:
        spoofed = {"X-Forwarded-For": f"198.51.100.1, {CLIENT}", "X-Forwarded-Proto": "https"}
        assert _sign_in(site, spoofed, "not the password")["answer"].status_code == 401
        assert site.audit_ips("login.failed") == [CLIENT]


# --- The middleware's reading of the headers, on a probe app that echoes what it was given ---


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def probe() -> Iterator[Any]:
    servers: list[BackgroundServer] = []

    def start(trusted: str) -> BackgroundServer:
        networks = parse_trusted_proxies(trusted, source="test")
        server = BackgroundServer.start(TrustedProxyHeaders(_echo, networks=networks))
        servers.append(server)
        return server

    def ask(trusted: str, headers: list[tuple[str, str]]) -> httpx2.Response:
        return httpx2.get(start(trusted).url, headers=headers)

    yield ask
    for server in servers:
        server.stop()


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "client"),
    [
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # Trusted hops on the right are skipped; the first untrusted one is the client.
        ("127.0.0.0/8, 10.0.0.0/8", "198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("::1, 127.0.0.1", "2001:DB8::0:7", "2001:db8::7"),  # written canonically
        ("127.0.0.1", "::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped -> IPv4
        ("127.0.0.1", "203.0.113.7:4711", "203.0.113.7"),
        ("127.0.0.1", "", "127.0.0.1"),  # nothing forwarded: the peer stays the client
        ("10.0.0.0/8", "203.0.113.7", "127.0.0.1"),  # the peer is not a listed proxy
    ],
)
def test_client_address(probe: Any, trusted: str, forwarded_for: str, client: str) -> None:
    answer = probe(trusted, [("X-Forwarded-For", forwarded_for)])
    assert answer.status_code == 200
    assert answer.json()["client"] == client


def test_several_forwarded_for_headers_read_as_one_list(probe: Any) -> None:
    headers = [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "203.0.113.7")]
    assert probe("127.0.0.1", headers).json()["client"] == "203.0.113.7"


@pytest.mark.parametrize(
    ("proto", "scheme"),
    [("https", "https"), ("http", "http"), ("wss", "http"), ("ftp", "http"), ("HTTPS", "http")],
)
def test_only_http_and_https_are_taken_from_forwarded_proto(
    probe: Any, proto: str, scheme: str
) -> None:
    assert probe("127.0.0.1", [("X-Forwarded-Proto", proto)]).json()["scheme"] == scheme


def test_a_forwarded_client_that_is_not_an_address_is_refused(probe: Any) -> None:
    answer = probe("127.0.0.1", [("X-Forwarded-For", "evil.example")])
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "X-Forwarded-For" in answer.json()["detail"]


# --- Parsing the setting --------------------------------------------------------------------


def test_the_setting_takes_addresses_and_networks_of_both_families() -> None:
    settings = Settings.from_env(
        {"SENTINELIQ_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::1,, 10.0.0.0/8"}
    )
    assert [str(network) for network in settings.trusted_proxies] == [
        "10.0.0.0/8",
        "192.0.2.1/32",
        "2001:db8::/32",
        "::1/128",
    ]
    assert "10.0.0.0/8" in repr(settings)
    assert Settings.from_env({}).trusted_proxies == ()


@pytest.mark.parametrize(
    "entry", ["not-an-ip", "10.0.0.0/33", "10.0.0.1/8", "*", "300.1.2.3", "2001:db8::/200"]
)
def test_a_bad_entry_is_refused_naming_the_setting_and_the_entry(entry: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SENTINELIQ_TRUSTED_PROXIES": f"127.0.0.1, {entry}"})
    message = str(refused.value)
    assert message.startswith("SENTINELIQ_TRUSTED_PROXIES: ")
    assert repr(entry) in message
