"""Throughput of the whole path on embedded defaults: ingest N alerts, deliver them to the sandbox.

Prints ingest rate, delivery rate and Jira requests per issue (metadata is cached, so this tends
to 1). Usage: .venv/bin/python bench/pipeline.py [N]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
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


def batch(count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"bench-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def main(count: int) -> None:
    configure_logging("WARNING")  # one log line per delivery would drown the figures
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    try:
        # The proactive per-site budget (10 requests/s by default) would measure itself, not the
        # code: lift it so the figure is what one worker can drive.
        settings = demo_settings(data_dir)
        settings = replace(settings, delivery=replace(settings.delivery, rate_per_s=10_000.0))
        with JiraSandbox() as sandbox, AppContext.open(settings) as app:
            workspace = WorkspaceRepository(app.db).create("bench")
            config = bench_provider_config(sandbox.url)
            configure(app, workspace.id, "jira", config, actor="bench")
            text = batch(count)
            tracemalloc.start()
            started = time.perf_counter()
            report = ingest_text(app, workspace.id, text, actor="bench")
            ingest_s = time.perf_counter() - started
            _, ingest_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            before = len(sandbox.requests())
            started = time.perf_counter()
            stats = Worker(app, batch_size=50).run(until_idle=True)
            deliver_s = time.perf_counter() - started
            requests = len(sandbox.requests()) - before
        print(f"alerts:                 {count} (accepted {report.accepted})")
        print(f"ingest:                 {ingest_s:.2f} s = {count / ingest_s:.0f} alerts/s")
        print(f"ingest peak memory:     {ingest_peak / 2**20:.1f} MiB (tracemalloc)")
        rate = stats.delivered / deliver_s
        print(f"deliver:                {deliver_s:.2f} s = {rate:.1f} issues/s")
        print(f"Jira requests/issue:    {requests / max(stats.delivered, 1):.2f}")
        print(f"delivered/dead:         {stats.delivered}/{stats.dead}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
