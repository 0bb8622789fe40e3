"""Alerts from an input format: the workspace's settings for it, and the source's own state.

An input adapter (sentineliq.inputs) turns a payload into records; they are stored like native
alerts. A record the source calls resolved then resolves its alert through the one status path
(alertstatus.change_status, origin "source"), so its tickets are transitioned like a person's
resolve; a record that fires again after that (a repeat) sets the alert back to new, and the
repeat's own handling reopens or re-files the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sentineliq.alerts.model import AlertStatus
from sentineliq.inputs.base import InputRecord, InputResult
from sentineliq.inputs.registry import ADAPTERS, adapter
from sentineliq.services.alertstatus import StatusOrigin, change_status
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import IngestReport, RecordOutcome, held_by_provider, note_held
from sentineliq.services.mappings import adapt_with, find_mapping
from sentineliq.storage.alerts import AlertRepository, IngestOutcome
from sentineliq.storage.alertstate import AlertStateRepository, QueuedTransition
from sentineliq.storage.inputsettings import InputSettingsRepository


def adapt(app: AppContext, workspace_id: str, name: str, payload: object) -> InputResult:
    """Input `name`'s records from `payload`, read with the workspace's settings for it.

    A name no built-in format has is a webhook mapping's (saved, or a preset): then
    services.mappings.UnknownMapping when there is none. KeyError for an unknown input;
    inputs.base.InputError for an unreadable payload."""
    if name not in ADAPTERS:
        view = find_mapping(app, workspace_id, name)
        return adapt_with(view.name, view.mapping, payload)
    found = adapter(name)
    stored = InputSettingsRepository(app.db).get(workspace_id, name)
    return found.adapt(payload, found.settings(stored))


@dataclass(frozen=True)
class SourceChange:
    record: int
    alert_id: str
    status: str  # what the alert became
    transitions: tuple[QueuedTransition, ...]  # ticket transitions queued by it


def follow_source(
    app: AppContext,
    name: str,
    records: Sequence[InputRecord],
    outcomes: Sequence[IngestOutcome],
    *,
    actor: str,
) -> list[SourceChange]:
    """Apply what the source says about each stored record's state (see the module doc)."""
    states = AlertStateRepository(app.db)
    changes: list[SourceChange] = []
    for record, outcome in zip(records, outcomes, strict=True):
        target: str | None = None
        if record.resolved:
            target = AlertStatus.RESOLVED.value
        elif (
            outcome.status == "occurrence"
            and states.state(outcome.alert_id).status == AlertStatus.RESOLVED.value
        ):
            target = AlertStatus.NEW.value
        if target is None:
            continue
        change = change_status(
            app,
            outcome.alert_id,
            target,
            actor=actor,
            reason=f"{'resolved' if record.resolved else 'firing again'} at the source ({name})",
            origin=StatusOrigin.SOURCE,
        )
        if change is not None:
            changes.append(
                SourceChange(record.record, outcome.alert_id, change.after, change.transitions)
            )
    return changes


@dataclass(frozen=True)
class InputReport:
    report: IngestReport
    changes: list[SourceChange]
    warnings: list[str]  # about the payload as a whole


def ingest_payload(
    app: AppContext, workspace_id: str, name: str, payload: object, *, actor: str
) -> InputReport:
    """Adapt, store (one transaction, like ingest_text's chunk) and follow the source's state:
    the use case behind the demo; the API does the same through its shared ingest group."""
    adapted = adapt(app, workspace_id, name, payload)
    report = IngestReport(errors=adapted.errors, refused=adapted.parse_result().refused_records)
    if adapted.accepted:
        outcomes = AlertRepository(app.db).ingest(
            workspace_id,
            [record.alert for record in adapted.accepted],
            actor=actor,
            warnings=[record.warnings for record in adapted.accepted],
            raw=[record.raw for record in adapted.accepted],
        )
        report.outcomes.extend(
            RecordOutcome(record.record, outcome, record.warnings)
            for record, outcome in zip(adapted.accepted, outcomes, strict=True)
        )
        note_held(workspace_id, held_by_provider(outcomes))
    changes = follow_source(
        app, name, adapted.accepted, [o.outcome for o in report.outcomes], actor=actor
    )
    return InputReport(report, changes, adapted.warnings)


def settings_of(app: AppContext, workspace_id: str, name: str) -> Any:
    """Input `name`'s settings in effect for the workspace (stored, or the defaults)."""
    found = adapter(name)
    return found.settings(InputSettingsRepository(app.db).get(workspace_id, name))
