"""Request size limits and credentials, enforced before a body is read, over real HTTP.

Every test talks to a real uvicorn server on loopback. Bodies are streamed from generators that
count what the client handed over: the server cannot have read (or held) more than that.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.settings import LimitSettings, Settings, SettingsError
from sentineliq.storage.alerts import AlertRepository
from sentineliq.web.server import BackgroundServer

MiB = 1024 * 1024
HUNDRED_MB = 100 * MiB
PROVIDER_CONFIG = {"base_url": "https://acme.atlassian.net", "email": "a@b.c", "api_token": "t"}


class Upload:
    """A streamed body of `total` bytes in 64 KiB chunks; `sent` is what the client took."""

    def __init__(self, total: int, chunk: bytes = b"x" * 65536) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def raw_exchange(url: str, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send only `head` (request line and headers, no body) and read the answer to its end."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):  # the server closes: it will not wait for the body
            data += chunk
    header_block, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def test_an_anonymous_100_mb_upload_is_refused_before_its_body_is_read(
    people: Any, limited: Callable[..., BackgroundServer]
) -> None:
    workspace = people.workspace("Anon")
    live = limited()
    before = rss_bytes()
    with httpx2.Client(base_url=live.url, timeout=60) as http:
        for path, method in (
            (f"/api/v1/workspaces/{workspace.id}/alerts", "POST"),  # reads its body itself
            (f"/api/v1/workspaces/{workspace.id}/providers/jira", "PUT"),  # a JSON body model
        ):
            upload = Upload(HUNDRED_MB)
            answer = http.request(
                method, path, content=upload, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 401, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["detail"] == (
                "credentials are required (an API key as a Bearer token)"
            )
            assert answer.headers["www-authenticate"] == 'Bearer realm="sentineliq"'
            assert answer.headers["connection"] == "close"
            # The answer came though the generator would give 100 MB: what left the client
            # is at most what the socket buffers hold.
            assert upload.sent < 32 * MiB, upload.sent
        # The panel: a signed-in POST without a session goes to the login page, as it would.
        upload = Upload(HUNDRED_MB)
        answer = http.post(
            f"/w/{workspace.id}/api-keys",
            content=upload,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login"
        assert answer.headers["connection"] == "close"
        assert upload.sent < 32 * MiB, upload.sent
        # A bad key is refused as the route refuses it, still unread.
        upload = Upload(HUNDRED_MB)
        answer = http.post(
            f"/api/v1/workspaces/{workspace.id}/alerts",
            content=upload,
            headers={"Authorization": "Bearer siq_nope_nope", "Content-Type": "application/json"},
        )
        assert answer.status_code == 401
        assert answer.json()["detail"] == "the API key is unknown or revoked"
        assert upload.sent < 32 * MiB, upload.sent
    # Nothing of the 400 MB offered was held (client and server share this process).
    assert rss_bytes() - before < 64 * MiB


def test_a_content_length_over_the_limit_is_refused_without_reading(
    people: Any, limited: Callable[..., BackgroundServer]
) -> None:
    workspace = people.workspace("Lengths")
    key = people.api_key(workspace.id)
    live = limited(body_max_bytes=64 * 1024, ingest_body_max_bytes=5 * MiB)
    host = urlsplit(live.url).netloc
    for method, path, length, detail in (
        (
            "PUT",
            f"/api/v1/workspaces/{workspace.id}/providers/jira",
            64 * 1024 + 1,
            "the request body is larger than 64 KiB, the limit for this route "
            "(set by SENTINELIQ_MAX_BODY_BYTES)",
        ),
        (
            "POST",
            f"/api/v1/workspaces/{workspace.id}/alerts",
            5 * MiB + 1,
            "the request body is larger than 5 MiB, the limit for this route "
            "(set by SENTINELIQ_MAX_INGEST_BODY_BYTES)",
        ),
        ("POST", "/login", 10**12, None),  # anonymous routes too, before any form parsing
    ):
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
        status, headers, body = raw_exchange(live.url, head)  # no byte of the body is sent
        assert status == 413
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        problem = json.loads(body)
        assert problem["status"] == 413
        assert problem["title"] == "Request Entity Too Large"
        if detail is not None:
            assert problem["detail"] == detail


def test_a_streamed_body_is_counted_as_it_arrives(
    people: Any, limited: Callable[..., BackgroundServer]
) -> None:
    workspace = people.workspace("Chunked")
    owner = people.user("owner@chunked.test", {workspace.id: Role.OWNER})
    live = limited(body_max_bytes=64 * 1024)
    with httpx2.Client(base_url=live.url, timeout=60) as http:
        # Signed in, so the body is read: chunked (no Content-Length), 100 MB on offer.
        upload = Upload(HUNDRED_MB)
        answer = http.put(
            f"/api/v1/workspaces/{workspace.id}/providers/jira",
            content=upload,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["connection"] == "close"
        assert "SENTINELIQ_MAX_BODY_BYTES" in answer.json()["detail"]
        assert upload.sent < 32 * MiB, upload.sent
        # Within the limit, the same call goes through to the route.
        answer = http.put(
            f"/api/v1/workspaces/{workspace.id}/providers/jira",
            content=iter([json.dumps({"config": PROVIDER_CONFIG}).encode()]),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert answer.status_code != 413
        assert "connection" not in answer.headers or answer.headers["connection"] != "close"


def test_the_ingest_limit_comes_from_settings_and_stores_nothing(
    app_context: AppContext, people: Any, limited: Callable[..., BackgroundServer]
) -> None:
    workspace = people.workspace("Ingest")
    key = people.api_key(workspace.id)
    live = limited(ingest_body_max_bytes=256 * 1024, ingest_max_records=100_000)
    record = json.dumps(
        {
            "title": "Beaconing",
            "severity": "high",
            "source": "NDR",
            "detected_at": "2026-11-27T08:00:00Z",
        }
    ).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    with httpx2.Client(base_url=live.url, timeout=60) as http:
        # Distinct source ids: titles that differ only in a number are one problem's repeats.
        small = (
            record.replace(b"Beaconing", b"small %d" % n)[:-1] + b', "external_id": "ndr-%d"}\n' % n
            for n in range(10)
        )
        answer = http.post(
            f"/api/v1/workspaces/{workspace.id}/alerts", content=small, headers=headers
        )
        assert answer.status_code == 200, answer.text
        upload = Upload(HUNDRED_MB, chunk=(record + b"\n") * 500)  # ~60 KiB of valid NDJSON
        answer = http.post(
            f"/api/v1/workspaces/{workspace.id}/alerts", content=upload, headers=headers
        )
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == (
            "the request body is larger than 256 KiB, the limit for this route "
            "(set by SENTINELIQ_MAX_INGEST_BODY_BYTES)"
        )
        assert upload.sent < 32 * MiB
    # One request is one transaction: only the 10 small alerts were stored.
    stored = AlertRepository(app_context.db).list_for_workspace(workspace.id)
    assert sorted(a.title for a in stored) == sorted(f"small {n}" for n in range(10))


def test_limits_are_read_from_the_environment_with_clear_errors() -> None:
    settings = Settings.from_env(
        {
            "SENTINELIQ_MAX_BODY_BYTES": "1024",
            "SENTINELIQ_MAX_INGEST_BODY_BYTES": " 2048 ",
            "SENTINELIQ_MAX_INGEST_RECORDS": "10",
            "SENTINELIQ_MAX_INGEST_DEPTH": "8",
        }
    )
    assert settings.limits == LimitSettings(
        body_max_bytes=1024, ingest_body_max_bytes=2048, ingest_max_records=10, ingest_max_depth=8
    )
    assert Settings.from_env({}).limits == LimitSettings(
        body_max_bytes=65536,
        ingest_body_max_bytes=5 * MiB,
        ingest_max_records=1000,
        ingest_max_depth=32,
    )
    for variable, value, message in (
        (
            "SENTINELIQ_MAX_BODY_BYTES",
            "64k",
            "SENTINELIQ_MAX_BODY_BYTES: '64k' is not a whole number",
        ),
        (
            "SENTINELIQ_MAX_INGEST_RECORDS",
            "0",
            "SENTINELIQ_MAX_INGEST_RECORDS: must be greater than 0",
        ),
        (
            "SENTINELIQ_MAX_INGEST_DEPTH",
            "-1",
            "SENTINELIQ_MAX_INGEST_DEPTH: must be greater than 0",
        ),
    ):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({variable: value})
        assert str(raised.value) == message
