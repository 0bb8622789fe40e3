"""The product end to end, as deployed: `sentineliq serve --no-worker` takes alerts over HTTP,
`sentineliq worker` processes deliver them to a sandbox process, on SQLite or PostgreSQL.

The clock starts when the first alert is posted (the workers are already up and polling) and stops
when every delivery is delivered or dead, so ingest, the outbox and the Jira calls all count.
Features other work brings (in-flight creates, bulk creation) are found by their settings'
names: a run sets their variables only when the settings have them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx2
from benchconfig import bench_provider_config
from cryptography.fernet import Fernet
from pipeline import batch
from sandboxproc import SandboxProcess, child_env, cli, free_port
from sqlalchemy import create_engine, text

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.services.providers import configure
from sentineliq.settings import DeliverySettings, Settings
from sentineliq.storage.workspaces import WorkspaceRepository

PG_SERVER = os.environ.get("SENTINELIQ_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
INGEST_BATCH = 100  # alerts per HTTP request, as a forwarder batching its queue would send
# Workers as deployed (their default claim size, so several share a backlog), polling 5 times
# a second so that the start of a run is not a wait for the next poll.
WORKER_ARGS = ("worker", "--poll-interval", "0.2")


def delivery_features() -> dict[str, bool]:
    names = {field.name for field in dataclasses.fields(DeliverySettings)}
    return {"concurrency": "concurrency" in names, "bulk": "bulk_threshold" in names}


def product_concurrency() -> int:
    """Creates one worker keeps in flight: its configured default, or 1 before that existed."""
    return int(getattr(DeliverySettings.from_env(os.environ), "concurrency", 1))


def mode_env(mode: str) -> dict[str, str]:
    """`single`: bulk creation off (where it exists); `bulk`: the product's default threshold."""
    if mode == "single" and delivery_features()["bulk"]:
        return {"SENTINELIQ_BULK_THRESHOLD": "0"}
    return {}


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (not the tests' `test`), dropped afterwards."""
    name = f"siq_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_for_line(process: subprocess.Popen[str], marker: str, what: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if marker in line:
            return
    raise RuntimeError(f"{what} exited before it was ready (code {process.wait()})")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _statuses(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status"))
        return {str(status): int(count) for status, count in rows}


def run_product(
    sandbox: SandboxProcess,
    count: int,
    *,
    mode: str = "single",
    workers: int = 1,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Deliver `count` new alerts end to end; the figures as a JSON-able dict."""
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-sidebyside-"))
    env = {
        "SENTINELIQ_DATA_DIR": str(data_dir),
        "SENTINELIQ_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'bench.db'}",
        "SENTINELIQ_SECRET_KEY": Fernet.generate_key().decode(),
        "SENTINELIQ_ALLOW_PRIVATE_TARGETS": "1",
        "SENTINELIQ_LOG_LEVEL": "WARNING",
        **mode_env(mode),
    }
    processes: list[subprocess.Popen[str]] = []
    logs: list[IO[str]] = []  # each process's stderr, kept in data_dir until the end
    engine = create_engine(env["SENTINELIQ_DATABASE_URL"])
    try:
        settings = Settings.from_env(env)
        with AppContext.open(settings) as app:  # migrates the empty database
            workspace = WorkspaceRepository(app.db).create("bench", actor="bench")
            configure(app, workspace.id, "jira", bench_provider_config(sandbox.url), actor="bench")
            _, api_key = IdentityService(app).create_api_key(workspace.id, "bench", actor="bench")
        port = free_port()
        logs.append((data_dir / "serve.log").open("w"))
        serve = subprocess.Popen(
            cli("serve", "--no-worker", "--port", str(port)),
            env=child_env(env),
            stdout=subprocess.DEVNULL,
            stderr=logs[-1],
            text=True,
        )
        processes.append(serve)
        for number in range(workers):
            logs.append((data_dir / f"worker-{number}.log").open("w"))
            worker = subprocess.Popen(
                # --metrics-port: it prints the address once the worker is up
                cli(*WORKER_ARGS, "--metrics-port", "0"),
                env=child_env(env),
                stdout=subprocess.PIPE,
                stderr=logs[-1],
                text=True,
            )
            processes.append(worker)
        for worker in processes[1:]:
            _wait_for_line(worker, "metrics at", "sentineliq worker")
        api = httpx2.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=120.0,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if api.get("/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sentineliq serve did not start; see {data_dir}/serve.log")
            time.sleep(0.1)

        lines = batch(count).split("\n")
        path = f"/api/v1/workspaces/{workspace.id}/alerts"
        headers = {"Content-Type": "application/x-ndjson"}
        started = time.perf_counter()
        for first in range(0, count, INGEST_BATCH):
            body = "\n".join(lines[first : first + INGEST_BATCH])
            answer = api.post(path, content=body.encode(), headers=headers)
            if answer.status_code >= 300 or answer.status_code == 207:  # 207: some refused
                raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text[:500]}")
        ingested = time.perf_counter() - started
        api.close()

        patience = time.monotonic() + max(300.0, count * 2.0)
        while True:
            statuses = _statuses(engine)
            finished = statuses.get("delivered", 0) + statuses.get("dead", 0)
            if finished >= count:
                break
            if time.monotonic() > patience:
                raise RuntimeError(f"not done in time: {statuses}")
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a product process ended early; logs in {data_dir}")
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        for process in processes:
            _stop(process)
        return {
            "issues": statuses.get("delivered", 0),
            "dead": statuses.get("dead", 0),
            "seconds": elapsed,
            "ingest_seconds": ingested,
            "workers": workers,
            "concurrency": product_concurrency(),
            **sandbox.counts().to_json(),
        }
    finally:
        for process in processes:
            _stop(process)
        engine.dispose()
        for handle in logs:
            handle.close()
        shutil.rmtree(data_dir, ignore_errors=True)
