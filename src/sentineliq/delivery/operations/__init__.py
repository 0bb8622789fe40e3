"""Operations: the kinds of work a delivery does at a ticket system.

`base` is the contract (Operation, Job, Done) and the registry; one module per kind: `create`
(file a ticket), `report` (repeats as a coalesced comment, reopen or relate), `transition`
(resolve or dismiss from SentinelIQ), `attach` (an evidence file to the ticket, or a link when
too large). Every kind is registered here.
"""

from sentineliq.delivery.operations.attach import AttachEvidence
from sentineliq.delivery.operations.base import (
    Done,
    EvidenceAccess,
    Job,
    Operation,
    WaitFor,
    operation_for,
    register,
)
from sentineliq.delivery.operations.create import CreateIssue
from sentineliq.delivery.operations.report import ReportOccurrences
from sentineliq.delivery.operations.transition import TransitionIssue

for _operation in (CreateIssue(), ReportOccurrences(), TransitionIssue(), AttachEvidence()):
    register(_operation)

__all__ = ["Done", "EvidenceAccess", "Job", "Operation", "WaitFor", "operation_for", "register"]
