"""The application's handle, reached from a request (the API and the panel both need it)."""

from __future__ import annotations

from fastapi import Request

from sentineliq.services.context import AppContext


def app_context(request: Request) -> AppContext:
    """The AppContext that `create_app` stored on the application."""
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, AppContext):
        raise RuntimeError("the service needs app.state.context (set by create_app)")
    return context
