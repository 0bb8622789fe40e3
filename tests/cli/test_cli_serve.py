"""`sentineliq serve`: the --trusted-proxy flag, refused settings, the open-/metrics warning.

Each server is the real executable in a subprocess; the test reads its log lines until uvicorn
says where it listens, so nothing depends on how fast it starts.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from cli_runner import EXECUTABLE, Cli

TOKEN = "mt-0c7e5b2a94d1f3e68a0b7c4d2e9f1a35"
_LISTENING = re.compile(r"running on http://[^:\s]+:(\d+)")


@dataclass
class Served:
    url: str = ""
    log: str = ""  # stderr until it listened; all of it once stopped


@contextmanager
def serving(cli: Cli, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """Start `sentineliq serve --no-worker --port 0 ARGS` and yield it once it listens."""
    process = subprocess.Popen(
        [EXECUTABLE, "serve", "--no-worker", "--port", "0", *args],
        env={**cli.env, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    served = Served()
    # Only a stuck start trips this; then readline() sees the end of the output and fails.
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        lines: list[str] = []
        port = None
        while port is None:
            line = process.stderr.readline()
            assert line, f"serve exited before listening: {''.join(lines)}"
            lines.append(line)
            found = _LISTENING.search(line)
            port = found[1] if found else None
        served.url, served.log = f"http://127.0.0.1:{port}", "".join(lines)
        yield served
    finally:
        watchdog.cancel()
        process.terminate()
        _, rest = process.communicate(timeout=30)
        served.log += rest


def _events(log: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def _event(log: str, name: str) -> list[dict[str, object]]:
    return [event for event in _events(log) if event.get("event") == name]


def test_trusted_proxy_flag_adds_to_the_setting_and_is_applied(cli: Cli) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with serving(cli) as served:
        answer = httpx2.get(served.url + "/healthz", headers=forwarded)
        assert "strict-transport-security" not in answer.headers
    assert not _event(served.log, "serve.metrics_unauthenticated")  # loopback only

    env = {"SENTINELIQ_TRUSTED_PROXIES": "10.9.0.0/16"}
    with serving(cli, "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "::1", env=env) as served:
        answer = httpx2.get(served.url + "/healthz", headers=forwarded)
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    (starting,) = _event(served.log, "serve.starting")
    assert starting["trusted_proxies"] == ["10.9.0.0/16", "127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--trusted-proxy", "proxy.internal"], {}, "--trusted-proxy: 'proxy.internal' is not"),
        ([], {"SENTINELIQ_TRUSTED_PROXIES": "10.0.0.0/33"}, "SENTINELIQ_TRUSTED_PROXIES: '10.0"),
        (
            [],
            {"SENTINELIQ_METRICS_TOKEN_FILE": "/nonexistent/metrics.token"},
            "SENTINELIQ_METRICS_TOKEN_FILE: cannot read /nonexistent/metrics.token",
        ),
    ],
)
def test_refused_settings_stop_serve_with_a_clear_message(
    cli: Cli, args: list[str], env: dict[str, str], expected: str
) -> None:
    done = cli("serve", "--no-worker", "--port", "0", *args, env=env)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_open_metrics_on_a_public_address_are_warned_about(cli: Cli, tmp_path: Path) -> None:
    with serving(cli, "--host", "0.0.0.0") as served:
        assert httpx2.get(served.url + "/metrics").status_code == 200
    (warning,) = _event(served.log, "serve.metrics_unauthenticated")
    assert warning["level"] == "warning"

    token_file = tmp_path / "metrics.token"
    token_file.write_text(TOKEN + "\n")
    env = {"SENTINELIQ_METRICS_TOKEN_FILE": str(token_file)}
    with serving(cli, "--host", "0.0.0.0", env=env) as served:
        assert httpx2.get(served.url + "/metrics").status_code == 401
        authorized = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx2.get(served.url + "/metrics", headers=authorized).status_code == 200
    assert not _event(served.log, "serve.metrics_unauthenticated")
    assert "/metrics" in served.log  # the access lines were read...
    assert TOKEN not in served.log  # ...and never carry the token
