"""A workspace's webhook mappings (the generic webhook input): saved, listed, removed, and tried.

A mapping is stored with the workspace's input settings under `webhook:<name>` (one entry per
mapping, so two people saving different mappings never lose each other's). A saved mapping may
take a preset's name (splunk, elastic, wazuh): it then replaces the preset in this workspace,
and deleting it brings the preset back. Names of built-in formats (alertmanager, ocsf) and of
the API's own path words are refused.

A dry run reads a sample through a mapping exactly as ingest would and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sentineliq import errors
from sentineliq.alerts import Alert
from sentineliq.alerts.parse import RecordError
from sentineliq.inputs.base import InputResult
from sentineliq.inputs.presets import PRESETS
from sentineliq.inputs.registry import ADAPTERS
from sentineliq.inputs.webhook import NAME_PATTERN, RESERVED_NAMES, WebhookAdapter, WebhookMapping
from sentineliq.services.context import AppContext
from sentineliq.storage.inputsettings import InputSettingsRepository

STORE_PREFIX = "webhook:"
_NAME = re.compile(NAME_PATTERN)


class MappingError(errors.InputError, ValueError):
    """A mapping name or body that cannot be saved or used; `field` names what."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}" if field_name else problem)
        self.field = field_name
        self.problem = problem


class UnknownMapping(MappingError):
    def __init__(self, name: str) -> None:
        super().__init__("name", f"no mapping or preset is named {name!r}")


@dataclass(frozen=True)
class MappingView:
    name: str
    mapping: WebhookMapping
    origin: str  # "saved", "preset", or "saved (replaces the preset)"


def check_name(name: str) -> str:
    """`name` if a mapping may have it; MappingError naming the field otherwise."""
    if not _NAME.match(name):
        raise MappingError(
            "name",
            f"{name!r}: lower-case letters, digits and hyphens, 1 to 64, starting and ending "
            "with a letter or digit",
        )
    if name in RESERVED_NAMES or name in ADAPTERS:
        raise MappingError("name", f"{name!r} is a built-in input's name or a reserved word")
    return name


def parse_mapping(body: object) -> WebhookMapping:
    """A mapping from its JSON (or YAML) document; MappingError naming the first bad field."""
    try:
        return WebhookMapping.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"] if part != "[key]")
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise MappingError(where, problem) from None


def _saved(app: AppContext, workspace_id: str) -> dict[str, WebhookMapping]:
    out: dict[str, WebhookMapping] = {}
    for key, stored in InputSettingsRepository(app.db).all(workspace_id).items():
        if key.startswith(STORE_PREFIX):
            try:
                out[key.removeprefix(STORE_PREFIX)] = WebhookMapping.model_validate(stored)
            except ValidationError:
                continue  # saved by a newer version, say: never breaks the list
    return out


def list_mappings(app: AppContext, workspace_id: str) -> list[MappingView]:
    """The workspace's saved mappings, then the presets it has not replaced, each by name."""
    saved = _saved(app, workspace_id)
    views = [
        MappingView(name, mapping, "saved (replaces the preset)" if name in PRESETS else "saved")
        for name, mapping in sorted(saved.items())
    ]
    views += [
        MappingView(name, mapping, "preset")
        for name, mapping in PRESETS.items()
        if name not in saved
    ]
    return views


def find_mapping(app: AppContext, workspace_id: str, name: str) -> MappingView:
    """The mapping in effect under `name`; UnknownMapping when none."""
    stored = InputSettingsRepository(app.db).get(workspace_id, STORE_PREFIX + name)
    if stored is not None:
        try:
            mapping = WebhookMapping.model_validate(stored)
        except ValidationError:
            raise MappingError(
                name, "the saved mapping no longer validates: save it again"
            ) from None
        origin = "saved (replaces the preset)" if name in PRESETS else "saved"
        return MappingView(name, mapping, origin)
    if name in PRESETS:
        return MappingView(name, PRESETS[name], "preset")
    raise UnknownMapping(name)


def save_mapping(
    app: AppContext,
    workspace_id: str,
    name: str,
    mapping: WebhookMapping,
    *,
    actor: str,
    origin: Mapping[str, str | None] | None = None,
) -> bool:
    """Store `mapping` as `name` (audited with before and after); whether anything changed."""
    check_name(name)
    return InputSettingsRepository(app.db).put(
        workspace_id,
        STORE_PREFIX + name,
        mapping.model_dump(mode="json", exclude_defaults=True),
        actor=actor,
        origin=origin,
    )


def delete_mapping(
    app: AppContext,
    workspace_id: str,
    name: str,
    *,
    actor: str,
    origin: Mapping[str, str | None] | None = None,
) -> bool:
    """Remove the saved mapping `name` (a replaced preset comes back); whether there was one."""
    return InputSettingsRepository(app.db).put(
        workspace_id, STORE_PREFIX + name, None, actor=actor, origin=origin
    )


def adapt_with(name: str, mapping: WebhookMapping, payload: object) -> InputResult:
    """`payload` read through `mapping` (inputs.base.InputError when unreadable as a whole)."""
    return WebhookAdapter(name).adapt(payload, mapping)


@dataclass(frozen=True)
class DryRecord:
    record: int
    alert: Alert | None
    resolved: bool = False
    warnings: list[dict[str, str]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


@dataclass(frozen=True)
class DryRun:
    mapping: str
    records: list[DryRecord]
    warnings: list[str]  # about the payload as a whole

    def as_json(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping,
            "records": [
                {
                    "record": r.record,
                    "status": "refused" if r.alert is None else "accepted",
                    "alert": r.alert.model_dump(mode="json") if r.alert is not None else None,
                    "resolved": r.resolved,
                    "warnings": r.warnings,
                    "errors": [{"field": e.field, "message": e.problem} for e in r.errors],
                }
                for r in self.records
            ],
            "warnings": self.warnings,
        }


def dry_run(result: InputResult, name: str) -> DryRun:
    """What `result` (an adapted payload) would store, record by record; nothing is stored."""
    records = [
        DryRecord(r.record, r.alert, r.resolved, [w.to_json() for w in r.warnings])
        for r in result.accepted
    ]
    refused: dict[int, list[RecordError]] = {}
    for error in result.errors:
        refused.setdefault(error.record, []).append(error)
    records += [DryRecord(number, None, errors=found) for number, found in refused.items()]
    records.sort(key=lambda r: r.record)
    return DryRun(name, records, list(result.warnings))
