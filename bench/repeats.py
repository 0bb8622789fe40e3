"""Repeats on embedded defaults: P problems, each firing R more times, reported on their tickets.

Ingests the P first alerts and delivers them, then ingests the P x R repeats in one batch and
delivers the comments. Prints the repeats' ingest rate (each one is a locked read of its alert, a
re-send check and an occurrence row, instead of a new alert), the comments made and Jira's
requests per comment (status read, occurrence property, comment; a priority edit when the
severity rose). Usage: .venv/bin/python bench/repeats.py [P] [R]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from benchconfig import timed_ingest, unthrottled_bench

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sample_alerts
from sentineliq.services.ingest import ingest_text

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
    with unthrottled_bench() as bench:
        ingest_text(bench.app, bench.workspace_id, alerts(problems, 0), actor="bench")
        Worker(bench.app, batch_size=50).run(until_idle=True)
        text = "\n".join(alerts(problems, r) for r in range(1, repeats + 1))
        report, ingest_s, peak = timed_ingest(bench, text)
        before = len(bench.sandbox.requests())
        started = time.perf_counter()
        stats = Worker(bench.app, batch_size=50).run(until_idle=True)
        deliver_s = time.perf_counter() - started
        requests = len(bench.sandbox.requests()) - before
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


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20,
        int(sys.argv[2]) if len(sys.argv) > 2 else 50,
    )
