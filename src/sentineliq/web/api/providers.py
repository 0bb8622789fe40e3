"""A workspace's ticket providers: list, show (masked), configure, enable, disable, delete, test.

Everything here needs MANAGE_PROVIDERS: provider settings are for owners and admins only. Secrets
are write-only: answers mask them, and an update without a new secret keeps the stored one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from sentineliq.providers import registry
from sentineliq.providers.registry import ProviderSpec
from sentineliq.services import providers as provider_service
from sentineliq.services.backfill import enable_provider as enable_with_backfill
from sentineliq.services.identity import audit_origin
from sentineliq.services.providers import ProviderConfigError
from sentineliq.storage.crypto import MASK
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.providers import ProviderRecord, ProviderRepository
from sentineliq.web.api.auth import Caller, ProviderManager
from sentineliq.web.api.models import (
    CheckOut,
    ConnectionReportOut,
    ConnectionTestIn,
    EnableIn,
    ProviderEnabledOut,
    ProviderList,
    ProviderOut,
    ProviderSettingsIn,
)
from sentineliq.web.api.problems import ApiProblem, FieldError

router = APIRouter(tags=["providers"])

ProviderName = Annotated[
    str,
    Path(pattern=r"^[a-z0-9_-]{1,32}$", description="The provider's name, e.g. jira."),
]


def _spec(name: str) -> ProviderSpec[Any]:
    try:
        return registry.get(name)
    except ValueError:
        known = ", ".join(registry.names())
        raise ApiProblem(
            404, f"unknown provider {name!r} (known: {known})", kind="not-found"
        ) from None


def _not_configured(name: str) -> ApiProblem:
    return ApiProblem(404, f"no {name} provider is configured in this workspace", kind="not-found")


def _out(record: ProviderRecord) -> ProviderOut:
    assert not record.decrypted  # answers only ever carry masked settings
    return ProviderOut(
        provider=record.provider,
        title=_spec(record.provider).title,
        enabled=record.is_enabled,
        config=dict(record.config),
        secret_fields=sorted(record.secret_fields),
        config_version=record.config_version,
        paused_at=record.paused_at,
        paused_reason=record.paused_reason,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def config_problem(exc: ProviderConfigError) -> ApiProblem:
    """The configuration's field errors ("field: message" lines) as a 422 problem."""
    errors = []
    for line in exc.problems:
        field, sep, message = line.partition(": ")
        errors.append(
            FieldError(field=f"config.{field}", message=message)
            if sep
            else FieldError(field="config", message=line)
        )
    return ApiProblem(
        422, f"the {exc.provider} settings were refused", kind="validation", errors=errors
    )


@router.get(
    "/workspaces/{workspace_id}/providers",
    summary="List providers",
    response_model=ProviderList,
)
def list_providers(caller: ProviderManager) -> ProviderList:
    records = ProviderRepository(caller.app.db, caller.app.secrets).list(caller.workspace_id)
    return ProviderList(providers=[_out(r) for r in records], available=list(registry.names()))


@router.get(
    "/workspaces/{workspace_id}/providers/{name}",
    summary="Show a provider (secrets masked)",
    response_model=ProviderOut,
)
def get_provider(name: ProviderName, caller: ProviderManager) -> ProviderOut:
    _spec(name)
    record = ProviderRepository(caller.app.db, caller.app.secrets).get(
        caller.workspace_id, name, decrypt=False
    )
    if record is None:
        raise _not_configured(name)
    return _out(record)


@router.put(
    "/workspaces/{workspace_id}/providers/{name}",
    summary="Create or update a provider",
    description=(
        "Validates and stores the settings; secrets are encrypted at rest and never returned. "
        "An empty, masked (********) or absent secret keeps the stored one. 201 when created."
    ),
    response_model=ProviderOut,
    responses={201: {"model": ProviderOut, "description": "Created."}},
)
def put_provider(
    name: ProviderName, body: ProviderSettingsIn, caller: ProviderManager, response: Response
) -> ProviderOut:
    spec = _spec(name)
    repository = ProviderRepository(caller.app.db, caller.app.secrets)
    existing = repository.get(caller.workspace_id, name, decrypt=False)
    config = dict(body.config)
    for secret in spec.secret_fields:
        kept = existing is not None and secret in existing.secret_fields
        # Absent, empty or masked keeps it; null is not a string and is refused like any other.
        if kept and (secret not in config or config[secret] in ("", MASK)):
            config[secret] = MASK  # the storage layer keeps the stored secret for MASK
    try:
        record = provider_service.configure(
            caller.app,
            caller.workspace_id,
            name,
            config,
            enabled=body.enabled,
            actor=caller.actor,
        )
    except ProviderConfigError as exc:
        raise config_problem(exc) from None
    caller.audit(
        "api.provider.saved",
        target=f"provider:{name}",
        provider=name,
        created=existing is None,
        config_version=record.config_version,
    )
    if existing is None:
        response.status_code = 201
    return _out(record)


def _set_enabled(caller: Caller, name: str, enabled: bool) -> ProviderOut:
    _spec(name)
    try:
        record = ProviderRepository(caller.app.db, caller.app.secrets).set_enabled(
            caller.workspace_id, name, enabled, actor=caller.actor
        )
    except NotFoundError:
        raise _not_configured(name) from None
    caller.audit(
        "api.provider.enabled" if enabled else "api.provider.disabled",
        target=f"provider:{name}",
        provider=name,
    )
    return _out(record)


@router.post(
    "/workspaces/{workspace_id}/providers/{name}/enable",
    summary="Enable a provider and backfill what it missed",
    description=(
        "Switches the provider on, then queues a delivery for every alert received in the last "
        "`backfill_hours` (default 24; 0 for none) that has none for it, such as alerts stored "
        "while no provider was enabled. Idempotent: an alert never gets a second delivery."
    ),
    response_model=ProviderEnabledOut,
)
def enable_provider(
    name: ProviderName, caller: ProviderManager, body: EnableIn | None = None
) -> ProviderEnabledOut:
    _spec(name)
    hours = (body or EnableIn()).backfill_hours
    try:
        enabled = enable_with_backfill(
            caller.app, caller.workspace_id, name, actor=caller.actor, backfill_hours=hours
        )
    except NotFoundError:
        raise _not_configured(name) from None
    backfilled = enabled.backfill.created if enabled.backfill is not None else 0
    caller.audit(
        "api.provider.enabled",
        target=f"provider:{name}",
        provider=name,
        backfill_hours=hours,
        backfilled=backfilled,
    )
    return ProviderEnabledOut(
        **_out(enabled.record).model_dump(), backfill_hours=hours, backfilled=backfilled
    )


@router.post(
    "/workspaces/{workspace_id}/providers/{name}/disable",
    summary="Disable a provider (its deliveries wait)",
    response_model=ProviderOut,
)
def disable_provider(name: ProviderName, caller: ProviderManager) -> ProviderOut:
    return _set_enabled(caller, name, False)


@router.delete(
    "/workspaces/{workspace_id}/providers/{name}",
    summary="Delete a provider",
    status_code=204,
    response_class=Response,
)
def delete_provider(name: ProviderName, caller: ProviderManager) -> Response:
    _spec(name)
    try:
        ProviderRepository(caller.app.db, caller.app.secrets).delete(
            caller.workspace_id,
            name,
            actor=caller.actor,
            origin=audit_origin(caller.ip, caller.user_agent),
        )
    except NotFoundError:
        raise _not_configured(name) from None
    return Response(status_code=204)


@router.post(
    "/workspaces/{workspace_id}/providers/{name}/test",
    summary="Test the stored connection",
    description=(
        "Runs the provider's checks (reachability, credentials, project, issue type, fields) with "
        "the stored settings; each check passes or fails with an explanation."
    ),
    response_model=ConnectionReportOut,
)
def test_provider(
    name: ProviderName, caller: ProviderManager, body: ConnectionTestIn | None = None
) -> ConnectionReportOut:
    _spec(name)
    try:
        report = provider_service.test_connection(
            caller.app,
            caller.workspace_id,
            name,
            assignee_email=body.assignee_email if body is not None else None,
        )
    except NotFoundError:
        raise _not_configured(name) from None
    except ProviderConfigError as exc:
        raise config_problem(exc) from None
    caller.audit("api.provider.tested", target=f"provider:{name}", provider=name, ok=report.ok)
    return ConnectionReportOut(
        ok=report.ok,
        checks=[CheckOut(name=c.name, ok=c.ok, detail=c.detail) for c in report.checks],
    )
