"""`sentineliq serve`: the API, the admin panel and (by default) a worker in one process."""

from __future__ import annotations

from typing import Annotated

import structlog
import typer

from sentineliq.cli.common import open_app

log = structlog.get_logger("sentineliq.serve")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    no_worker: Annotated[
        bool,
        typer.Option("--no-worker", help="Serve HTTP only; run `sentineliq worker` separately."),
    ] = False,
) -> None:
    """Serve the JSON API (/api/v1, reference at /docs), the admin panel, /healthz and /metrics.

    SQLite under SENTINELIQ_DATA_DIR by default; PostgreSQL via SENTINELIQ_DATABASE_URL.
    """
    # The web stack loads only for this command: every other command starts faster without it.
    import uvicorn

    from sentineliq.web.app import create_app

    with open_app() as context:
        app = create_app(context, run_worker=not no_worker)
        # log_config=None: uvicorn's loggers propagate to the JSON handler configure_logging
        # installed. Its access lines carry method, path and status, never headers or cookies.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=True,
            proxy_headers=False,  # client IPs in the audit log are the peer's, not a header's
            server_header=False,
        )
        log.info(
            "serve.starting",
            host=host,
            port=port,
            worker=not no_worker,
            database=context.settings.safe_database_url,
        )
        uvicorn.Server(config).run()  # SIGINT/SIGTERM: stop accepting, drain, stop the worker
