"""`sentineliq worker` and `sentineliq demo`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Annotated
from wsgiref.simple_server import WSGIServer

import typer
from prometheus_client import start_http_server

from sentineliq import metrics
from sentineliq.cli.common import open_app
from sentineliq.cli.output import console, fail
from sentineliq.delivery.worker import Worker
from sentineliq.logs import configure_logging


def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once nothing is due instead of polling.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=500)] = 5,
    poll_interval: Annotated[float, typer.Option(min=0.05, help="Seconds between polls.")] = 1.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve this worker's Prometheus metrics at /metrics on this port "
            "(0: any free port, printed at start).",
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address the metrics server listens on.")
    ] = "127.0.0.1",
) -> None:
    """Drain the outbox: file a ticket for every due delivery, retrying failures with backoff."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # finish the delivery in hand, then exit

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with open_app() as context:
        server = None if metrics_port is None else _serve_metrics(metrics_host, metrics_port)
        try:
            stats = Worker(context, batch_size=batch_size).run(
                until_idle=until_idle, stop=stop, poll_interval=poll_interval
            )
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
    console.print(
        f"delivered {stats.delivered}, retry scheduled {stats.retrying}, dead {stats.dead}"
    )


def _serve_metrics(host: str, port: int) -> WSGIServer:
    """This process's counters (Jira requests, retries, ingests) for Prometheus to scrape.

    The outbox gauges (queue depth, deliveries by status) describe the shared database; the
    API's /metrics serves those.
    """
    try:
        server, _thread = start_http_server(port, addr=host, registry=metrics.REGISTRY)
    except OSError as exc:
        fail(f"--metrics-port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"metrics at http://{shown}:{server.server_port}/metrics")
    sys.stdout.flush()  # a supervisor (or test) reading our output learns the port now
    return server


def demo(
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Keep the sandbox up to browse the issues.")
    ] = False,
) -> None:
    """Turn the sample alerts into tickets in a built-in Jira sandbox, on a throwaway database."""
    from sentineliq.demo.run import run_demo  # the sandbox is only loaded when asked for

    if not os.environ.get("SENTINELIQ_LOG_LEVEL"):
        configure_logging("WARNING")  # the demo's table is its output; per-delivery logs are noise

    raise typer.Exit(run_demo(keep_running=keep_running))
