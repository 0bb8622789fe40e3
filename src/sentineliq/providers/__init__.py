"""Ticket systems behind one small contract.

Exported here: the contract every ticket system implements (`TicketProvider`, the tickets it
creates, its connection report, the `AssigneeDirectory` it reads mappings through) and its
classified failure `ProviderError` with `ErrorKind` (the `TicketSystemError` branch of
sentineliq.errors). `registry` maps a provider's name to its config model and factory; `net`
guards outbound targets; `jira/` is the Jira Cloud provider.
"""

from sentineliq.providers.base import (
    PAUSING,
    RETRYABLE,
    AssigneeDirectory,
    CheckResult,
    ConnectionReport,
    CreatedTicket,
    ErrorKind,
    ProviderError,
    TicketProvider,
)

__all__ = [
    "PAUSING",
    "RETRYABLE",
    "AssigneeDirectory",
    "CheckResult",
    "ConnectionReport",
    "CreatedTicket",
    "ErrorKind",
    "ProviderError",
    "TicketProvider",
]
