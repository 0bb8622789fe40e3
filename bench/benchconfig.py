"""What the benches share: the provider configuration, an unthrottled pipeline, a timed ingest.

A bench queues hundreds of new tickets at once on purpose; with the storm guard's default (50 in
10 minutes) it would measure the guard holding them, not the path it is about, so the guard is
lifted. The throughput benches also lift SentinelIQ's own per-site budget (10 requests/s by
default), which would otherwise measure itself, not the code.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sentineliq.demo.run import demo_settings, sandbox_provider_config
from sentineliq.logs import configure_logging
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import IngestReport, ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.workspaces import WorkspaceRepository


def bench_provider_config(base_url: str) -> dict[str, object]:
    return {**sandbox_provider_config(base_url), "lifecycle": {"storm_threshold": 100_000}}


@dataclass(frozen=True)
class Bench:
    app: AppContext
    sandbox: JiraSandbox
    workspace_id: str


@contextmanager
def unthrottled_bench() -> Iterator[Bench]:
    """A throwaway SQLite database, the sandbox, a workspace with the Jira provider; no budget."""
    configure_logging("WARNING")  # one log line per delivery would drown the figures
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-bench-"))
    try:
        settings = demo_settings(data_dir)
        settings = replace(settings, delivery=replace(settings.delivery, rate_per_s=10_000.0))
        with JiraSandbox() as sandbox, AppContext.open(settings) as app:
            workspace = WorkspaceRepository(app.db).create("bench")
            config = bench_provider_config(sandbox.url)
            configure(app, workspace.id, "jira", config, actor="bench")
            yield Bench(app, sandbox, workspace.id)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def timed_ingest(bench: Bench, text: str) -> tuple[IngestReport, float, int]:
    """Ingest `text`: the report, the seconds it took and its peak Python memory in bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    report = ingest_text(bench.app, bench.workspace_id, text, actor="bench")
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return report, seconds, peak
