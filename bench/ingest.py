"""Ingest throughput: single-alert HTTP requests from concurrent clients, batches over HTTP, and
the CLI's in-process path, on SQLite and PostgreSQL.

Each case gets a fresh database (a throwaway SQLite data directory; a new PostgreSQL schema
`bench_ingest_<hex>` in the server's `test` database, dropped afterwards) holding one workspace
with the Jira provider enabled (storm guard lifted, so every new alert queues a create, as in
steady state) and an API key. The HTTP cases run a real `sentineliq serve --no-worker` (uvicorn)
in a subprocess; the clients are separate processes, each with one keep-alive connection
(stdlib http.client: the client's own cost stays small next to the server's). Alerts are the
ten demo samples with distinct external ids, so every one is new.

Usage: PYTHONPATH=src .venv/bin/python bench/ingest.py [--quick] [--db sqlite|postgres|both]
       [--profile CASE] (CASE: single, batch, cli; prints a pyinstrument profile of the server
       or the in-process ingest instead of the figures)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from benchconfig import bench_provider_config
from sqlalchemy.engine import make_url

from sentineliq.demo.run import sample_alerts
from sentineliq.logs import configure_logging
from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository

PG_URL = os.environ.get(
    "SENTINELIQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SAMPLES = json.loads(sample_alerts())


def alert(number: int, run: str) -> dict[str, object]:
    return {**SAMPLES[number % len(SAMPLES)], "external_id": f"bench-{run}-{number}"}


@dataclass(frozen=True)
class Target:
    name: str  # sqlite, postgres
    env: dict[str, str]  # what the server process and the setup read


@contextmanager
def database(kind: str) -> Iterator[Target]:
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-ingest-"))
    env = {
        "SENTINELIQ_DATA_DIR": str(data_dir),
        "SENTINELIQ_ALLOW_PRIVATE_TARGETS": "1",
        "SENTINELIQ_LOG_LEVEL": "WARNING",
    }
    schema = None
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    if kind == "postgres":
        schema = f"bench_ingest_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        env["SENTINELIQ_DATABASE_URL"] = url.render_as_string(hide_password=False)
    try:
        yield Target(kind, env)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if schema is not None:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def setup(target: Target) -> tuple[str, str]:
    """A workspace with the Jira provider enabled and an API key: (workspace id, key)."""
    os.environ.update(target.env)
    with AppContext.open(Settings.from_env()) as app:
        workspace = WorkspaceRepository(app.db).create("bench", actor="bench")
        config = bench_provider_config("https://bench.atlassian.net")
        configure(app, workspace.id, "jira", config, actor="bench")
        _record, key = IdentityService(app).create_api_key(workspace.id, "bench", actor="bench")
    return workspace.id, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Figure:
    rate: float  # alerts per second, wall clock
    cpu_us: float  # CPU microseconds per alert: the server's (HTTP) or this process's (CLI)

    def __str__(self) -> str:
        return f"{self.rate:8.0f} alerts/s  ({self.cpu_us:5.0f} us CPU per alert)"


@contextmanager
def server(target: Target, profile: Path | None = None) -> Iterator[tuple[int, int]]:
    port = free_port()
    command = [sys.executable, "-c", "from sentineliq.cli.app import main; main()"]
    if profile is not None:
        command = [sys.executable, "-m", "pyinstrument", "--renderer", "text", "-o", str(profile)]
        command += ["-m", "sentineliq"]
    command += ["serve", "--no-worker", "--port", str(port)]
    process = subprocess.Popen(command, env={**os.environ, **target.env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("sentineliq serve did not start") from None
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def client(port: int, path: str, key: str, bodies: list[bytes], barrier: Any, results: Any) -> None:
    """One client: its requests one after the other on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    barrier.wait()
    failure = None
    for body in bodies:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        payload = answer.read()
        if answer.status != 200:
            failure = f"{answer.status}: {payload[:300]!r}"
            break
    connection.close()
    results.put(failure)


def over_http(port: int, workspace: str, key: str, bodies: list[list[bytes]]) -> float:
    """Every client's requests at once; the seconds from the start to the last answer."""
    path = f"/api/v1/workspaces/{workspace}/alerts"
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(bodies) + 1)
    results = context.Queue()
    processes = [
        context.Process(target=client, args=(port, path, key, b, barrier, results)) for b in bodies
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    failures = [results.get(timeout=1800) for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    if any(failures):
        raise RuntimeError(f"requests failed: {[f for f in failures if f]}")
    return seconds


def single_bodies(clients: int, per_client: int, run: str) -> list[list[bytes]]:
    return [
        [json.dumps(alert(c * per_client + n, run)).encode() for n in range(per_client)]
        for c in range(clients)
    ]


def batch_bodies(clients: int, batches: int, size: int, run: str) -> list[list[bytes]]:
    out = []
    for c in range(clients):
        out.append(
            [
                json.dumps([alert((c * batches + b) * size + n, run) for n in range(size)]).encode()
                for b in range(batches)
            ]
        )
    return out


def warm_up(port: int, workspace: str, key: str) -> None:
    over_http(port, workspace, key, single_bodies(1, 20, "warm"))


def run_single(target: Target, clients: int, per_client: int, profile: Path | None) -> Figure:
    workspace, key = setup(target)
    bodies = single_bodies(clients, per_client, "single")
    with server(target, profile) as (port, pid):
        warm_up(port, workspace, key)
        cpu = cpu_seconds(pid)
        seconds = over_http(port, workspace, key, bodies)
        cpu = cpu_seconds(pid) - cpu
    count = clients * per_client
    return Figure(count / seconds, cpu / count * 1e6)


def run_batches(
    target: Target, clients: int, batches: int, size: int, profile: Path | None
) -> Figure:
    workspace, key = setup(target)
    bodies = batch_bodies(clients, batches, size, "batch")
    with server(target, profile) as (port, pid):
        warm_up(port, workspace, key)
        cpu = cpu_seconds(pid)
        seconds = over_http(port, workspace, key, bodies)
        cpu = cpu_seconds(pid) - cpu
    count = clients * batches * size
    return Figure(count / seconds, cpu / count * 1e6)


def run_cli(target: Target, count: int, profile: bool) -> Figure:
    """What `sentineliq alerts ingest FILE` does: parse the NDJSON, store it in chunks of 500."""
    workspace, _key = setup(target)
    text = "\n".join(json.dumps(alert(n, "cli")) for n in range(count))
    with AppContext.open(Settings.from_env()) as app:
        ingest_text(
            app, workspace, "\n".join(json.dumps(alert(n, "w")) for n in range(20)), actor="bench"
        )
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        cpu = time.process_time()
        started = time.perf_counter()
        report = ingest_text(app, workspace, text, actor="bench")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
    assert report.accepted == count, report.accepted
    return Figure(count / seconds, cpu / count * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--profile", choices=["single", "batch", "cli"])
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    configure_logging("WARNING")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    per_client = 100 if args.quick else 500  # single-alert requests per client
    batches = 2 if args.quick else 10  # batches of 500 per client, 2 clients
    cli_count = 2000 if args.quick else 10_000
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    for kind in kinds:
        if args.profile is not None:
            with database(kind) as target, tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "profile.txt"
                if args.profile == "single":
                    run_single(target, args.clients, per_client, out)
                elif args.profile == "batch":
                    run_batches(target, 2, batches, 500, out)
                else:
                    run_cli(target, cli_count, True)
                if out.exists():
                    print(out.read_text())
            continue
        with database(kind) as target:
            single = run_single(target, args.clients, per_client, None)
        print(f"{kind:8s} single-alert HTTP, {args.clients} clients x {per_client}: {single}")
        with database(kind) as target:
            batch = run_batches(target, 2, batches, 500, None)
        print(f"{kind:8s} batches of 500 over HTTP, 2 clients x {batches}: {batch}")
        with database(kind) as target:
            cli = run_cli(target, cli_count, False)
        print(f"{kind:8s} CLI in-process, {cli_count} alerts in chunks of 500: {cli}")


if __name__ == "__main__":
    main()
