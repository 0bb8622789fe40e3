"""/healthz: database and worker liveness, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Literal, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from sentineliq import __version__
from sentineliq.services.attack import sync_status
from sentineliq.services.context import AppContext

router = APIRouter()


class WorkerProbe(Protocol):
    def is_running(self) -> bool: ...


class Health(BaseModel):
    status: Literal["ok", "unhealthy"]
    database: Literal["ok", "error"]
    worker: Literal["running", "stopped", "disabled"]
    version: str
    # The ATT&CK catalog tickets use; "sync_failed": the last sync could not read its source
    # (the catalog before it stays in use, so this alone does not make the process unhealthy).
    attack: Literal["embedded", "synced", "sync_failed", "unknown"]


def _database_ok(context: AppContext) -> bool:
    try:
        with context.db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "error"; details go nowhere
        return False
    return True


def _attack(context: AppContext) -> Literal["embedded", "synced", "sync_failed", "unknown"]:
    try:
        record = sync_status(context)
    except Exception:  # reported as the database's state already
        return "unknown"
    if record.error:
        return "sync_failed"
    return "synced" if record.version else "embedded"


def check(context: AppContext, worker: WorkerProbe | None) -> Health:
    database: Literal["ok", "error"] = "ok" if _database_ok(context) else "error"
    state: Literal["running", "stopped", "disabled"] = (
        "disabled" if worker is None else "running" if worker.is_running() else "stopped"
    )
    healthy = database == "ok" and state != "stopped"
    return Health(
        status="ok" if healthy else "unhealthy",
        database=database,
        worker=state,
        version=__version__,
        attack=_attack(context) if database == "ok" else "unknown",
    )


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    health = check(request.app.state.context, request.app.state.worker)
    return JSONResponse(
        health.model_dump(),
        status_code=200 if health.status == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )
