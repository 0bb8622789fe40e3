"""`sentineliq serve`: the API, the admin panel and (by default) a worker in one process."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Annotated

import structlog
import typer
from rich.markup import escape

from sentineliq.cli.output import fail
from sentineliq.services.context import AppContext
from sentineliq.settings import Settings, SettingsError, parse_trusted_proxies

log = structlog.get_logger("sentineliq.serve")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    no_worker: Annotated[
        bool,
        typer.Option("--no-worker", help="Serve HTTP only; run `sentineliq worker` separately."),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="IP address or CIDR network of a reverse proxy whose X-Forwarded-For and "
            "X-Forwarded-Proto headers are honoured. Repeatable; adds to the ones in "
            "SENTINELIQ_TRUSTED_PROXIES.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the JSON API (/api/v1, reference at /docs), the admin panel, /healthz and /metrics.

    SQLite under SENTINELIQ_DATA_DIR by default; PostgreSQL via SENTINELIQ_DATABASE_URL.
    """
    # The web stack loads only for this command: every other command starts faster without it.
    import uvicorn

    from sentineliq.web.app import create_app

    try:
        settings = Settings.from_env()
        extra = parse_trusted_proxies(trusted_proxy or [], source="--trusted-proxy")
    except SettingsError as refused:
        fail(escape(str(refused)))
    proxies = tuple(dict.fromkeys((*settings.trusted_proxies, *extra)))
    settings = replace(settings, trusted_proxies=proxies)

    with AppContext.open(settings) as context:
        app = create_app(context, run_worker=not no_worker)
        # log_config=None: uvicorn's loggers propagate to the JSON handler configure_logging
        # installed. Its access lines carry method, path and status, never headers or cookies.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=True,
            proxy_headers=False,  # create_app applies SENTINELIQ_TRUSTED_PROXIES instead
            server_header=False,
        )
        log.info(
            "serve.starting",
            host=host,
            port=port,
            worker=not no_worker,
            database=context.settings.safe_database_url,
            trusted_proxies=[str(network) for network in proxies],
            metrics_auth=settings.metrics_token is not None,
        )
        if settings.metrics_token is None and not _is_loopback(host):
            log.warning(
                "serve.metrics_unauthenticated",
                host=host,
                hint="set SENTINELIQ_METRICS_TOKEN or SENTINELIQ_METRICS_TOKEN_FILE",
            )
        uvicorn.Server(config).run()  # SIGINT/SIGTERM: stop accepting, drain, stop the worker


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost: assume others can reach it
        return False
