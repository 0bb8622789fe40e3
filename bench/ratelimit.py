"""Rate-limit efficiency: how close delivery gets to a Jira site's allowed rate, and at what cost.

Starts the sandbox with a burst limit (default 5 requests/s), ingests N alerts (default 200) into
a throwaway SQLite database and lets the outbox worker deliver them with its default limiter (the
database-backed site budget, configured at 10 requests/s, so it has to learn the lower limit from
X-RateLimit-Limit). Prints alerts/s, efficiency = (alerts delivered per second) / (allowed rate),
the 429s received and requests that arrived before an announced Retry-After expired.

Usage: .venv/bin/python bench/ratelimit.py [--alerts N] [--limit RPS] [--burst B] [--workers W]
(W > 1 runs W workers in threads, each with its own database connection, sharing one budget.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from benchconfig import bench_provider_config

from sentineliq.delivery.worker import Worker, WorkerStats
from sentineliq.demo.run import demo_settings, sample_alerts
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository


def batch(count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"ratelimit-bench-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def deliver(settings: Settings, workers: int) -> list[WorkerStats]:
    """Run `workers` workers until nothing is left; each opens its own database connection."""
    results: list[WorkerStats] = []
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with AppContext.open(settings) as app:
                results.append(Worker(app, worker_id=f"bench-{number}").run(until_idle=True))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


def main(count: int, limit: float, burst: int | None, workers: int) -> None:
    configure_logging("WARNING")  # one log line per delivery would drown the figures
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    try:
        # Single creates: this measures how requests are paced (bench/bulk.py measures bulk).
        defaults = demo_settings(data_dir)
        settings = replace(defaults, delivery=replace(defaults.delivery, bulk_threshold=0))
        with JiraSandbox() as sandbox:
            with AppContext.open(settings) as app:
                workspace = WorkspaceRepository(app.db).create("bench")
                configure(
                    app, workspace.id, "jira", bench_provider_config(sandbox.url), actor="bench"
                )
                report = ingest_text(app, workspace.id, batch(count), actor="bench")
            sandbox.set_rate_limit(limit, burst)  # default burst: one second's worth
            started = time.perf_counter()
            stats = deliver(settings, workers)
            elapsed = time.perf_counter() - started
            requests = sandbox.requests()
            violations = sandbox.violations()
        delivered = sum(s.delivered for s in stats)
        dead = sum(s.dead for s in stats)
        limited = sum(1 for r in requests if r.status == 429)
        rate = delivered / elapsed
        print(f"alerts:                 {count} (accepted {report.accepted})")
        capacity = "1 s worth" if burst is None else str(burst)
        print(f"sandbox limit:          {limit:g} requests/s, burst {capacity}; workers: {workers}")
        print(f"delivered/dead:         {delivered}/{dead} in {elapsed:.2f} s")
        print(f"alerts/s:               {rate:.3f}")
        print(f"efficiency:             {rate / limit:.3f} (alerts/s over allowed requests/s)")
        per_alert = len(requests) / max(delivered, 1)
        print(f"Jira requests:          {len(requests)} ({per_alert:.3f} per alert)")
        print(
            f"429s:                   {limited} ({limited / max(len(requests), 1):.2%} of requests)"
        )
        print(f"early requests:         {len(violations)} (sent before a Retry-After expired)")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--limit", type=float, default=5.0, help="sandbox requests per second")
    parser.add_argument("--burst", type=int, default=None, help="sandbox bucket capacity")
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    main(arguments.alerts, arguments.limit, arguments.burst, arguments.workers)
