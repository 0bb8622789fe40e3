"""HTTP-level behaviour of the Jira sandbox: concurrency, robustness, the CLI entry point."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from sentineliq.sandbox.jira import JiraSandbox

API = "/rest/api/3"
Create = Callable[..., httpx2.Response]


def test_concurrent_creates_get_unique_consecutive_keys(
    create: Create, sandbox: JiraSandbox
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: create(labels=[f"n{i}"]), range(40)))
    assert all(r.status_code == 201 for r in responses)
    keys = sorted(int(r.json()["key"].split("-")[1]) for r in responses)
    assert keys == list(range(1, 41))
    assert len(sandbox.issues()) == 40


def test_a_sandbox_bug_becomes_a_logged_json_500(
    client: httpx2.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("sentineliq.sandbox.jira.api.user_json", broken)
    with caplog.at_level(logging.ERROR, logger="sentineliq.sandbox.jira"):
        response = client.get(f"{API}/myself")
    assert response.status_code == 500
    assert response.json()["errorMessages"] == [
        "Internal server error (a bug in the Jira sandbox)."
    ]
    assert "Traceback" not in response.text
    assert "boom" not in response.text
    assert any("sandbox bug" in r.getMessage() for r in caplog.records)


def _exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes and read the answer until the sandbox closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_raw_protocol_errors_are_json_and_chunked_bodies_work(sandbox: JiraSandbox) -> None:
    answer = _exchange(sandbox.port, b"BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n").decode()
    assert answer.startswith("HTTP/1.1 501")
    assert '"errorMessages"' in answer

    body = b'{"jql": "project = SEC"}'
    chunked = (
        b"POST /rest/api/3/search/jql HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Basic c2FuZGJveEBzZW50aW5lbGlxLnRlc3Q6c2FuZGJveC10b2tlbg==\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    received = _exchange(sandbox.port, chunked)
    assert received.startswith(b"HTTP/1.1 200")
    assert received.endswith(b'{"issues": [], "isLast": true}')


def test_sandbox_lifecycle_rules() -> None:
    sandbox = JiraSandbox()
    sandbox.stop()  # stopping a sandbox that never started is harmless
    with sandbox:
        with pytest.raises(RuntimeError, match="already running"):
            sandbox.start()
        url = sandbox.url
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/rest/api/3/serverInfo", timeout=1.0)


def test_run_sandbox_serves_until_sigterm() -> None:
    code = "from sentineliq.sandbox.jira import run_sandbox; run_sandbox('127.0.0.1', 0)"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Jira Cloud sandbox listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        rest = [proc.stdout.readline() for _ in range(4)]
        assert any("sandbox@sentineliq.test" in line and "sandbox-token" in line for line in rest)
        me = httpx2.get(
            f"{url}/rest/api/3/myself", auth=("sandbox@sentineliq.test", "sandbox-token")
        )
        assert me.json()["displayName"] == "Sandbox Admin"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
