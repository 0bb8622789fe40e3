"""A person resolves, dismisses or reopens an alert: the one use case behind the API, the CLI
and the panel, so each face refuses the same input the same way and names the same actor.

Resolve and dismiss queue a transition delivery per provider that files the alert's tickets
(`alertstatus.change_status` with origin "user"); reopen sets the alert back to "new" in
SentinelIQ only: its tickets stay as they are (Jira has no reopen that SentinelIQ may assume).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sentineliq.alerts.model import AlertStatus
from sentineliq.services.alertstatus import StatusOrigin, change_status
from sentineliq.services.context import AppContext
from sentineliq.services.identity import InvalidFieldError
from sentineliq.storage.alertstate import AlertStateRepository, QueuedTransition
from sentineliq.storage.errors import InvalidStateError, NotFoundError

REASON_MAX = 2000


class TriageAction(StrEnum):
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    REOPEN = "reopen"

    @property
    def status(self) -> str:
        return _TARGET[self]


_TARGET = {
    TriageAction.RESOLVE: AlertStatus.RESOLVED.value,
    TriageAction.DISMISS: AlertStatus.DISMISSED.value,
    TriageAction.REOPEN: AlertStatus.NEW.value,
}


@dataclass(frozen=True)
class Triaged:
    alert_id: str
    before: str
    status: str
    actor: str
    transitions: tuple[QueuedTransition, ...]  # empty for reopen, or when no ticket is filed


def clean_reason(reason: str | None) -> str:
    """The reason, trimmed; InvalidFieldError("reason") when missing, blank or too long."""
    text = (reason or "").strip()
    if not text:
        raise InvalidFieldError("reason", "is required (say why, for the ticket and the audit)")
    if len(text) > REASON_MAX:
        raise InvalidFieldError("reason", f"is longer than {REASON_MAX} characters")
    return text


def triage(
    app: AppContext,
    workspace_id: str,
    alert_id: str,
    action: TriageAction,
    *,
    actor: str,
    reason: str | None,
) -> Triaged:
    """Apply `action` to the workspace's alert, audited as `actor`.

    NotFoundError for an alert that is not the workspace's (another workspace's looks missing);
    InvalidStateError when the alert already has that status (nothing is queued twice).
    """
    text = clean_reason(reason)
    repository = AlertStateRepository(app.db)
    try:
        state = repository.state(alert_id)
    except NotFoundError:
        state = None
    if state is None or state.workspace_id != workspace_id:
        raise NotFoundError(f"no alert {alert_id} in this workspace")
    target = action.status
    if state.status == target:
        raise InvalidStateError(f"the alert is already {target}")
    change = change_status(
        app, alert_id, target, actor=actor, reason=text, origin=StatusOrigin.USER
    )
    if change is None:  # another caller set the same status in between: theirs counts
        raise InvalidStateError(f"the alert is already {target}")
    return Triaged(alert_id, change.before, change.after, actor, change.transitions)
