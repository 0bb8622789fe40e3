"""create_app: the service's ASGI application (API, health, metrics, reference, admin panel)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from sentineliq import __version__, metrics
from sentineliq.delivery import outbox_gauges
from sentineliq.delivery.worker import Worker
from sentineliq.services.context import AppContext
from sentineliq.web import admin, health, reference
from sentineliq.web.admin.errors import PAGES, error_page
from sentineliq.web.api import OPENAPI_PATH
from sentineliq.web.api import router as api_router
from sentineliq.web.api.openapi import install_openapi
from sentineliq.web.api.problems import (
    PROBLEM_TYPES,
    error_problem,
    install_problem_handlers,
    problem_response,
)
from sentineliq.web.apiheaders import ApiSecurityHeaders, machine_path
from sentineliq.web.bodylimit import BodyLimit
from sentineliq.web.proxies import TrustedProxyHeaders

log = structlog.get_logger("sentineliq.web")


class BackgroundWorker:
    """The outbox worker on a thread of the serving process; stopped between deliveries."""

    def __init__(self, context: AppContext, *, poll_interval: float = 1.0) -> None:
        self._worker = Worker(context)
        self._stop = threading.Event()
        self._poll_interval = poll_interval
        self._thread = threading.Thread(target=self._run, name="sentineliq-worker", daemon=True)

    def _run(self) -> None:
        try:
            self._worker.run(stop=self._stop, poll_interval=self._poll_interval)
        except Exception:  # run() survives database outages; anything else ends up here
            log.exception("worker.crashed")

    def start(self) -> None:
        self._thread.start()
        log.info("worker.started", worker_id=self._worker.worker_id)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the delivery in hand, hand back the rest of the batch, and return."""
        self._stop.set()
        self._thread.join(timeout)
        log.info("worker.stopped", worker_id=self._worker.worker_id)

    def is_running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()


async def _expected_error(request: Request, exc: Exception) -> Response:
    # An error of the hierarchy a route let through: the API's table (web.api.problems) answers
    # for programs, the panel's (web.admin.errors) for people.
    if not machine_path(request.url.path):
        page = error_page(request, exc)
        if page is not None:
            return page
    return await error_problem(request, exc)


def install_error_faces(app: FastAPI) -> None:
    """One handler for every class either face's table names (the most specific one wins)."""
    for branch in {branch for branch, *_ in (*PROBLEM_TYPES, *PAGES)}:
        app.add_exception_handler(branch, _expected_error)


def create_app(context: AppContext, *, run_worker: bool = False) -> FastAPI:
    """The application over `context`; with `run_worker`, a delivery worker runs while it is up.

    The caller owns `context` (and closes it). `app.state.context` is the handle for routes,
    `app.state.worker` the background worker or None.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = BackgroundWorker(context) if run_worker else None
        app.state.worker = worker
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="SentinelIQ Tickets",
        version=__version__,
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # our own server-rendered /docs; Swagger UI would load assets from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.worker = None
    install_problem_handlers(app)
    install_error_faces(app)
    app.add_middleware(BodyLimit, context=context)  # first added: the headers below apply too
    app.add_middleware(ApiSecurityHeaders)
    app.include_router(api_router)
    app.include_router(health.router)
    app.include_router(reference.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        token = request.app.state.context.settings.metrics_token
        if token is not None and not metrics.bearer_matches(
            request.headers.get("authorization"), token
        ):
            return problem_response(
                401,
                "/metrics requires the bearer token set in SENTINELIQ_METRICS_TOKEN",
                kind="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = outbox_gauges.render(request.app.state.context.db)
        return Response(body, media_type=outbox_gauges.CONTENT_TYPE)

    install_openapi(app)
    admin.install(app)  # the admin panel: /, /login, /logout, /w/{workspace_id}/..., static
    if context.settings.trusted_proxies:
        # Added last, so outermost: every middleware, route and audit entry sees the real client.
        app.add_middleware(TrustedProxyHeaders, networks=context.settings.trusted_proxies)
    return app
