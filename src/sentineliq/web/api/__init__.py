"""The JSON API, version 1, mounted at /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from sentineliq.web.api import (
    alert_status,
    alerts,
    assignees,
    custody,
    deliveries,
    evidence_files,
    inputs,
    mappings,
    ocsf,
    providers,
    url_tokens,
    webhooks,
    workspace_settings,
)

PREFIX = "/api/v1"
OPENAPI_PATH = f"{PREFIX}/openapi.json"

router = APIRouter(prefix=PREFIX)
router.include_router(alerts.router)
router.include_router(alert_status.router)
router.include_router(custody.router)
router.include_router(providers.router)
router.include_router(deliveries.router)
router.include_router(assignees.router)
router.include_router(webhooks.router)
router.include_router(workspace_settings.router)
router.include_router(ocsf.router)  # before inputs: /inputs/ocsf is its own route
router.include_router(inputs.router)
# After the built-in inputs: their own paths (.../inputs/alertmanager) are matched first.
router.include_router(mappings.router)
router.include_router(evidence_files.router)
router.include_router(url_tokens.router)
