"""Chain of custody: verify it, add an entry, delete evidence (a tombstone entry). The one use
case behind the CLI, the API and the panel, so each refuses the same input naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.model import CustodyAction, CustodyEntry
from sentineliq.services.context import AppContext
from sentineliq.services.identity import InvalidFieldError
from sentineliq.storage.custodylog import CustodyRepository


def verify(app: AppContext, workspace_id: str, alert_id: str | None = None) -> list[CustodyCheck]:
    """Every chain of the workspace (deleted evidence included), or of one of its alerts."""
    return CustodyRepository(app.db).checks(workspace_id, alert_id=alert_id)


_EXAMPLE = "2026-12-03T09:30:00Z"


def parse_at(value: str | None) -> datetime | None:
    """An entry's time as typed (ISO 8601 with a timezone); None for now."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFieldError("at", f"must be an ISO 8601 time, e.g. {_EXAMPLE}") from None
    if moment.utcoffset() is None:
        raise InvalidFieldError("at", f"must include a timezone, e.g. {_EXAMPLE}")
    return moment


def check_view(check: CustodyCheck) -> dict[str, Any]:
    """A verified chain for JSON (CLI and API say the same)."""
    deleted = check.deleted
    return {
        "evidence_id": check.evidence_id,
        "alert_id": check.alert_id,
        "evidence_index": check.evidence_index,
        "name": check.name,
        "status": "intact" if check.ok else "broken",
        "broken_entry": check.broken_entry,
        "problem": None if check.ok else check.problem,
        "checked_at": check.checked_at.astimezone(UTC).isoformat(),
        "deleted_at": deleted.at.astimezone(UTC).isoformat() if deleted else None,
        "entries": [
            {
                "number": line.number,
                "action": line.action,
                "actor": line.actor,
                "at": line.at.astimezone(UTC).isoformat(),
                "location": line.location,
                "notes": line.notes,
            }
            for line in check.lines
        ],
    }


def new_entry(
    action: str,
    actor: str,
    *,
    at: datetime | None = None,
    location: str | None = None,
    notes: str | None = None,
) -> CustodyEntry:
    """A custody entry from a person's input; InvalidFieldError naming the first bad field."""
    try:
        custody_action = CustodyAction(action.strip().lower())
    except ValueError:
        choices = ", ".join(a.value for a in CustodyAction)
        raise InvalidFieldError("action", f"must be one of {choices}") from None
    try:
        return CustodyEntry(
            action=custody_action,
            actor=actor,
            at=at or datetime.now(UTC).replace(microsecond=0),  # as people read times
            location=(location or "").strip() or None,
            notes=notes if notes and notes.strip() else None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "entry"
        raise InvalidFieldError(field, error["msg"]) from None


def append(
    app: AppContext, workspace_id: str, evidence_id: str, entry: CustodyEntry, *, recorded_by: str
) -> CustodyCheck:
    """Chain `entry` to the workspace's evidence; NotFoundError, or InvalidStateError once
    the evidence is deleted."""
    return CustodyRepository(app.db).append(workspace_id, evidence_id, entry, actor=recorded_by)


def delete_evidence(
    app: AppContext,
    workspace_id: str,
    evidence_id: str,
    *,
    actor: str,
    reason: str,
    recorded_by: str,
) -> CustodyCheck:
    """Delete evidence: its record stays, closed by a `deleted` entry saying who and why."""
    if not reason.strip():
        raise InvalidFieldError("reason", "is required: say why the evidence is deleted")
    entry = new_entry(CustodyAction.DELETED.value, actor, notes=reason.strip())
    return append(app, workspace_id, evidence_id, entry, recorded_by=recorded_by)
