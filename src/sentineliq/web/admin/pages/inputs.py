"""Workspace Settings → Inputs: the generic webhook's mappings. List them (saved and presets),
edit one as YAML/JSON or field by field, "Try it" on a sample payload (the alert it would
become; nothing stored), save and delete.

Everyone in the workspace sees and tries mappings; owners and admins (MANAGE_PROVIDERS) save
and delete them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentineliq.alerts.jsonread import decode
from sentineliq.alerts.model import ObservableType, Severity
from sentineliq.alerts.parse import MAX_DEPTH
from sentineliq.inputs.base import InputError
from sentineliq.inputs.presets import PRESETS
from sentineliq.inputs.webhook import MappedFields, WebhookMapping
from sentineliq.services.identity import Permission
from sentineliq.services.mappings import (
    DryRun,
    MappingError,
    adapt_with,
    check_name,
    delete_mapping,
    dry_run,
    find_mapping,
    list_mappings,
    parse_mapping,
    save_mapping,
)
from sentineliq.services.urltokens import UrlTokens
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.admin.csrf import VerifiedForm
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import flash_from
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.workspace import WorkspacePage, in_section
from sentineliq.web.api.mappings import PRESET_SAMPLES

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("inputs")]
TARGETS = tuple(MappedFields.model_fields)
OBSERVABLE_TYPES = tuple(kind.value for kind in ObservableType)
SEVERITIES = tuple(s.value for s in Severity)
BLANK: dict[str, Any] = {"source": "my-tool", "fields": {"title": "", "fingerprint": ""}}


def _text(posted: VerifiedForm, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


def _origin(page: WorkspacePage) -> dict[str, str]:
    return {key: value for key, value in page.origin.items() if value is not None}


def _yaml(document: Any) -> str:
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


@router.get("/w/{workspace_id}/settings/inputs")
def input_list(request: Request, page: Page) -> Response:
    base = str(request.base_url).rstrip("/") + f"/api/v1/workspaces/{page.workspace.id}/inputs/"
    return render(
        request,
        "inputs.html",
        {
            "title": "Inputs",
            "page": page,
            "flash": flash_from(request),
            "mappings": list_mappings(page.app, page.workspace.id),
            "endpoint": base,
            "presets": tuple(PRESETS),
            "manage": page.can(Permission.MANAGE_PROVIDERS),
            "url_tokens": UrlTokens(page.app).list(page.workspace.id),
        },
    )


@router.get("/w/{workspace_id}/settings/inputs/edit")
def edit_mapping(request: Request, page: Page, name: str = "", start: str = "") -> Response:
    """A mapping's editor: `name` an existing one (saved or preset); else a new one, started
    from the preset `start` or blank."""
    if name:
        try:
            view = find_mapping(page.app, page.workspace.id, name)
        except MappingError:
            raise PageNotFound("No mapping or preset has this name in this workspace.") from None
        document, origin, basis = (
            view.mapping.model_dump(mode="json", exclude_none=True),
            view.origin,
            name,
        )
    elif start in PRESETS:
        document, origin, basis = (
            PRESETS[start].model_dump(mode="json", exclude_none=True),
            "new",
            start,
        )
    else:
        document, origin, basis = dict(BLANK), "new", ""
    sample = json.dumps(PRESET_SAMPLES.get(basis, {}), indent=2, ensure_ascii=False)
    state = {"name": name, "origin": origin, "mode": "yaml", "document": _yaml(document)}
    return _editor(request, page, state, document, sample)


def _editor(
    request: Request,
    page: WorkspacePage,
    state: dict[str, str],
    document: Any,
    sample: str,
    *,
    errors: dict[str, list[str]] | None = None,
    run: DryRun | None = None,
    status_code: int = 200,
) -> Response:
    shown = document if isinstance(document, dict) else {}
    return render(
        request,
        "input_mapping.html",
        {
            "title": f"Input mapping {state['name']}".strip(),
            "page": page,
            "flash": flash_from(request),
            "state": state,
            "fields": shown.get("fields") or {},
            "observables": shown.get("observables") or {},
            "doc": shown,
            "severity_lines": "\n".join(
                f"{key} = {value}" for key, value in (shown.get("severity_map") or {}).items()
            ),
            "sample": sample,
            "errors": errors or {},
            "run": run,
            "targets": TARGETS,
            "required": ("title", "fingerprint"),
            "observable_types": OBSERVABLE_TYPES,
            "severities": SEVERITIES,
            "manage": page.can(Permission.MANAGE_PROVIDERS),
            "saved": state["origin"].startswith("saved"),
        },
        status_code=status_code,
    )


def _from_fields(posted: VerifiedForm) -> dict[str, Any]:
    """The mapping the field-by-field form describes (empty inputs are unset)."""
    fields = {t: value.strip() for t in TARGETS if (value := _text(posted, f"f_{t}")).strip()}
    observables = {
        kind: value.strip()
        for kind in OBSERVABLE_TYPES
        if (value := _text(posted, f"o_{kind}")).strip()
    }
    severity_map: dict[str, str] = {}
    for line in _text(posted, "severity_map").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            severity_map[key.strip()] = value.strip()
    document: dict[str, Any] = {"fields": fields}
    for key in ("description", "source", "default_severity"):
        if _text(posted, key).strip():
            document[key] = _text(posted, key).strip()
    if observables:
        document["observables"] = observables
    if severity_map:
        document["severity_map"] = severity_map
    if _text(posted, "records").strip():
        document["records"] = _text(posted, "records").strip()
    return document


def _field_key(field: str) -> str:
    """The form input a mapping error belongs to, in the field-by-field form."""
    head, _, rest = field.partition(".")
    if head == "fields" and rest:
        return f"f_{rest}"
    if head == "observables" and rest:
        return f"o_{rest}"
    return head


@router.post("/w/{workspace_id}/settings/inputs/edit")
def post_mapping(request: Request, page: Page, posted: VerifiedForm) -> Response:
    """Try it (nothing stored), save, or switch between the YAML and field-by-field editors."""
    action = _text(posted, "action")
    mode = "fields" if _text(posted, "mode") == "fields" else "yaml"
    name = _text(posted, "name").strip()
    state = {"name": name, "origin": _text(posted, "origin") or "new", "mode": mode}
    sample = _text(posted, "sample")
    errors: dict[str, list[str]] = {}
    document: Any = None
    if mode == "fields":
        document = _from_fields(posted)
    else:
        try:
            document = yaml.safe_load(_text(posted, "document"))  # JSON is YAML too
        except yaml.YAMLError as exc:
            errors["document"] = [f"Not YAML or JSON: {' '.join(str(exc).split())}"]
    mapping: WebhookMapping | None = None
    if not errors:
        try:
            mapping = parse_mapping(document)
        except MappingError as exc:
            key = _field_key(exc.field) if mode == "fields" else "document"
            errors[key] = [f"{exc.field}: {exc.problem}" if key == "document" else exc.problem]
    if action == "switch":
        mode = "yaml" if mode == "fields" else "fields"
        state["mode"] = mode
    state["document"] = (
        _yaml(document) if document is not None and mode == "yaml" and not errors
        else _text(posted, "document")
    )  # fmt: skip
    if action == "save" and mapping is not None:
        page.require(Permission.MANAGE_PROVIDERS)
        try:
            save_mapping(
                page.app,
                page.workspace.id,
                check_name(name),
                mapping,
                actor=page.actor,
                origin=_origin(page),
            )
        except MappingError as exc:
            errors["name"] = [exc.problem]
        else:
            return RedirectResponse(
                page.url(f"/settings/inputs/edit?name={name}&done=mapping_saved"), status_code=303
            )
    run: DryRun | None = None
    if action == "try" and mapping is not None:
        run = _try(mapping, sample, errors)
    code = 422 if errors and action in ("save", "try") else 200
    return _editor(request, page, state, document, sample, errors=errors, run=run, status_code=code)


def _try(mapping: WebhookMapping, sample: str, errors: dict[str, list[str]]) -> DryRun | None:
    decoded, problem = decode(sample.encode("utf-8", "surrogatepass"), MAX_DEPTH)
    if decoded is None or decoded.problem is not None:
        where = f"{decoded.field}: " if decoded is not None and decoded.field else ""
        said = decoded.problem if decoded is not None else problem
        errors["sample"] = [f"Not a JSON payload: {where}{said}"]
        return None
    try:
        return dry_run(adapt_with("unsaved", mapping, decoded.value), "this mapping")
    except InputError as exc:
        errors["sample"] = [str(exc)]
        return None


@router.post("/w/{workspace_id}/settings/inputs/delete")
def delete_posted(page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    removed = delete_mapping(
        page.app, page.workspace.id, _text(posted, "name"), actor=page.actor, origin=_origin(page)
    )
    if not removed:
        raise PageNotFound("No saved mapping has this name in this workspace.")
    return RedirectResponse(page.url("/settings/inputs?done=mapping_deleted"), status_code=303)


@router.post("/w/{workspace_id}/settings/inputs/url-tokens")
def create_url_token(request: Request, page: Page, posted: VerifiedForm) -> Response:
    """A sender URL for the posted input, shown this once (the response is never cached)."""
    page.require(Permission.MANAGE_PROVIDERS)
    origin = page.origin
    try:
        created = UrlTokens(page.app).create(
            page.workspace.id,
            _text(posted, "name"),
            actor=page.actor,
            ip=origin["ip"],
            user_agent=origin["user_agent"],
        )
    except MappingError:
        raise PageNotFound("No mapping or preset has this name in this workspace.") from None
    url = str(request.base_url).rstrip("/") + created.path
    return render(
        request,
        "input_url_created.html",
        {"title": "Sender URL created", "page": page, "record": created.record, "url": url},
        status_code=201,
    )


@router.post("/w/{workspace_id}/settings/inputs/url-tokens/revoke")
def revoke_url_token(page: Page, posted: VerifiedForm) -> Response:
    page.require(Permission.MANAGE_PROVIDERS)
    origin = page.origin
    try:
        UrlTokens(page.app).revoke(
            page.workspace.id,
            _text(posted, "name"),
            _text(posted, "id"),
            actor=page.actor,
            ip=origin["ip"],
            user_agent=origin["user_agent"],
        )
    except NotFoundError:
        raise PageNotFound("There is no such sender URL in this workspace.") from None
    return RedirectResponse(page.url("/settings/inputs?done=url_token_revoked"), status_code=303)
