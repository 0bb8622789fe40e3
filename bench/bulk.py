"""Bulk creation: issues per second and Jira calls per issue, single creates against bulk.

Two parts, each on a throwaway SQLite database with the sandbox in the same process and one
worker with SentinelIQ's default budget (10 requests/s per site) and the default bulk threshold:

1. latency: every Jira request takes 150 ms more (the sandbox's `slow` fault). N alerts
   (default 1,000) are delivered with bulk on, then M (default 200) with bulk off
   (SENTINELIQ_BULK_THRESHOLD=0), each from a fresh database and sandbox.
2. rate limit: the sandbox allows 5 requests/s (a token bucket of one second's worth) and no
   added latency; the same two runs. Prints the 429s seen.

Prints, per run: issues delivered, seconds (worker start to exit: startup and metadata count),
issues/s, Jira requests and requests per issue, create calls (POST /issue and /issue/bulk) per
issue, 429s, and for bulk the ratio to the budget (issues/s over 10 requests/s).

By default the sandbox runs in its own process (`sentineliq sandbox jira`, driven through its
/_sandbox/ API), as Jira does: its CPU is not the worker's. `--in-process` runs it in the
worker's process, as the other benches do (the worker then also pays for "Jira").

Usage: PYTHONPATH=src .venv/bin/python bench/bulk.py [--alerts N] [--single-alerts M]
       [--part latency|ratelimit|all] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx2
from benchconfig import bench_provider_config

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import demo_settings, sample_alerts
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.workspaces import WorkspaceRepository

BUDGET = 10.0  # SentinelIQ's default requests/s per site
CREATES = ("/rest/api/3/issue", "/rest/api/3/issue/bulk")


@dataclass(frozen=True)
class Run:
    label: str
    delivered: int
    dead: int
    seconds: float
    requests: int
    creates: int
    bulk_calls: int
    limited: int

    def show(self, allowed: float) -> None:
        rate = self.delivered / self.seconds
        print(
            f"  {self.label:<6} {self.delivered:>5} issues ({self.dead} dead) in "
            f"{self.seconds:6.2f} s = {rate:7.2f} issues/s; {self.requests} requests "
            f"({self.requests / max(self.delivered, 1):.3f}/issue), create calls "
            f"{self.creates} ({self.creates / max(self.delivered, 1):.3f}/issue, "
            f"{self.bulk_calls} bulk), 429s {self.limited}; "
            f"issues/s over {allowed:g} requests/s: {rate / allowed:.2f}"
        )


def alerts(count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"bulk-bench-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


class SandboxProcess:
    """`sentineliq sandbox jira` in a child process, driven through its /_sandbox/ control API."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        executable = str(Path(sys.executable).with_name("sentineliq"))
        self._process = subprocess.Popen(
            [executable, "sandbox", "jira", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._http = httpx2.Client(base_url=self.url, timeout=30.0)
        deadline = time.monotonic() + 30
        while True:
            try:
                self._http.get("/_sandbox/requests")
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def set_fault(self, mode: str, **args: Any) -> None:
        self._http.post("/_sandbox/fault", json={"mode": mode, **args}).raise_for_status()

    def set_rate_limit(self, requests_per_second: float | None) -> None:
        body = {"requests_per_second": requests_per_second}
        self._http.post("/_sandbox/rate-limit", json=body).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._http.get("/_sandbox/requests").json()
        return answer

    def close(self) -> None:
        self._http.close()
        self._process.terminate()
        self._process.wait(timeout=30)


class SandboxInProcess:
    def __init__(self) -> None:
        self._sandbox = JiraSandbox().start()
        self.url = self._sandbox.url

    def set_fault(self, mode: str, **args: Any) -> None:
        self._sandbox.set_fault(mode, **args)

    def set_rate_limit(self, requests_per_second: float | None) -> None:
        self._sandbox.set_rate_limit(requests_per_second)

    def requests(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self._sandbox.requests()]

    def close(self) -> None:
        self._sandbox.stop()


def warm_up(url: str) -> None:
    """One validated request, untimed: the sandbox loads the 2.4 MB OpenAPI document on its
    first one (seconds), which a real Jira does not charge to its clients."""
    with httpx2.Client(base_url=url, auth=(ADMIN_EMAIL, ADMIN_TOKEN), timeout=60.0) as http:
        http.post("/rest/api/3/issue/bulk", json={"issueUpdates": []}).raise_for_status()


def deliver(
    label: str, count: int, *, bulk: bool, delay_s: float, limit: float | None, local: bool
) -> Run:
    """Deliver `count` alerts from a fresh database and sandbox; `local`: sandbox in-process."""
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    sandbox = SandboxInProcess() if local else SandboxProcess()
    try:
        settings = demo_settings(data_dir)
        delivery = replace(settings.delivery, rate_per_s=BUDGET)
        if not bulk:
            delivery = replace(delivery, bulk_threshold=0)
        settings = replace(settings, delivery=delivery)
        with AppContext.open(settings) as app:
            workspace = WorkspaceRepository(app.db).create("bench")
            configure(app, workspace.id, "jira", bench_provider_config(sandbox.url), actor="b")
            report = ingest_text(app, workspace.id, alerts(count), actor="bench")
            assert report.accepted == count, report
            warm_up(sandbox.url)
            if delay_s:
                sandbox.set_fault("slow", delay_s=delay_s)
            sandbox.set_rate_limit(limit)
            before = len(sandbox.requests())
            started = time.perf_counter()
            stats = Worker(app, worker_id="bench").run(until_idle=True, poll_interval=0.2)
            seconds = time.perf_counter() - started
        requests = sandbox.requests()[before:]
        posts = [r for r in requests if r["method"] == "POST" and r["path"] in CREATES]
        return Run(
            label,
            stats.delivered,
            stats.dead,
            seconds,
            len(requests),
            len(posts),
            sum(1 for r in posts if r["path"].endswith("/bulk")),
            sum(1 for r in requests if r["status"] == 429),
        )
    finally:
        sandbox.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def compare(
    count: int, single_count: int, *, delay_s: float, limit: float | None, local: bool
) -> None:
    allowed = limit if limit is not None else BUDGET
    bulk = deliver("bulk", count, bulk=True, delay_s=delay_s, limit=limit, local=local)
    bulk.show(allowed)
    single = deliver("single", single_count, bulk=False, delay_s=delay_s, limit=limit, local=local)
    single.show(allowed)
    ratio = (bulk.delivered / bulk.seconds) / (single.delivered / single.seconds)
    print(f"  bulk / single issues/s: {ratio:.1f}x")


def main(count: int, single_count: int, part: str, local: bool) -> None:
    configure_logging("WARNING")
    print("sandbox " + ("in the worker's process" if local else "in its own process"))
    if part in ("latency", "all"):
        print(f"latency: 150 ms per request, budget {BUDGET:g} requests/s, one worker")
        compare(count, single_count, delay_s=0.15, limit=None, local=local)
    if part in ("ratelimit", "all"):
        print("rate limit: the site allows 5 requests/s (burst 1 s worth), no added latency")
        compare(count, single_count, delay_s=0.0, limit=5.0, local=local)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--single-alerts", type=int, default=200)
    parser.add_argument("--part", choices=("latency", "ratelimit", "all"), default="all")
    parser.add_argument("--in-process", action="store_true", help="sandbox in this process")
    arguments = parser.parse_args()
    main(arguments.alerts, arguments.single_alerts, arguments.part, arguments.in_process)
