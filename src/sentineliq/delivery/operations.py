"""Operations: the kinds of work a delivery does at a ticket system.

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
from typing import ClassVar

from sentineliq.outbox import TicketRef
from sentineliq.providers.base import CreatedTicket, ErrorKind, ProviderError, TicketProvider
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRecord
from sentineliq.tickets.build import build_draft


@dataclass(frozen=True)
class Job:
    """One claimed delivery and what is needed to work it."""

    delivery: DeliveryRecord
    provider: TicketProvider
    alerts: AlertRepository


@dataclass(frozen=True)
class Done:
    """What an operation achieved: the ticket it made or acted on, and the fields it left out
    as [{"field": ..., "reason": ...}]."""

    ticket: TicketRef
    dropped_fields: Sequence[Mapping[str, str]] = ()


class Operation(ABC):
    kind: ClassVar[str]

    @abstractmethod
    def find_done(self, job: Job) -> Done | None:
        """The effect of an earlier, unanswered attempt, found by this kind's idempotency rule,
        if the ticket system shows it yet."""

    @abstractmethod
    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        """Do the work; call `before_send` right before a request that may take effect leaves
        (it records "possibly sent" and raises if the lease is gone). Raises ProviderError."""


def _done(ticket: CreatedTicket) -> Done:
    reasons = getattr(ticket, "drop_reasons", ())
    dropped = [{"field": d.field, "reason": d.reason} for d in reasons] or [
        {"field": name, "reason": ""} for name in ticket.dropped_fields
    ]
    return Done(TicketRef(ticket.id, ticket.key, ticket.url), dropped)


class CreateIssue(Operation):
    """File the alert's ticket. Idempotency: the delivery's key, stamped on the ticket (a label
    or property) and searched for."""

    kind = CREATE_ISSUE

    def find_done(self, job: Job) -> Done | None:
        existing = job.provider.find_existing(job.delivery.idempotency_key)
        return None if existing is None else _done(existing)

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        stored = job.alerts.get(job.delivery.alert_id)
        draft = build_draft(stored.alert, workspace_name=stored.workspace_name)
        ticket = job.provider.create_ticket(
            draft, idempotency_key=job.delivery.idempotency_key, before_send=before_send
        )
        return _done(ticket)


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


register(CreateIssue())
