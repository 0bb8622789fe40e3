"""The Jira sandbox in its own process, driven through its control API (/_sandbox/...).

Side-by-side runs put each client and its sandbox in separate processes, so a client never
shares a GIL with the server it is measured against, and several runs can go at once.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

ISSUE_REF = re.compile(r"^(?:[A-Z][A-Z0-9_]*-\d+|\d+)$")  # an issue key or id in a path
SRC = Path(__file__).resolve().parent.parent / "src"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a product subprocess: this worktree's source first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.update(extra or {})
    return env


def cli(*args: str) -> list[str]:
    """`sentineliq ARGS` run by this interpreter (the entry point script may not be installed)."""
    return [sys.executable, "-c", "from sentineliq.cli.app import main; main()", *args]


@dataclass(frozen=True)
class RequestCounts:
    """What one client cost the sandbox: Jira API requests, 429s, early retries, creates."""

    requests: int
    rate_limited: int
    early: int
    by_endpoint: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "early": self.early,
            "by_endpoint": self.by_endpoint,
        }


def _endpoint(method: str, path: str) -> str:
    """`GET /rest/api/3/issue/{key}` rather than one entry per issue key."""
    parts = path.split("/")
    parts[5:] = ["{id}" if ISSUE_REF.match(part) else part for part in parts[5:]]
    return f"{method} {'/'.join(parts)}"


class SandboxProcess:
    """`sentineliq sandbox jira` on a free loopback port; stop() ends it (SIGTERM)."""

    def __init__(self) -> None:
        # The sandbox binds port 0 and says which port it got. A port probed free here and
        # handed over could be taken by another test's server before the child binds it; the
        # child then failed to start and this object drove the other test's sandbox.
        self._process = subprocess.Popen(
            cli("sandbox", "jira", "--port", "0"),
            env=child_env({"SENTINELIQ_LOG_LEVEL": "WARNING"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.url = self._announced_url(deadline=time.monotonic() + 60)
        self.port = int(self.url.rsplit(":", 1)[1])
        self._control = httpx2.Client(base_url=self.url, timeout=60.0)
        self._control.get("/_sandbox/requests").raise_for_status()  # not logged

    def _announced_url(self, deadline: float) -> str:
        """The URL from the sandbox's first line ("... listening on http://127.0.0.1:N")."""
        assert self._process.stdout is not None
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(0.0, remaining))
            line = self._process.stdout.readline() if ready else ""
            if "listening on " in line:
                return line.rsplit("listening on ", 1)[1].strip()
            if (ready and not line) or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the sandbox did not start")

    def _post(self, path: str, body: dict[str, Any]) -> None:
        self._control.post(f"/_sandbox/{path}", json=body).raise_for_status()

    def set_latency(self, seconds: float) -> None:
        """Every Jira API answer comes `seconds` late (the `slow` fault, until cleared)."""
        if seconds > 0:
            self._post("fault", {"mode": "slow", "delay_s": seconds})
        else:
            self._post("fault", {"mode": "none"})

    def set_rate_limit(self, requests_per_second: float | None) -> None:
        self._post("rate-limit", {"requests_per_second": requests_per_second})

    def counts(self) -> RequestCounts:
        recorded: list[dict[str, Any]] = self._control.get("/_sandbox/requests").json()
        endpoints = Counter(_endpoint(r["method"], r["path"]) for r in recorded)
        return RequestCounts(
            requests=len(recorded),
            rate_limited=sum(1 for r in recorded if r["status"] == 429),
            early=sum(1 for r in recorded if r["early"]),
            by_endpoint=dict(endpoints.most_common()),
        )

    def created_issues(self) -> int:
        """Issues in the sandbox, however they were created (single or bulk)."""
        issues: list[dict[str, Any]] = self._control.get("/_sandbox/issues").json()
        return len(issues)

    def stop(self) -> None:
        self._control.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
