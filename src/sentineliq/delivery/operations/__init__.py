"""Operations: the kinds of work a delivery does at a ticket system.

`base` is the contract (Operation, Job, Done) and the registry; one module per kind: `create`
(file a ticket), `report` (repeats as a coalesced comment, reopen or relate), `transition`
(resolve or dismiss from SentinelIQ). Every kind is registered here.
"""

from sentineliq.delivery.operations.base import (
    Done,
    Job,
    Operation,
    WaitFor,
    operation_for,
    register,
)
from sentineliq.delivery.operations.create import CreateIssue
from sentineliq.delivery.operations.report import ReportOccurrences
from sentineliq.delivery.operations.transition import TransitionIssue

for _operation in (CreateIssue(), ReportOccurrences(), TransitionIssue()):
    register(_operation)

__all__ = ["Done", "Job", "Operation", "WaitFor", "operation_for", "register"]
