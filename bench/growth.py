"""Cost growth: what one alert's ingest, one delivery and one claim cost with 1k, 10k and 100k
alerts stored, with 100k deliveries pending (due, oldest first), and with 100k older deliveries
of another workspace whose provider is paused, on SQLite and PostgreSQL.

Each case starts from a fresh database: the stored alerts (each with its delivered ticket) or the
pending backlog are written with Core (then ANALYZE on PostgreSQL, as autovacuum would), then
measured through the public paths only:
- claim: `claim_due(limit=5)`, median of 30 calls (the leased rows put back between calls);
- ingest: `services.ingest.ingest_text` of 3 batches of 500 new alerts (median per alert), the
  path the CLI takes whatever ingest does inside;
- delivery: one `Worker` (default batch of 5; budget and storm guard lifted) delivering 300 to the
  Jira sandbox on loopback (per delivery; with a backlog they are the backlog's oldest). The
  100k backlog is compared both with 1k stored and with a 1k backlog of the same shape.
Then, on the database of the 100k pending case, `sentineliq serve --no-worker` and `sentineliq
worker` run as processes (the worker delivers 300 more, the server answers /healthz and
/metrics) and their resident memory is read from /proc (VmRSS now, VmHWM the peak).

Usage: .venv/bin/python bench/growth.py [--db sqlite|postgres|both] [--sizes 1000,10000,100000]
       [--cpu]   (this process's CPU time instead of wall-clock: steadier on a busy machine, but
                  on PostgreSQL it leaves out the server's work)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from backlog import bench_settings, fill
from benchconfig import bench_provider_config
from sqlalchemy import update

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sample_alerts
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.tables import DeliveryRow
from sentineliq.storage.workspaces import WorkspaceRepository

# Wall-clock by default; with --cpu this process's CPU time (all its threads: the worker, the
# sandbox and, on SQLite, the database), which other jobs on a shared machine disturb far less.
CLOCK = time.perf_counter
BATCH = 500
BATCHES = 3
DELIVERIES = 300
CLAIMS = 30


@dataclass
class Figures:
    db: str
    stored: int
    pending: int
    paused: int
    claim_ms: float
    ingest_ms: float
    delivery_ms: float
    memory: list[str] = field(default_factory=list)


def alerts(prefix: str, count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"{prefix}-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def claim_ms(app: AppContext) -> float:
    """The claim alone; the rows it leased are put back (untimed) before the next call."""
    deliveries = DeliveryRepository(app.db)
    times = []
    for _ in range(CLAIMS):
        started = CLOCK()
        claimed = deliveries.claim_due("bench-claim", limit=5, lease_seconds=60)
        times.append(CLOCK() - started)
        with app.db.session() as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_([d.id for d in claimed]))
                .values(status="pending", claimed_by=None, lease_until=None)
            )
    return statistics.median(times) * 1000


def ingest_ms(app: AppContext, workspace_id: str, tag: str) -> float:
    per_alert = []
    for round_ in range(BATCHES):
        text = alerts(f"{tag}-{round_}", BATCH)
        started = CLOCK()
        report = ingest_text(app, workspace_id, text, actor="bench")
        per_alert.append((CLOCK() - started) / BATCH)
        assert report.accepted == BATCH, report.errors
    return statistics.median(per_alert) * 1000


def delivery_ms(app: AppContext, count: int) -> float:
    worker = Worker(app)  # the default batch of 5, as `sentineliq worker` claims
    try:
        worker.run_once()  # warm: provider, metadata, budget row
        started, delivered = CLOCK(), worker.stats.delivered
        while worker.stats.delivered - delivered < count:
            if not worker.run_once():
                break
        done = worker.stats.delivered - delivered
        return (CLOCK() - started) / max(done, 1) * 1000
    finally:
        worker.close()


def unthrottled(settings: Settings) -> Settings:
    return replace(settings, delivery=replace(settings.delivery, rate_per_s=10_000.0))


def measure(
    kind: str, stored: int, pending: int, *, paused: int = 0, processes: bool = False
) -> Figures:
    with (
        bench_settings(kind) as base,
        JiraSandbox() as sandbox,
        AppContext.open(unthrottled(base)) as app,
    ):
        workspace = WorkspaceRepository(app.db).create("bench")
        configure(app, workspace.id, "jira", bench_provider_config(sandbox.url), actor="bench")
        ingest_text(app, workspace.id, alerts("template", 1), actor="bench")
        repository = AlertRepository(app.db)
        template = repository.get(repository.list_for_workspace(workspace.id, limit=1)[0].id)
        payload = template.alert.model_dump(mode="json")
        # PostgreSQL plans by statistics, which autovacuum gathers within a minute of a load like
        # these (SQLite has none here): the measurement starts from that state.
        stats = {"analyze_after": kind == "postgres"}
        if stored:
            fill(app.db, workspace.id, stored, status="delivered", prefix="stored", **stats)
        if pending:
            fill(
                app.db, workspace.id, pending, status="pending", prefix="due", payload=payload,
                **stats,
            )  # fmt: skip
        if paused:  # another workspace's backlog, older than everything, its provider paused
            other = WorkspaceRepository(app.db).create("paused")
            configure(app, other.id, "jira", bench_provider_config(sandbox.url), actor="bench")
            fill(
                app.db, other.id, paused, status="pending", prefix="held-up", payload=payload,
                **stats,
            )  # fmt: skip
            ProviderRepository(app.db, app.secrets).pause(other.id, "jira", "bench", actor="b")
        figures = Figures(
            kind,
            stored,
            pending,
            paused,
            claim_ms(app),
            ingest_ms(app, workspace.id, "new"),
            delivery_ms(app, DELIVERIES),
        )
        if processes:
            figures.memory = report_rss(app, base)
        return figures


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory(pid: int) -> str:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return f"VmRSS {fields['VmRSS']}, peak (VmHWM) {fields['VmHWM']}"


def report_rss(app: AppContext, settings: Settings) -> list[str]:
    """Runs the server and a worker as processes on the database (the worker files its
    tickets in the sandbox this process serves) and reads their memory."""
    executable = str(Path(sys.executable).with_name("sentineliq"))
    env = {
        **os.environ,
        "SENTINELIQ_DATA_DIR": str(settings.data_dir),
        "SENTINELIQ_DATABASE_URL": settings.database_url,
        "SENTINELIQ_ALLOW_PRIVATE_TARGETS": "1",
        "SENTINELIQ_RATE_LIMIT": "10000",
        "SENTINELIQ_LOG_LEVEL": "WARNING",
    }
    deliveries = DeliveryRepository(app.db)
    before = deliveries.count_by_status()[DeliveryStatus.DELIVERED]
    port = _free_port()
    quiet = subprocess.DEVNULL
    server = subprocess.Popen(
        [executable, "serve", "--no-worker", "--port", str(port)], env=env, stderr=quiet
    )
    worker = subprocess.Popen([executable, "worker"], env=env, stdout=quiet, stderr=quiet)
    try:
        deadline = time.monotonic() + 120
        while deliveries.count_by_status()[DeliveryStatus.DELIVERED] < before + DELIVERIES:
            if time.monotonic() > deadline:
                raise RuntimeError("the worker process delivered too little in 120 s")
            time.sleep(0.5)
        for path in ("/healthz", "/metrics") * 5:
            for _ in range(50):
                with suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
                    break
                time.sleep(0.2)
        return [
            f"`sentineliq worker` after {DELIVERIES}+ deliveries: {_memory(worker.pid)}",
            f"`sentineliq serve --no-worker` after /healthz, /metrics: {_memory(server.pid)}",
        ]
    finally:
        for process in (worker, server):
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)


def main(kinds: list[str], sizes: list[int]) -> None:
    configure_logging("WARNING")
    print("db        stored  pending  paused  claim ms  ingest ms/alert  delivery ms")
    for kind in kinds:
        results = [measure(kind, size, 0) for size in sizes[:1]]
        _row(results[0])
        for size in sizes[1:]:
            results.append(measure(kind, size, 0))
            _row(results[-1])
        # A backlog is compared with a small backlog of the same shape (filled rows, delivered
        # oldest first), not with freshly ingested alerts: the question is what its size costs.
        small_backlog = measure(kind, 0, min(sizes))
        _row(small_backlog)
        results.append(measure(kind, 0, max(sizes), processes=True))
        _row(results[-1])
        results.append(measure(kind, 0, 0, paused=max(sizes)))
        _row(results[-1])
        smallest = results[0]
        for figures in results[1:]:
            _ratio(figures, smallest)
            if figures.pending:
                _ratio(figures, small_backlog)


def _ratio(figures: Figures, reference: Figures) -> None:
    print(
        f"   {figures.stored} stored, {figures.pending} pending, {figures.paused} paused "
        f"against {reference.stored} stored, {reference.pending} pending: "
        f"claim x{figures.claim_ms / reference.claim_ms:.2f}, "
        f"ingest x{figures.ingest_ms / reference.ingest_ms:.2f}, "
        f"delivery x{figures.delivery_ms / reference.delivery_ms:.2f}"
    )


def _row(figures: Figures) -> None:
    print(
        f"{figures.db:8} {figures.stored:7} {figures.pending:8} {figures.paused:7} "
        f"{figures.claim_ms:9.2f} {figures.ingest_ms:16.2f} {figures.delivery_ms:12.2f}",
        flush=True,
    )
    for line in figures.memory:
        print(f"   {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--cpu", action="store_true", help="CPU time of this process, not wall")
    args = parser.parse_args()
    if args.cpu:
        CLOCK = time.process_time
    main(
        ["sqlite", "postgres"] if args.db == "both" else [args.db],
        [int(size) for size in args.sizes.split(",")],
    )
