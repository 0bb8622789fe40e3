"""Where a worker's time goes between creates: pyinstrument over one worker delivering N alerts.

The sandbox runs in its own process with the 150 ms latency of bench/sidebyside.py (a) and no
site limit, SQLite as in (a); the worker runs here, under the profiler (wall-clock sampling, so
time spent waiting for Jira's answer shows as such). Prints the profile, then the split between
the Jira round trips and everything else.

Usage: PYTHONPATH=src .venv/bin/python bench/profile_delivery.py [N] [--html FILE]
(pyinstrument comes with the `bench` extra)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchconfig import bench_provider_config
from pipeline import batch
from pyinstrument import Profiler
from sandboxproc import SandboxProcess

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import demo_settings
from sentineliq.logs import configure_logging
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.workspaces import WorkspaceRepository

LATENCY_S = 0.15


def main(count: int, html: str | None) -> None:
    configure_logging("WARNING")
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-profile-"))
    try:
        settings = demo_settings(data_dir)
        with SandboxProcess() as sandbox, AppContext.open(settings) as app:
            sandbox.set_latency(LATENCY_S)
            workspace = WorkspaceRepository(app.db).create("bench")
            configure(app, workspace.id, "jira", bench_provider_config(sandbox.url), actor="bench")
            ingest_text(app, workspace.id, batch(count), actor="bench")
            worker = Worker(app)
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            with profiler:
                stats = worker.run(until_idle=True)
            elapsed = time.perf_counter() - started
            requests = sandbox.counts().requests
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if html:
            Path(html).write_text(profiler.output_html())
        waiting = requests * LATENCY_S
        print(f"delivered {stats.delivered} in {elapsed:.2f} s = {stats.delivered / elapsed:.2f}/s")
        print(
            f"{requests} Jira requests x {LATENCY_S * 1000:.0f} ms latency = {waiting:.1f} s "
            f"({waiting / elapsed:.0%}); the rest, {elapsed - waiting:.1f} s = "
            f"{(elapsed - waiting) / max(stats.delivered, 1) * 1000:.1f} ms per delivery"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("count", nargs="?", type=int, default=200)
    parser.add_argument("--html", default=None)
    arguments = parser.parse_args()
    main(arguments.count, arguments.html)
