"""Reaching the application's handle and services from a request."""

from __future__ import annotations

from fastapi import Request

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService


def app_context(request: Request) -> AppContext:
    """The AppContext that `create_app` stored on the application."""
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, AppContext):
        raise RuntimeError("the admin panel needs app.state.context (set by create_app)")
    return context


def identity(request: Request) -> IdentityService:
    return IdentityService(app_context(request))


def client_origin(request: Request) -> dict[str, str | None]:
    """ "From where", for the audit log."""
    return {
        "ip": request.client.host if request.client is not None else None,
        "user_agent": request.headers.get("user-agent"),
    }
