"""Side by side with peers (issue 11, parts 6 and 7): every figure of one run as markdown tables.

(a) N issues created at 150 ms per request under a 10 requests/s site limit (the product's budget
    is 10 requests/s too): the product end to end (single creates, and bulk where it exists),
    pycontribs `jira` with defaults and tuned, atlassian-python-api, and a raw httpx loop.
(b) ingest: bench/ingest.py, when present.
(c) rate-limit efficiency under a 5 requests/s site limit, single and bulk.
(d) cost growth: bench/growth.py, when present.
(e) scale-out: 1, 2 and 4 `sentineliq worker` processes on a fresh PostgreSQL database.

Every run has its own sandbox process. The peers of (a) run at once, each against its own
sandbox (their clients mostly wait on the 150 ms), while the product's runs of (a) and (c) go one
after the other beside them; then the scale-out runs, alone; then (b) and (d), alone.
`--sequential` runs everything one at a time; `--quick` runs (e) beside (a) as well.

Usage: bench/sidebyside.py [--quick] [--sequential] [--only abcde] [--out FILE]
Writes the tables to stdout and to bench/results/sidebyside-<UTC time>.md (or --out).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# The code of this checkout, whatever the virtualenv's editable install points at.
sys.path.insert(0, str(BENCH.parent / "src"))
LATENCY_S = 0.15
BUDGET = 10.0  # requests/s: the sandbox's site limit in (a) and (e), and the product's default
LIMIT_C = 5.0
SIZES = {
    "full": {"a": 1000, "c": 200, "e": 300},
    "quick": {"a": 60, "c": 40, "e": 40},
}
SCALE_OUT = (1, 2, 4)  # worker processes in (e)
PRODUCT_WAYS = {"product-single": "SentinelIQ, single creates", "product-bulk": "SentinelIQ, bulk"}
TARGETS = [  # (product way, peer way, at least, issue 11 part 7's words)
    ("product-single", "jira-defaults", 3.0, ">= 3x pycontribs jira defaults, single creates"),
    ("product-single", "jira-tuned", 1.5, ">= 1.5x tuned jira, single creates"),
    ("product-bulk", "jira-defaults", 30.0, ">= 30x pycontribs jira defaults, with bulk"),
    ("product-single", "raw", 1 / 1.1, "within 1.1x of the raw loop at the same concurrency"),
]


_LOG = threading.Lock()  # lanes log from threads: one line at a time


def log(message: str) -> None:
    with _LOG:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- one run, in its own process ------------------------------------------------------------------


def run_one(arguments: argparse.Namespace) -> dict[str, Any]:
    from peerclients import PEERS, quiet_libraries
    from productrun import fresh_pg_database, product_concurrency, run_product
    from sandboxproc import SandboxProcess

    from sentineliq.logs import configure_logging

    configure_logging("WARNING")
    quiet_libraries()
    with SandboxProcess() as sandbox:
        sandbox.set_latency(LATENCY_S)
        sandbox.set_rate_limit(arguments.limit)
        way: str = arguments.way
        if way.startswith("product-"):
            mode = way.removeprefix("product-")
            if arguments.pg:
                with fresh_pg_database() as url:
                    return run_product(
                        sandbox,
                        arguments.count,
                        mode=mode,
                        workers=arguments.workers,
                        database_url=url,
                    )
            return run_product(sandbox, arguments.count, mode=mode, workers=arguments.workers)
        from issuebodies import load_templates

        templates = load_templates(Path(arguments.templates))
        library = {"jira-defaults": "jira", "jira-tuned": "jira", "atlassian": "atlassian"}
        if way in library:
            importlib.import_module(library[way])  # its import time is not the client's speed
        concurrency = product_concurrency() if way == "raw" else 1
        started = time.perf_counter()
        PEERS[way][1](sandbox.url, templates, arguments.count, concurrency)
        elapsed = time.perf_counter() - started
        return {
            "issues": sandbox.created_issues(),
            "dead": 0,
            "seconds": elapsed,
            "concurrency": concurrency,
            **sandbox.counts().to_json(),
        }


def child_main(arguments: argparse.Namespace) -> None:
    try:
        result = run_one(arguments)
    except Exception as error:
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"[:300]}
    print(json.dumps(result), flush=True)


# -- the harness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    key: str  # where its result goes, e.g. "a:raw", "e:4"
    way: str
    count: int
    limit: float
    workers: int = 1
    pg: bool = False


class Launcher:
    """Runs jobs as subprocesses of this script, lanes in parallel, each lane's jobs in turn."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates
        self.results: dict[str, dict[str, Any]] = {}

    def run(self, job: Job) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--way", job.way]
        command += ["--count", str(job.count), "--limit", str(job.limit)]
        command += ["--workers", str(job.workers), "--templates", str(self.templates)]
        command += ["--pg"] if job.pg else []
        log(f"start {job.key} ({job.way} x{job.count}, {job.limit:g}/s, {job.workers} worker(s))")
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=_env(), check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result: dict[str, Any] = (
            json.loads(lines[-1]) if lines else {"error": f"no answer (exit {done.returncode})"}
        )
        log(f"done  {job.key}: {_short(result)}")
        self.results[job.key] = result

    def run_lanes(self, lanes: list[list[Job]]) -> None:
        threads = [
            threading.Thread(target=lambda lane=lane: [self.run(job) for job in lane])
            for lane in lanes
            if lane
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def get(self, key: str) -> dict[str, Any]:
        return self.results.get(key, {"na": "n/a (not built)"})


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(BENCH.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _short(result: dict[str, Any]) -> str:
    if "error" in result:
        return str(result["error"])
    return f"{result['issues']} issues in {result['seconds']:.1f} s = {_rate(result):.2f}/s"


def _rate(result: dict[str, Any]) -> float:
    return float(result["issues"]) / float(result["seconds"]) if result.get("seconds") else 0.0


def _ingest(result: dict[str, Any]) -> str:
    """The product's share of the clock spent posting the alerts (peers have none)."""
    return f" ({result['ingest_seconds']:.1f})" if "ingest_seconds" in result else ""


def _calls(result: dict[str, Any]) -> str:
    by_endpoint: dict[str, int] = result.get("by_endpoint", {})
    return ", ".join(f"{name.replace('/rest/api/3', '')} {n}" for name, n in by_endpoint.items())


def figures_table(rows: list[tuple[str, dict[str, Any]]], limit: float) -> list[str]:
    out = [
        "| way | in flight | issues (dead) | seconds (ingest) | issues/s | calls/issue | 429s | "
        "issues/s ÷ site limit | requests by endpoint |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, result in rows:
        if "error" in result or "na" in result:
            reason = result.get("na") or f"failed: {result['error']}"
            out.append(f"| {label} | {reason} | | | | | | | |")
            continue
        issues = max(int(result["issues"]), 1)
        workers = result.get("workers", 1)
        flight = f"{result['concurrency']}" + (f" x {workers} workers" if workers > 1 else "")
        out.append(
            f"| {label} | {flight} | {result['issues']} ({result['dead']}) | "
            f"{result['seconds']:.1f}{_ingest(result)} | {_rate(result):.2f} | "
            f"{result['requests'] / issues:.3f} | {result['rate_limited']} | "
            f"{_rate(result) / limit:.3f} | {_calls(result)} |"
        )
    return out


def _ratio(mine: dict[str, Any], peer: dict[str, Any]) -> str:
    if any("error" in r or "na" in r for r in (mine, peer)) or not _rate(peer):
        return "n/a"
    return f"{_rate(mine) / _rate(peer):.2f}x"


def product_ways() -> list[str]:
    from productrun import delivery_features

    return ["product-single", "product-bulk"] if delivery_features()["bulk"] else ["product-single"]


def part_a(launcher: Launcher, count: int, layout: str) -> list[str]:
    from peerclients import PEERS, RETRY_NOTES
    from productrun import INGEST_BATCH, delivery_features, product_concurrency

    results = {way: launcher.get(f"a:{way}") for way in [*PRODUCT_WAYS, *PEERS]}
    labels = {**PRODUCT_WAYS, **{way: label for way, (label, _) in PEERS.items()}}
    out = [
        f"### (a) {count:,} issues at {LATENCY_S * 1000:.0f} ms per request, "
        f"{BUDGET:g} requests/s site limit",
        "",
        *figures_table([(labels[way], result) for way, result in results.items()], BUDGET),
        "",
        "Ratio of the product's issues/s to each peer's (and to the site limit):",
        "",
        "| product | " + " | ".join(labels[w] for w in PEERS) + " | site limit |",
        "|---|" + "---|" * (len(PEERS) + 1),
    ]
    for way in PRODUCT_WAYS:
        mine = results[way]
        if "error" in mine or "na" in mine:
            out.append(f"| {labels[way]} | " + " | ".join("n/a" for _ in PEERS) + " | n/a |")
            continue
        cells = [_ratio(mine, results[peer]) for peer in PEERS]
        out.append(f"| {labels[way]} | " + " | ".join(cells) + f" | {_rate(mine) / BUDGET:.2f} |")
    out += ["", "| target (issue 11, part 7) | figure | |", "|---|---|---|"]
    for mine, peer, least, words in TARGETS:
        ratio = _ratio(results[mine], results[peer])
        verdict = "n/a" if ratio == "n/a" else ("met" if float(ratio[:-1]) >= least else "MISSED")
        out.append(f"| {words} | {ratio} | {verdict} |")
    features = ", ".join(
        f"{name}: {'built' if on else 'not built'}" for name, on in delivery_features().items()
    )
    out += [
        "",
        "Product: `sentineliq serve --no-worker` (ingest over HTTP, "
        f"{INGEST_BATCH} alerts per request) and one `sentineliq worker` with its defaults; "
        f"{product_concurrency()} create(s) in flight per worker ({features}). The clock runs "
        "from the first alert posted to the last delivery done. The raw loop keeps as many "
        "creates in flight as the product does. Peers run one create at a time, as their "
        "documentation shows; calls per issue count every Jira API request the sandbox saw, "
        "metadata and retries included.",
        "",
        "How each peer meets a 429: "
        + "; ".join(f"{name}: {note}" for name, note in RETRY_NOTES.items())
        + ".",
        "",
        f"In this run {layout}",
    ]
    return out


def part_c(launcher: Launcher, count: int) -> list[str]:
    rows = [(label, launcher.get(f"c:{way}")) for way, label in PRODUCT_WAYS.items()]
    return [
        f"### (c) Rate-limit efficiency: {count} issues, site limit {LIMIT_C:g} requests/s, "
        f"{LATENCY_S * 1000:.0f} ms per request",
        "",
        *figures_table(rows, LIMIT_C),
        "",
        f"The product's own budget stays at its default ({BUDGET:g} requests/s): it must learn the "
        "lower limit from the site's answers. Efficiency is the issues/s ÷ site limit column; "
        "for bulk it can exceed 1, since one request files up to 50 issues.",
    ]


def part_e(launcher: Launcher, count: int) -> list[str]:
    rows = [
        (f"{n} worker process{'es' if n > 1 else ''}", launcher.get(f"e:{n}")) for n in SCALE_OUT
    ]
    return [
        f"### (e) Scale-out on PostgreSQL: {count} issues, single creates, {LATENCY_S * 1000:.0f} "
        f"ms per request, site limit and shared budget {BUDGET:g} requests/s",
        "",
        *figures_table(rows, BUDGET),
        "",
        "Each run uses a fresh PostgreSQL database (created and dropped by the bench, not the "
        "tests' `test`); the workers share the per-site budget through it.",
    ]


def external(script: str, title: str, quick: bool) -> list[str]:
    """Another bench's own output, verbatim, or n/a when it is absent."""
    path = BENCH / script
    if not path.exists():
        return [f"### {title}", "", f"n/a (bench/{script} not built)"]
    command = [sys.executable, str(path)]
    if quick:
        usage = subprocess.run(
            [*command, "--help"], capture_output=True, text=True, env=_env(), timeout=120
        )
        if "--quick" in usage.stdout:
            command.append("--quick")
    shown = " ".join([f"bench/{script}", *command[2:]])
    log(f"start {shown}")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=1800)
    log(f"done  {shown}: exit {done.returncode} after {time.perf_counter() - started:.0f} s")
    body = done.stdout.strip() or "(no output)"
    if done.returncode != 0:
        body += f"\n\nexit {done.returncode}: {done.stderr.strip()[-1500:]}"
    # Its own layout (aligned columns), kept as it is: fenced so markdown does not reflow it.
    return [f"### {title}", "", f"`{shown}`:", "", "```text", body, "```"]


def machine() -> str:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), "
        f"{platform.system()} {platform.release()}, CPython {platform.python_version()}; "
        f"load average {load} (1/5/15 min)"
    )


def plan(sizes: dict[str, int], quick: bool, sequential: bool) -> tuple[list[list[list[Job]]], str]:
    """Waves of lanes: the lanes of a wave run at once, the jobs of a lane one after the other."""
    from peerclients import PEERS

    peers = [[Job(f"a:{way}", way, sizes["a"], BUDGET)] for way in PEERS]
    product = [Job(f"a:{way}", way, sizes["a"], BUDGET) for way in product_ways()]
    product += [Job(f"c:{way}", way, sizes["c"], LIMIT_C) for way in product_ways()]
    scale = [Job(f"e:{n}", "product-single", sizes["e"], BUDGET, n, True) for n in SCALE_OUT]
    if sequential:
        return [[[*product, *(lane[0] for lane in peers), *scale]]], (
            "every run was alone, one after the other."
        )
    if quick:
        return [[*peers, product, scale]], (
            "(quick) the peers, the product's runs of (a) and (c) one after the other, and the "
            "scale-out runs one after the other, all went at the same time, each against its "
            "own sandbox process: a check that everything runs, not figures to quote."
        )
    return [[*peers, product], [scale]], (
        "the four peers ran at the same time, each against its own sandbox process (their "
        "clients mostly wait on the 150 ms), while the product's runs of (a), then (c), went "
        "one after the other beside them; the scale-out runs (e) came after, alone."
    )


def harness(arguments: argparse.Namespace) -> None:
    from issuebodies import save_templates

    from sentineliq.logs import configure_logging

    configure_logging("WARNING")
    sizes = SIZES["quick" if arguments.quick else "full"]
    started = datetime.now(UTC)
    began = time.perf_counter()
    flags = [flag for flag in ("--quick", "--sequential") if getattr(arguments, flag[2:])]
    out = [
        f"## Side by side with peers ({started:%Y-%m-%d %H:%M} UTC, "
        f"`{' '.join(['bench/sidebyside.py', *flags])}`)",
        "",
        f"Machine at start: {machine()}.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="sentineliq-sidebyside-") as scratch:
        templates = Path(scratch) / "templates.json"
        log("capturing the product's issue bodies for the peers")
        save_templates(templates)
        launcher = Launcher(templates)
        waves, layout = plan(sizes, arguments.quick, arguments.sequential)
        for wave in waves:
            lanes = [[job for job in lane if job.key[0] in arguments.only] for lane in wave]
            launcher.run_lanes(lanes)
    if "a" in arguments.only:
        out += [*part_a(launcher, sizes["a"], layout), ""]
    if "c" in arguments.only:
        out += [*part_c(launcher, sizes["c"]), ""]
    if "e" in arguments.only:
        out += [*part_e(launcher, sizes["e"]), ""]
    # Ingest and growth measure CPU-bound work: they run alone, after the rest.
    if "b" in arguments.only:
        out += [*external("ingest.py", "(b) Ingest", arguments.quick), ""]
    if "d" in arguments.only:
        out += [*external("growth.py", "(d) Cost growth", arguments.quick), ""]
    out.append(f"Whole run: {time.perf_counter() - began:.0f} s; machine at the end: {machine()}.")
    report = "\n".join(out) + "\n"
    suffix = "-quick" if arguments.quick else ""
    default = BENCH / "results" / f"sidebyside-{started:%Y%m%d-%H%M}{suffix}.md"
    target = Path(arguments.out) if arguments.out else default
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report)
    print(report)
    log(f"written to {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller N: under 2 minutes")
    parser.add_argument("--sequential", action="store_true", help="one run at a time")
    parser.add_argument("--only", default="abcde", help="the parts to run, e.g. 'ac'")
    parser.add_argument("--out", default=None, help="markdown file to write")
    # One run (the harness starts itself with these):
    parser.add_argument("--way", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=float, default=BUDGET, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--pg", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--templates", default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.way:
        child_main(arguments)
    else:
        harness(arguments)


if __name__ == "__main__":
    main()
