"""The admin panel: server-rendered pages, usable without JavaScript.

`install(app)` adds the pages (`/`, `/login`, `/logout`, `/w/{workspace_id}/...`), their static
files, security headers and error pages to the service's FastAPI app. Pages read the
application's handle from `app.state.context` (set by `sentineliq.web.app.create_app`).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sentineliq.web.admin.csrf import install_login_key
from sentineliq.web.admin.errors import install_handlers
from sentineliq.web.admin.headers import AdminSecurityHeaders
from sentineliq.web.admin.pages import (
    alert_status,
    alerts,
    api_keys,
    assignees,
    audit,
    deliveries,
    held,
    inputs,
    integrations,
    login,
)
from sentineliq.web.admin.rendering import STATIC_DIR, STATIC_PATH

__all__ = ["install"]


def install(app: FastAPI) -> None:
    install_login_key(app)
    install_handlers(app)
    # The held list before the deliveries: /deliveries/held is not a delivery's id.
    pages = (
        login, integrations, held, deliveries, alerts, alert_status, api_keys, audit, assignees,
        inputs,
    )  # fmt: skip
    for page in pages:
        app.include_router(page.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="admin-static")
    app.add_middleware(AdminSecurityHeaders)
