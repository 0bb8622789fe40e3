"""The events a delivery's holder (or an operator) reports, with the data each one carries.

A report is a short sequence: optionally an event about the "possibly sent" marker (Unanswered,
Refused), then the attempt's outcome. Callers say what happened; the state machine (`states`)
and storage decide what that means for the row, its history and the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sentineliq.outbox.states import EventKind


@dataclass(frozen=True)
class DroppedField:
    """An optional field the ticket system would not take, so the ticket was filed without it."""

    field: str
    reason: str  # may be "" when the provider gave none


@dataclass(frozen=True)
class AttemptInfo:
    """What the worker observed during a successful attempt, kept in the history row."""

    message: str | None = None
    http_status: int | None = None
    details: Mapping[str, Any] | None = None
    started_at: datetime | None = None  # defaults to when the delivery was claimed


@dataclass(frozen=True)
class TicketRef:
    """The ticket an operation created or acted on."""

    issue_id: str
    key: str
    url: str


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, classified and free of secrets: operators read it."""

    error_kind: str
    message: str
    http_status: int | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Event:
    kind: ClassVar[EventKind]


@dataclass(frozen=True)
class PossiblySent(Event):
    """Committed just before a request leaves. `reconcile_until`: until when the ticket system's
    search may hide its effect; `lease_until`: the lease, extended to cover the request."""

    kind = EventKind.POSSIBLY_SENT
    reconcile_until: datetime | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True)
class Unanswered(Event):
    """The request went out and its answer was lost: search before any new request."""

    kind = EventKind.UNANSWERED
    reconcile_until: datetime


@dataclass(frozen=True)
class Refused(Event):
    """The ticket system's answer proves no earlier request of this delivery took effect and
    this one did nothing either, so nothing needs searching for."""

    kind = EventKind.REFUSED


@dataclass(frozen=True)
class FollowUp:
    """A delivery that an operation's outcome calls for, queued in the same transaction as the
    outcome (e.g. a new linked ticket once a repeat found its ticket done too long ago)."""

    operation: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Created(Event):
    """The operation took effect. `ticket`: what it made or acted on (None when its ticket is
    gone for good, e.g. discarded while held); `ticket_severity`: the severity the ticket's
    priority now reflects."""

    kind = EventKind.CREATED
    ticket: TicketRef | None
    dropped_fields: Sequence[Mapping[str, str] | DroppedField | str] = ()
    info: AttemptInfo = field(default_factory=AttemptInfo)
    follow_ups: Sequence[FollowUp] = ()
    ticket_severity: str | None = None


@dataclass(frozen=True)
class Adopted(Created):
    """Found by its idempotency key after an unanswered request."""

    kind = EventKind.ADOPTED


@dataclass(frozen=True)
class RetryScheduled(Event):
    kind = EventKind.RETRY_SCHEDULED
    failure: Failure
    retry_at: datetime


@dataclass(frozen=True)
class Dead(Event):
    kind = EventKind.DEAD
    failure: Failure


@dataclass(frozen=True)
class Deferred(Event):
    """Waiting until `available_at` for the search to show an earlier request's effect."""

    kind = EventKind.DEFERRED
    available_at: datetime
    reason: str


@dataclass(frozen=True)
class Throttled(Deferred):
    """Our own rate budget had no room: nothing was sent."""

    kind = EventKind.THROTTLED


@dataclass(frozen=True)
class Waiting(Deferred):
    """Another delivery must be done first (a comment waits for its ticket's create)."""

    kind = EventKind.WAITING


@dataclass(frozen=True)
class Unheld(Event):
    """An operator released a delivery the storm guard held."""

    kind = EventKind.UNHELD


@dataclass(frozen=True)
class Discarded(Event):
    """An operator discarded a delivery the storm guard held: its ticket is not filed."""

    kind = EventKind.DISCARDED


@dataclass(frozen=True)
class Paused(Event):
    """The provider is paused (credentials, CAPTCHA lock, create screen); the delivery waits.
    `config_version`: the configuration that failed; a pause from a replaced one is ignored."""

    kind = EventKind.PAUSED
    failure: Failure
    config_version: int | None = None


@dataclass(frozen=True)
class Released(Event):
    kind = EventKind.RELEASED
    reason: str = "handed back untried"


@dataclass(frozen=True)
class Replayed(Event):
    """An operator requeued a dead (or scheduled) delivery."""

    kind = EventKind.REPLAYED


def failed(failure: Failure, retry_at: datetime | None) -> RetryScheduled | Dead:
    """The outcome of a failed attempt: retried at `retry_at`, or dead when there is none."""
    return Dead(failure) if retry_at is None else RetryScheduled(failure, retry_at)
