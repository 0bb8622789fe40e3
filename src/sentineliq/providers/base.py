"""The provider contract every ticket system implements, and its classified errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO, Protocol, runtime_checkable

from sentineliq.errors import TicketSystemError
from sentineliq.lifecycle.policy import LifecyclePolicy
from sentineliq.lifecycle.ticketstate import IssueState, StatusCategory
from sentineliq.tickets.draft import Priority, TicketDraft

__all__ = [
    "MAX_BULK_CREATE",
    "PAUSING",
    "RETRYABLE",
    "AssigneeDirectory",
    "AttachmentProvider",
    "BulkCreate",
    "BulkTicketProvider",
    "CheckResult",
    "ConnectionReport",
    "CreatedTicket",
    "ErrorKind",
    "IssueState",
    "ProviderError",
    "StatusCategory",
    "TicketAttachment",
    "TicketOrError",
    "TicketProvider",
]


class ErrorKind(StrEnum):
    AUTH = "auth"  # credentials rejected (401)
    PERMISSION = "permission"  # authenticated but not allowed (403)
    VALIDATION = "validation"  # the ticket system refused fields (400)
    NOT_FOUND = "not_found"  # project/issue missing or invisible (404)
    RATE_LIMITED = "rate_limited"  # 429, carries retry_after when the server sent one
    UNAVAILABLE = "unavailable"  # 5xx / 503
    NETWORK = "network"  # nothing was sent or the connection failed before sending
    AMBIGUOUS = "ambiguous"  # the request was sent but no answer came back
    CONFIG = "config"  # our own configuration is unusable
    # The site refuses every call until a person signs in through the browser (403 with
    # X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE); each further call prolongs the lock.
    CAPTCHA = "captcha"
    # The project's create screen demands a field the configuration does not fill: every create
    # would be refused the same way, so it is the configuration's problem, not the alert's.
    REQUIRED_FIELD = "required_field"


RETRYABLE = frozenset(
    {ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE, ErrorKind.NETWORK, ErrorKind.AMBIGUOUS}
)

# Failures that no retry of this delivery can cure: the provider is paused (deliveries wait, none
# is dead-lettered) until an operator fixes the cause and the configuration changes or resumes.
PAUSING = frozenset({ErrorKind.AUTH, ErrorKind.CAPTCHA, ErrorKind.REQUIRED_FIELD})


class ProviderError(TicketSystemError):
    """A classified failure talking to a ticket system. Messages never contain secrets."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        field_errors: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.field_errors: dict[str, str] = dict(field_errors or {})

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def pauses_provider(self) -> bool:
        return self.kind in PAUSING

    def __str__(self) -> str:
        detail = "; ".join(f"{name}: {msg}" for name, msg in sorted(self.field_errors.items()))
        return f"{self.message} ({detail})" if detail else self.message

    def __repr__(self) -> str:
        kind, status = self.kind.value, self.status
        return f"ProviderError(kind={kind!r}, status={status!r}, message={str(self)!r})"


@dataclass(frozen=True)
class CreatedTicket:
    id: str
    key: str
    url: str  # human-facing URL (for Jira: <base>/browse/KEY)
    dropped_fields: tuple[str, ...] = ()  # optional fields the ticket system could not take


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ConnectionReport:
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)


class AssigneeDirectory(Protocol):
    """A workspace's own email -> account id mapping, consulted before any user search.

    Operators map the people a ticket system cannot resolve (hidden emails, several accounts).
    Providers only read it; where it is stored is not their concern.
    """

    def account_for(self, email: str) -> str | None:
        """The mapped account id for a trimmed, case-folded email, or None."""
        ...


# Jira Cloud's limit per POST /rest/api/3/issue/bulk ("Creates upto 50 issues").
MAX_BULK_CREATE = 50


@dataclass(frozen=True)
class BulkCreate:
    """One element of a bulk create: what `create_ticket` takes for one ticket. `before_resend`
    runs before a request repeating this element alone leaves (a refused description or
    optional field is retried as a single create, exactly as `create_ticket` would)."""

    draft: TicketDraft
    idempotency_key: str
    relates_to: str | None = None
    before_resend: Callable[[], None] | None = None


TicketOrError = CreatedTicket | ProviderError


@runtime_checkable
class BulkTicketProvider(Protocol):
    """An optional capability: filing many tickets with one request."""

    def create_tickets(
        self, items: Sequence[BulkCreate], *, before_send: Callable[[], None] | None = None
    ) -> list[TicketOrError]:
        """File up to MAX_BULK_CREATE tickets in one request; one outcome per item, in order:
        the ticket, or the ProviderError a single create of that item would have raised.

        `before_send` runs once, right before the bulk request leaves. A failure of the whole
        call raises ProviderError (AMBIGUOUS when some tickets may have been filed)."""
        ...


@dataclass(frozen=True)
class TicketAttachment:
    id: str
    filename: str
    size: int  # bytes; -1 when the ticket system did not say


@runtime_checkable
class AttachmentProvider(Protocol):
    """An optional capability: files attached to tickets."""

    def attachments(self, issue_key: str) -> list[TicketAttachment]:
        """The ticket's attachments, read directly (no search lag)."""
        ...

    def add_attachment(
        self,
        issue_key: str,
        filename: str,
        content: BinaryIO,
        content_type: str,
        *,
        before_send: Callable[[], None] | None = None,
    ) -> TicketAttachment:
        """Attach one file. A lost answer is AMBIGUOUS: look at `attachments` before sending
        it again. Too large for the ticket system: VALIDATION with status 413."""
        ...


class TicketProvider(Protocol):
    """One configured ticket system of one workspace."""

    name: str

    @property
    def request_timeout_s(self) -> float:
        """The longest one request may take (leases must outlast an in-flight create)."""
        ...

    def create_ticket(
        self,
        draft: TicketDraft,
        *,
        idempotency_key: str,
        before_send: Callable[[], None] | None = None,
        relates_to: str | None = None,
    ) -> CreatedTicket:
        """File one ticket. Raises ProviderError, classified, on any failure.

        `before_send` runs right before each create request leaves (after any rate-limit wait).
        `relates_to`: the key of an earlier ticket the new one is linked to ("relates to") by the
        same request; a site that cannot take the link gets the ticket without it, the link
        listed in `dropped_fields`.
        """
        ...

    def add_comment(
        self,
        issue_key: str,
        body: dict[str, Any],
        *,
        marker: str,
        before_send: Callable[[], None] | None = None,
    ) -> str:
        """Post a comment (an ADF document) carrying the idempotency `marker`; its id.

        A lost answer raises AMBIGUOUS: ask `find_comment` before posting again."""
        ...

    def find_comment(self, issue_key: str, marker: str) -> str | None:
        """The id of a comment carrying `marker` (newest first, bounded), None if none."""
        ...

    def set_issue_property(self, issue_key: str, key: str, value: Mapping[str, Any]) -> None:
        """Create or replace an issue property (JSON object, Jira's limit 32 KB)."""
        ...

    def find_existing(self, idempotency_key: str) -> CreatedTicket | None:
        """The ticket an earlier create with this key made, if the ticket system shows it yet."""
        ...

    def issue_state(self, issue_key: str, *, max_age_s: float = 30.0) -> IssueState:
        """The ticket's lifecycle state, read at most `max_age_s` seconds ago (0: now); our own
        transitions and edits invalidate it. Raises ProviderError (NOT_FOUND when it is gone)."""
        ...

    def transition(
        self,
        issue_key: str,
        names: Sequence[str],
        *,
        resolution: str | None = None,
        comment: dict[str, Any] | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> IssueState:
        """Move the ticket by the first of the configured transition `names` (compared trimmed
        and case-insensitively) it offers from its current status, setting `resolution` when
        the target is done and adding `comment` (ADF) in the same request; returns the state
        after it. No match: ProviderError(CONFIG) naming the configured and offered names. A
        lost answer is AMBIGUOUS: re-read the state before moving it again."""
        ...

    def set_priority(
        self, issue_key: str, priority: str, *, before_send: Callable[[], None] | None = None
    ) -> None:
        """Set the ticket's priority by name; the caller decides never to lower it."""
        ...

    @property
    def lifecycle(self) -> LifecyclePolicy:
        """Repeats, reopening, the status map and the storm guard, as configured."""
        ...

    def priority_name(self, priority: Priority) -> str:
        """The ticket system's name for a neutral priority (the configured priority map)."""
        ...

    def test_connection(self, *, assignee_email: str | None = None) -> ConnectionReport:
        """Run named checks (credentials, project, issue type, ...) without creating anything."""
        ...

    def close(self) -> None: ...
