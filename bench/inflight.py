"""Requests in flight: one worker against a Jira that answers in 150 ms, within a 10 requests/s
budget.

Ingests N alerts (default 1000), then one worker process (this one) delivers them through the
sandbox with its `slow` fault delaying every Jira answer by --delay seconds (default 0.15), under
SentinelIQ's database-backed site budget (--rate, default 10 requests/s) while the sandbox itself
allows the same rate (so any overshoot shows as 429s). Prints issues/s, the 429s seen, Jira
requests per issue and the worker's concurrency (its lanes). Single creates only (bulk off):
bench/bulk.py measures bulk calls.

Usage: .venv/bin/python bench/inflight.py [N] [--concurrency K] [--delay S] [--rate R]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

from benchconfig import timed_ingest, unthrottled_bench

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sample_alerts


def batch(count: int) -> str:
    samples = json.loads(sample_alerts())
    lines = []
    for number in range(count):
        alert = dict(samples[number % len(samples)])
        alert["external_id"] = f"inflight-{number}"
        lines.append(json.dumps(alert))
    return "\n".join(lines)


def main(count: int, concurrency: int | None, delay: float, rate: float) -> None:
    with unthrottled_bench() as bench:
        report, ingest_s, _ = timed_ingest(bench, batch(count))
        settings = bench.app.settings
        app = replace(
            bench.app,
            settings=replace(
                settings,
                delivery=replace(settings.delivery, rate_per_s=rate, bulk_threshold=0),
            ),
        )
        bench.sandbox.set_fault("slow", delay_s=delay)  # every Jira answer, metadata included
        bench.sandbox.set_rate_limit(rate)
        before = len(bench.sandbox.requests())
        worker = Worker(app, concurrency=concurrency)
        started = time.perf_counter()
        stats = worker.run(until_idle=True)
        deliver_s = time.perf_counter() - started
        requests = bench.sandbox.requests()[before:]
    limited = sum(1 for r in requests if r.status == 429)
    print(f"alerts:              {count} (accepted {report.accepted}, ingest {ingest_s:.1f} s)")
    print(f"Jira answer delay:   {delay * 1000:.0f} ms; budget {rate:g} requests/s")
    print(f"concurrency:         {worker.concurrency} lanes")
    print(f"deliver:             {deliver_s:.1f} s = {stats.delivered / deliver_s:.2f} issues/s")
    print(f"429s:                {limited} of {len(requests)} requests")
    print(f"Jira requests/issue: {len(requests) / max(stats.delivered, 1):.3f}")
    print(f"delivered/dead:      {stats.delivered}/{stats.dead}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=None, help="default: the setting's")
    parser.add_argument("--delay", type=float, default=0.15)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    main(args.count, args.concurrency, args.delay, args.rate)
