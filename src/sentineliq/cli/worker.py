"""`sentineliq worker` and `sentineliq demo`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Annotated, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import typer
from prometheus_client import make_wsgi_app

from sentineliq import metrics
from sentineliq.cli.common import open_app
from sentineliq.cli.output import console, fail
from sentineliq.delivery.worker import Worker
from sentineliq.logs import configure_logging
from sentineliq.settings import MAX_CONCURRENCY


def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once nothing is due instead of polling.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=500, help="Deliveries each lane claims at a time.")
    ] = 5,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=MAX_CONCURRENCY,
            help="Requests kept in flight at once (default: SENTINELIQ_WORKER_CONCURRENCY, 4).",
        ),
    ] = None,
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
        token = context.settings.metrics_token
        server = None if metrics_port is None else _serve_metrics(metrics_host, metrics_port, token)
        try:
            stats = Worker(context, batch_size=batch_size, concurrency=concurrency).run(
                until_idle=until_idle, stop=stop, poll_interval=poll_interval
            )
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
    console.print(
        f"delivered {stats.delivered}, retry scheduled {stats.retrying}, dead {stats.dead}"
    )


_WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged: one line every 15 s per scraper is noise."""


def _require_bearer(app: _WSGIApp, token: str) -> _WSGIApp:
    """`app` behind SENTINELIQ_METRICS_TOKEN, as the API's /metrics is."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if metrics.bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [("Content-Type", "text/plain; charset=utf-8"), ("WWW-Authenticate", "Bearer")],
        )
        return [b"/metrics requires the bearer token set in SENTINELIQ_METRICS_TOKEN\n"]

    return guarded


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True


def _serve_metrics(host: str, port: int, token: str | None) -> WSGIServer:
    """This process's counters (Jira requests, retries, ingests) for Prometheus to scrape.

    The outbox gauges (queue depth, deliveries by status) describe the shared database; the
    API's /metrics serves those. With SENTINELIQ_METRICS_TOKEN set, scrapes need the token.
    """
    app: _WSGIApp = make_wsgi_app(metrics.REGISTRY)
    if token is not None:
        app = _require_bearer(app, token)
    try:
        server = make_server(host, port, app, _ThreadingWSGIServer, handler_class=_QuietHandler)
    except OSError as exc:
        fail(f"--metrics-port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
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
