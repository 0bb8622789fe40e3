"""Throughput of the whole path on embedded defaults: ingest N alerts, deliver them to the sandbox.

Prints ingest rate, delivery rate and Jira requests per issue (metadata is cached, so this tends
to 1). Usage: .venv/bin/python bench/pipeline.py [N]
"""

from __future__ import annotations

import json
import sys
import time

from benchconfig import timed_ingest, unthrottled_bench

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sample_alerts


def batch(count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"bench-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def main(count: int) -> None:
    with unthrottled_bench() as bench:
        report, ingest_s, ingest_peak = timed_ingest(bench, batch(count))
        before = len(bench.sandbox.requests())
        started = time.perf_counter()
        stats = Worker(bench.app, batch_size=50).run(until_idle=True)
        deliver_s = time.perf_counter() - started
        requests = len(bench.sandbox.requests()) - before
    print(f"alerts:                 {count} (accepted {report.accepted})")
    print(f"ingest:                 {ingest_s:.2f} s = {count / ingest_s:.0f} alerts/s")
    print(f"ingest peak memory:     {ingest_peak / 2**20:.1f} MiB (tracemalloc)")
    rate = stats.delivered / deliver_s
    print(f"deliver:                {deliver_s:.2f} s = {rate:.1f} issues/s")
    print(f"Jira requests/issue:    {requests / max(stats.delivered, 1):.2f}")
    print(f"delivered/dead:         {stats.delivered}/{stats.dead}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
