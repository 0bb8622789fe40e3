"""Repeats on embedded defaults: P problems, each firing R more times, reported on their tickets.

Ingests the P first alerts and delivers them, then ingests the P x R repeats in one batch and
delivers the comments. Prints the repeats' ingest rate (each one is a locked read of its alert, a
re-send check and an occurrence row, instead of a new alert), the comments made and Jira's
requests per comment (status read, occurrence property, comment; a priority edit when the
severity rose). Usage: .venv/bin/python bench/repeats.py [P] [R]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchconfig import bench_provider_config

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import demo_settings, sample_alerts
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.workspaces import WorkspaceRepository

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def alerts(problems: int, repeat: int) -> str:
    """The `repeat`-th detection (0: the first) of each problem."""
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(problems):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"problem-{number}"
        alert["detected_at"] = (T0 + timedelta(seconds=repeat)).isoformat()
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def main(problems: int, repeats: int) -> None:
    configure_logging("WARNING")
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    try:
        settings = demo_settings(data_dir)
        settings = replace(settings, delivery=replace(settings.delivery, rate_per_s=10_000.0))
        with JiraSandbox() as sandbox, AppContext.open(settings) as app:
            workspace = WorkspaceRepository(app.db).create("bench")
            config = bench_provider_config(sandbox.url)
            configure(app, workspace.id, "jira", config, actor="bench")
            ingest_text(app, workspace.id, alerts(problems, 0), actor="bench")
            Worker(app, batch_size=50).run(until_idle=True)
            text = "\n".join(alerts(problems, r) for r in range(1, repeats + 1))
            tracemalloc.start()
            started = time.perf_counter()
            report = ingest_text(app, workspace.id, text, actor="bench")
            ingest_s = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            before = len(sandbox.requests())
            started = time.perf_counter()
            stats = Worker(app, batch_size=50).run(until_idle=True)
            deliver_s = time.perf_counter() - started
            requests = len(sandbox.requests()) - before
        total = problems * repeats
        print(
            f"problems x repeats:     {problems} x {repeats} = {total} "
            f"(occurrences {report.occurrences})"
        )
        print(f"ingest repeats:         {ingest_s:.2f} s = {total / ingest_s:.0f} repeats/s")
        print(f"ingest peak memory:     {peak / 2**20:.1f} MiB (tracemalloc)")
        print(
            f"comments:               {stats.delivered} in {deliver_s:.2f} s = "
            f"{stats.delivered / deliver_s:.1f} comments/s"
        )
        print(f"Jira requests/comment:  {requests / max(stats.delivered, 1):.2f}")
        print(f"dead:                   {stats.dead}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20,
        int(sys.argv[2]) if len(sys.argv) > 2 else 50,
    )
