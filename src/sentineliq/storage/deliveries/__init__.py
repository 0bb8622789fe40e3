"""The outbox: deliveries of alerts to ticket providers, claimed by workers under a lease.

A worker claims due rows (`claims`: one statement, safe across processes), does the provider
call, then reports what happened as events with `record` (`transitions`: the one path that
writes state, history row and audit entry together). Reports only take effect while the lease
is still the worker's: once a lease expires the row may be claimed again, and the late worker's
report is refused with LeaseLostError. `worker_id` must be unique per claimant.

Exactly-once support: PossiblySent is committed immediately before a request
goes out, so after any crash the next claimant knows the ticket may exist (`last_sent_at`, and
`reconcile_until` while the ticket system's search may still hide it).

Every report also appends a row to the delivery's attempt history (`history`), which is what an
operator reads on a dead letter. Messages and details stored there are shown to operators: pass
classified, secret-free text (known credential shapes are masked regardless).

The states, events and legal transitions are `sentineliq.outbox`'s table.
"""

from sentineliq.outbox import (
    RECONCILE_PHASE,
    AttemptInfo,
    AttemptOutcome,
    DeliveryStatus,
    DroppedField,
    phase_of,
)
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.claims import ClaimMixin
from sentineliq.storage.deliveries.holds import HoldMixin
from sentineliq.storage.deliveries.reads import ListCursor, ReadMixin
from sentineliq.storage.deliveries.records import (
    CREATE_ISSUE,
    MAX_ATTEMPT_MESSAGE_LENGTH,
    MAX_DROP_REASON_LENGTH,
    MAX_ERROR_LENGTH,
    REDUCED_MARK,
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    DeliveryView,
    TicketLinkRecord,
    idempotency_key_for,
    link_record,
    new_delivery,
)
from sentineliq.storage.deliveries.replay import ReplayMixin
from sentineliq.storage.deliveries.transitions import ConnectionLostError, connection_lost


class DeliveryRepository(ReplayMixin, HoldMixin, ClaimMixin, ReadMixin):
    """The outbox's repository: claims, reports (events), replays, storm-guard holds and read
    models."""

    def __init__(self, db: Database) -> None:
        self._db = db


__all__ = [
    "CREATE_ISSUE",
    "MAX_ATTEMPT_MESSAGE_LENGTH",
    "MAX_DROP_REASON_LENGTH",
    "MAX_ERROR_LENGTH",
    "RECONCILE_PHASE",
    "REDUCED_MARK",
    "AttemptInfo",
    "AttemptOutcome",
    "AttemptRecord",
    "ConnectionLostError",
    "DeliveryDetail",
    "DeliveryRecord",
    "DeliveryRepository",
    "DeliveryStatus",
    "DeliveryView",
    "DroppedField",
    "ListCursor",
    "TicketLinkRecord",
    "connection_lost",
    "idempotency_key_for",
    "link_record",
    "new_delivery",
    "phase_of",
]
