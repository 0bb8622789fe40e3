"""The one way an alert's status changes after ingest.

Every change goes through `change_status`, with its origin: "ticket" when the ticket system said
so (a webhook, the reconcile poll), "user" when a person did it in SentinelIQ, "source" when the
alert's source said so (Alertmanager's `resolved`). Only a "user" or "source" change may ever be
sent on to the ticket (that outbound side is added separately): a change that
came from the ticket must never go back to it, or the two would echo each other forever.

A person resolving or dismissing an alert moves its tickets too: a transition delivery per
provider, queued with the change (see delivery/operations/transition.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sentineliq.alerts.model import AlertStatus
from sentineliq.services.context import AppContext
from sentineliq.storage.alertstate import AlertStateRepository, StatusChange

# The statuses a person's change sends on to the alert's tickets.
OUTBOUND_STATUSES = frozenset({AlertStatus.RESOLVED.value, AlertStatus.DISMISSED.value})


class StatusOrigin(StrEnum):
    TICKET = "ticket"  # from the ticket system: never sent back
    USER = "user"  # from a person in SentinelIQ
    SOURCE = "source"  # from the alert's source (an input saying "resolved"): tickets follow


def change_status(
    app: AppContext,
    alert_id: str,
    status: str,
    *,
    actor: str,
    reason: str,
    origin: StatusOrigin,
    resolution: str | None = None,
    at: datetime | None = None,
) -> StatusChange | None:
    """Set the alert's status (and resolution), audited; None when nothing changed."""
    return AlertStateRepository(app.db).change_status(
        alert_id,
        status,
        resolution=resolution,
        actor=actor,
        reason=reason,
        origin=origin.value,
        at=at,
        outbound=origin in (StatusOrigin.USER, StatusOrigin.SOURCE) and status in OUTBOUND_STATUSES,
    )
