"""Reaching the application's handle and services from a request."""

from __future__ import annotations

from fastapi import Request

from sentineliq.services.identity import IdentityService
from sentineliq.web.context import app_context

__all__ = ["app_context", "client_origin", "identity"]


def identity(request: Request) -> IdentityService:
    return IdentityService(app_context(request))


def client_origin(request: Request) -> dict[str, str | None]:
    """ "From where", for the audit log."""
    return {
        "ip": request.client.host if request.client is not None else None,
        "user_agent": request.headers.get("user-agent"),
    }
