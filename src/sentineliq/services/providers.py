"""Configuring, testing and opening a workspace's ticket providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sentineliq.errors import ConfigurationError
from sentineliq.providers import ConnectionReport, TicketProvider, registry
from sentineliq.providers.jira.config import format_config_errors
from sentineliq.ratelimit import SiteRateLimiter
from sentineliq.services.assignees import WorkspaceAssignees
from sentineliq.services.context import AppContext
from sentineliq.storage.backfill import DEFAULT_BACKFILL_HOURS, backfill_deliveries
from sentineliq.storage.crypto import MASK
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.providers import ProviderRecord, ProviderRepository


class ProviderConfigError(ConfigurationError, ValueError):
    """The configuration was refused; `problems` has one line per field."""

    def __init__(self, provider: str, problems: list[str]) -> None:
        super().__init__(f"invalid {provider} configuration: " + "; ".join(problems))
        self.provider = provider
        self.problems = problems


def validate_config(app: AppContext, provider: str, raw: Mapping[str, Any]) -> Any:
    spec = registry.get(provider)
    try:
        return spec.parse(raw, app.settings.allow_private_targets)
    except ValidationError as exc:
        raise ProviderConfigError(provider, format_config_errors(exc)) from None


def configure(
    app: AppContext,
    workspace_id: str,
    provider: str,
    raw: Mapping[str, Any],
    *,
    enabled: bool = True,
    actor: str,
) -> ProviderRecord:
    """Validate and store a configuration (secrets encrypted); returns it masked."""
    config = validate_config(app, provider, raw)
    spec = registry.get(provider)
    stored = config.to_storage()
    if any(stored.get(name) == MASK for name in spec.secret_fields):
        check_secret_stays_bound(app, workspace_id, provider, stored)
    repository = ProviderRepository(app.db, app.secrets)
    before = repository.get(workspace_id, provider, decrypt=False) if enabled else None
    try:
        record = repository.save(
            workspace_id, provider, config.to_storage(), spec.secret_fields, enabled, actor=actor
        )
    except ValueError as exc:  # e.g. a masked secret sent back with none stored
        raise ProviderConfigError(provider, [str(exc)]) from None
    if enabled and (before is None or not before.is_enabled):
        # Switched on by this save: queue what it missed, as `provider enable` does.
        backfill_deliveries(
            app.db, workspace_id, provider, hours=DEFAULT_BACKFILL_HOURS, actor=actor
        )
    return record


def check_secret_stays_bound(
    app: AppContext, workspace_id: str, provider: str, new_config: Mapping[str, Any]
) -> None:
    """Refuse to reuse a stored secret for a configuration that would send it elsewhere."""
    spec = registry.get(provider)
    record = ProviderRepository(app.db, app.secrets).get(workspace_id, provider, decrypt=False)
    if record is None:
        return
    moved = [
        name for name in spec.secret_bound_fields if record.config.get(name) != new_config.get(name)
    ]
    if moved:
        secrets = ", ".join(spec.secret_fields)
        raise ProviderConfigError(
            provider,
            [
                f"{secrets}: enter it again: {' and '.join(moved)} changed, and a stored secret "
                "is only ever sent to the site and account it was entered for"
            ],
        )


def stored_config(app: AppContext, workspace_id: str, provider: str) -> ProviderRecord:
    record = ProviderRepository(app.db, app.secrets).get(workspace_id, provider, decrypt=True)
    if record is None:
        raise NotFoundError(f"no {provider} provider is configured for this workspace")
    return record


def open_provider(
    app: AppContext, record: ProviderRecord, *, limiter: SiteRateLimiter | None = None
) -> TicketProvider:
    config = validate_config(app, record.provider, record.config)
    return registry.create_provider(
        record.provider,
        config,
        config_version=record.config_version,
        limiter=limiter,
        assignees=WorkspaceAssignees(app.db, record.workspace_id),
    )


def test_connection(
    app: AppContext, workspace_id: str, provider: str, *, assignee_email: str | None = None
) -> ConnectionReport:
    ticket_system = open_provider(app, stored_config(app, workspace_id, provider))
    try:
        return ticket_system.test_connection(assignee_email=assignee_email)
    finally:
        ticket_system.close()
