"""Workspace Settings → Integrations: the Jira card (status, configure, test, enable, delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sentineliq.providers import ConnectionReport, registry
from sentineliq.providers.jira.mapping import FieldMeta
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.services.backfill import enable_provider
from sentineliq.services.identity import Permission, audit_origin
from sentineliq.services.providers import (
    ProviderConfigError,
    check_secret_stays_bound,
    configure,
    stored_config,
    validate_config,
)
from sentineliq.services.webhooks import WEBHOOK_PATH, generate_webhook_secret
from sentineliq.storage.crypto import MASK
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.inbound import InboundRepository
from sentineliq.storage.providers import ProviderRecord, ProviderRepository
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.jira_form import (
    ATTRIBUTES,
    GATE_INFRINGEMENTS,
    GATE_SEVERITIES,
    PRIORITIES,
    REDACTION_CHOICES,
    JiraForm,
    errors_by_field,
    token_to_submit,
)
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

PROVIDER = "jira"
BACKFILL_HOURS = 24
Page = Annotated[WorkspacePage, in_section("integrations")]


def _stored(page: WorkspacePage) -> ProviderRecord | None:
    """The stored configuration, masked: the token never leaves the database in plaintext."""
    return ProviderRepository(page.app.db, page.app.secrets).get(
        page.workspace.id, PROVIDER, decrypt=False
    )


def _status(record: ProviderRecord | None) -> tuple[str, str]:
    """(badge class, label) for the card."""
    if record is None:
        return "not-configured", "Not configured"
    if record.is_paused:
        return "paused", "Paused"
    return ("enabled", "Enabled") if record.is_enabled else ("disabled", "Disabled")


def _page(
    request: Request,
    page: WorkspacePage,
    *,
    form: JiraForm | None = None,
    errors: dict[str, list[str]] | None = None,
    report: ConnectionReport | None = None,
    token_was_typed: bool = False,
    required: tuple[FieldMeta, ...] = (),
    new_secret: str | None = None,
    status_code: int = 200,
) -> Response:
    record = _stored(page)
    manage = page.can(Permission.MANAGE_PROVIDERS)
    badge, label = _status(record)
    context: dict[str, Any] = {
        "title": "Integrations",
        "page": page,
        "flash": flash_from(request),
        "record": record,
        "provider_title": registry.get(PROVIDER).title,
        "status_badge": badge,
        "status_label": label,
        "manage": manage,
        "report": report,
        "token_was_typed": token_was_typed,
        "errors": errors or {},
        "priorities": PRIORITIES,
        "attributes": ATTRIBUTES,
        "redaction_choices": REDACTION_CHOICES,
        "gate_severities": GATE_SEVERITIES,
        "gate_infringements": GATE_INFRINGEMENTS,
        "required": required,
    }
    if manage:
        # Members see the status only: never the settings (site, email, mappings) or the form.
        context["form"] = form or (
            JiraForm.from_stored(record.config) if record is not None else JiraForm()
        )
        context["summary"] = dict(record.config) if record is not None else None
        context["webhook"] = _webhook(request, page) if record is not None else None
        context["new_secret"] = new_secret
    return render(request, "integrations.html", context, status_code=status_code)


def _webhook(request: Request, page: WorkspacePage) -> dict[str, Any]:
    """What a Jira admin needs to register the webhook (never the secret itself)."""
    inbound = InboundRepository(page.app.db, page.app.secrets)
    provider = inbound.provider_of(page.workspace.id, PROVIDER)
    return {
        "url": str(request.base_url).rstrip("/") + WEBHOOK_PATH.format(provider_id=provider.id),
        "events": ["Issue: updated", "Comment: created"],
        "secret_created_at": inbound.secret_created_at(provider.id),
    }


@router.post("/w/{workspace_id}/settings/integrations/jira/webhook-secret")
def webhook_secret(request: Request, page: Page, _posted: VerifiedForm) -> Response:
    """Generate the webhook secret and show it on this answer only (no redirect, no flash)."""
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    provider = InboundRepository(page.app.db, page.app.secrets).provider_of(
        page.workspace.id, PROVIDER
    )
    secret = generate_webhook_secret(page.app, provider, actor=page.actor)
    response = _page(request, page, new_secret=secret)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/w/{workspace_id}/settings/integrations")
def integrations(request: Request, page: Page) -> Response:
    return _page(request, page)


def _done(page: WorkspacePage, code: str) -> Response:
    return RedirectResponse(page.url(f"/settings/integrations?done={code}"), status_code=303)


@router.post("/w/{workspace_id}/settings/integrations/jira")
def save_or_test(request: Request, page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    record = _stored(page)
    form = JiraForm.from_posted(posted, record.config if record is not None else None)
    typed = posted.get("api_token")
    typed_token = typed if isinstance(typed, str) and typed != "" else None
    if posted.get("action") == "test":
        return _test(request, page, form, typed_token, record)
    raw = form.raw(token_to_submit(typed, stored=record is not None and record.has_secret))
    try:
        # A new integration starts disabled: the card's Enable button is a deliberate step.
        configure(
            page.app,
            page.workspace.id,
            PROVIDER,
            raw,
            enabled=record.is_enabled if record is not None else False,
            actor=page.actor,
        )
    except ProviderConfigError as exc:
        return _page(
            request, page, form=form, errors=errors_by_field(exc.problems), status_code=422
        )
    page.audit("provider.saved_in_panel", f"provider:{PROVIDER}")
    return _done(page, "saved")


def _test(
    request: Request,
    page: WorkspacePage,
    form: JiraForm,
    typed_token: str | None,
    record: ProviderRecord | None,
) -> Response:
    """Test the submitted values without saving them; an empty token means the stored one."""
    token = typed_token
    try:
        if token is None and record is not None and record.has_secret:
            # The stored token is only used against the site and account it was entered for.
            masked_config = validate_config(page.app, PROVIDER, form.raw(MASK)).to_storage()
            check_secret_stays_bound(page.app, page.workspace.id, PROVIDER, masked_config)
            try:
                stored = stored_config(page.app, page.workspace.id, PROVIDER)
                token = str(stored.config["api_token"])
            except (NotFoundError, KeyError):
                token = None
        config = validate_config(page.app, PROVIDER, form.raw(token or ""))
    except ProviderConfigError as exc:
        return _page(
            request,
            page,
            form=form,
            errors=errors_by_field(exc.problems),
            token_was_typed=typed_token is not None,
            status_code=422,
        )
    provider = registry.create_provider(PROVIDER, config)
    try:
        report = provider.test_connection()
        # Required fields the project demands: the form offers a value for each.
        required = provider.required_fields if isinstance(provider, JiraProvider) else ()
    finally:
        provider.close()
    page.audit("provider.tested", f"provider:{PROVIDER}", {"ok": report.ok})
    return _page(
        request,
        page,
        form=form,
        report=report,
        token_was_typed=typed_token is not None,
        required=required,
    )


def _require_configured(page: WorkspacePage) -> ProviderRecord:
    record = _stored(page)
    if record is None:
        raise PageNotFound("Jira is not configured in this workspace.")
    return record


@router.post("/w/{workspace_id}/settings/integrations/jira/enable")
def enable(page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    # An unchecked checkbox is simply absent from the form.
    hours = BACKFILL_HOURS if posted.get("backfill") == "on" else 0
    result = enable_provider(
        page.app, page.workspace.id, PROVIDER, actor=page.actor, backfill_hours=hours
    )
    backfilled = result.backfill.created if result.backfill is not None else 0
    page.audit(
        "provider.enabled_in_panel",
        f"provider:{PROVIDER}",
        {"backfill_hours": hours, "backfilled": backfilled},
    )
    if not hours:
        return _done(page, "enabled")
    return RedirectResponse(
        page.url(f"/settings/integrations?done=backfilled&count={backfilled}"), status_code=303
    )


@router.post("/w/{workspace_id}/settings/integrations/jira/disable")
def disable(page: Page, _posted: VerifiedForm) -> Response:
    return _set_enabled(page, enabled=False)


def _set_enabled(page: WorkspacePage, *, enabled: bool) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    ProviderRepository(page.app.db, page.app.secrets).set_enabled(
        page.workspace.id, PROVIDER, enabled, actor=page.actor
    )
    page.audit(
        "provider.enabled_in_panel" if enabled else "provider.disabled_in_panel",
        f"provider:{PROVIDER}",
    )
    return _done(page, "enabled" if enabled else "disabled")


@router.post("/w/{workspace_id}/settings/integrations/jira/resume")
def resume(page: Page, _posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    ProviderRepository(page.app.db, page.app.secrets).resume(
        page.workspace.id, PROVIDER, actor=page.actor
    )
    page.audit("provider.resumed_in_panel", f"provider:{PROVIDER}")
    return _done(page, "resumed")


@router.get("/w/{workspace_id}/settings/integrations/jira/delete")
def confirm_delete(request: Request, page: Page) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    return _confirm_page(request, page)


def _confirm_page(
    request: Request, page: WorkspacePage, *, error: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "jira_delete.html",
        {"title": "Delete Jira integration", "page": page, "error": error, "name": PROVIDER},
        status_code=status_code,
    )


@router.post("/w/{workspace_id}/settings/integrations/jira/delete")
def delete(request: Request, page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    _require_configured(page)
    if _typed(posted, "confirm") != PROVIDER:
        return _confirm_page(
            request, page, error=f'Type "{PROVIDER}" to confirm the deletion.', status_code=422
        )
    origin = page.origin
    ProviderRepository(page.app.db, page.app.secrets).delete(
        page.workspace.id,
        PROVIDER,
        actor=page.signed.principal.actor,
        origin=audit_origin(origin["ip"], origin["user_agent"]),
    )
    return _done(page, "deleted")


def _typed(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
