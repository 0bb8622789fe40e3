"""Operations: the kinds of work a delivery does at a ticket system (the contract and registry).

A delivery carries an operation kind (`DeliveryRecord.operation`). Each kind knows how to do its
work and its own idempotency rule: how to find the effect of an earlier attempt whose answer was
lost (a create's label; later a marker in a comment, a transition's target status, an
attachment's filename and hash). Everything else (lease, retry, pause, dead letter, replay,
exactly-once bookkeeping) is the worker's and the outbox's, shared by every kind. Adding a kind
is adding one `Operation` and registering it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sentineliq.errors import SentinelIQError
from sentineliq.mitre.catalog import AttackCatalog
from sentineliq.outbox import FollowUp, TicketRef
from sentineliq.providers.base import ErrorKind, ProviderError, TicketProvider
from sentineliq.settings import EvidenceSettings
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.blobs import EvidenceStore
from sentineliq.storage.deliveries import DeliveryRecord
from sentineliq.storage.evidencefiles import EvidenceFileRepository
from sentineliq.tickets.content import DEFAULT_CONTENT, TicketContent


@dataclass(frozen=True)
class EvidenceAccess:
    """Where evidence files are recorded and kept, and how they reach tickets."""

    files: EvidenceFileRepository
    store: EvidenceStore
    settings: EvidenceSettings


@dataclass(frozen=True)
class Job:
    """One claimed delivery and what is needed to work it."""

    delivery: DeliveryRecord
    provider: TicketProvider
    alerts: AlertRepository
    now: datetime
    # The workspace's content settings, from the same config version as `provider`.
    content: TicketContent = DEFAULT_CONTENT
    # The installation's ATT&CK catalog (synced or embedded); None: the embedded one.
    catalog: AttackCatalog | None = None
    # Evidence files (attach deliveries); None: a job that has none to do.
    evidence: EvidenceAccess | None = None


@dataclass(frozen=True)
class Done:
    """What an operation achieved: the ticket it made or acted on (None when there is none any
    more), the fields it left out as [{"field": ..., "reason": ...}], what it did in a few words,
    the deliveries it calls for next, and the severity the ticket's priority now reflects."""

    ticket: TicketRef | None
    dropped_fields: Sequence[Mapping[str, str]] = ()
    message: str | None = None
    follow_ups: Sequence[FollowUp] = ()
    ticket_severity: str | None = None


class WaitFor(SentinelIQError):
    """The operation cannot start yet (e.g. a comment whose ticket is not filed): try again in
    `seconds`, without counting an attempt."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


class Operation(ABC):
    kind: ClassVar[str]
    # Whether the effect of a lost request may stay invisible for a while (Jira's search lags;
    # comments and an issue's status are read directly): then the worker waits out the lag
    # before it repeats the request, else it asks `find_done` and goes on at once.
    search_lag: ClassVar[bool] = True
    # Whether a delivery older than the maximum age is given up before it starts. Kinds that
    # act on an existing ticket may have waited for it (held, dead and replayed): they are
    # bounded by their attempts instead.
    ages_out: ClassVar[bool] = True

    @abstractmethod
    def find_done(self, job: Job) -> Done | None:
        """The effect of an earlier, unanswered attempt, found by this kind's idempotency rule,
        if the ticket system shows it yet."""

    @abstractmethod
    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        """Do the work; call `before_send` right before a request that may take effect leaves
        (it records "possibly sent" and raises if the lease is gone). Raises ProviderError."""


_REGISTRY: dict[str, Operation] = {}


def register(operation: Operation) -> Callable[[], None]:
    """Make `operation` available to workers; returns the function that takes it away again."""
    if operation.kind in _REGISTRY:
        raise ValueError(f"an operation {operation.kind!r} is registered already")
    _REGISTRY[operation.kind] = operation

    def unregister() -> None:
        _REGISTRY.pop(operation.kind, None)

    return unregister


def operation_for(kind: str) -> Operation:
    """The registered operation of `kind`; a configuration error (dead letter) if there is none."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ProviderError(ErrorKind.CONFIG, f"unknown delivery operation {kind!r}") from None
