"""Persistence: SQLite by default, PostgreSQL in production, one code path for both.

Repositories run one transaction per call and return frozen records, never ORM objects, so
nothing above this package can lazily touch the database. Typical wiring::

    db = Database.from_settings(settings)          # creates the schema on first use
    workspaces = WorkspaceRepository(db)
    providers = ProviderRepository(db, SecretBox.from_settings(settings))
    alerts, deliveries, audit = AlertRepository(db), DeliveryRepository(db), AuditRepository(db)
"""

from sentineliq.storage.alerts import AlertRepository, AlertSummary, IngestOutcome, StoredAlert
from sentineliq.storage.apikeys import ApiKeyRecord, ApiKeyRepository
from sentineliq.storage.assignees import AssigneeMappingRecord, AssigneeRepository
from sentineliq.storage.audit import AuditRecord, AuditRepository
from sentineliq.storage.crypto import MASK, SecretBox, SecretError, load_or_create_key_file
from sentineliq.storage.custody import ChainVerification, verify_custody_chain
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import (
    AttemptInfo,
    AttemptOutcome,
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    DeliveryView,
    DroppedField,
    TicketLinkRecord,
    idempotency_key_for,
)
from sentineliq.storage.errors import (
    AlreadyExistsError,
    InvalidStateError,
    LeaseLostError,
    NotFoundError,
    StorageError,
)
from sentineliq.storage.migrate import upgrade_to_head
from sentineliq.storage.providers import ProviderRecord, ProviderRepository
from sentineliq.storage.sessions import SessionRecord, SessionRepository
from sentineliq.storage.users import MembershipRecord, UserRecord, UserRepository
from sentineliq.storage.workspaces import WorkspaceRecord, WorkspaceRepository

__all__ = [
    "MASK",
    "AlertRepository",
    "AlertSummary",
    "AlreadyExistsError",
    "ApiKeyRecord",
    "ApiKeyRepository",
    "AssigneeMappingRecord",
    "AssigneeRepository",
    "AttemptInfo",
    "AttemptOutcome",
    "AttemptRecord",
    "AuditRecord",
    "AuditRepository",
    "ChainVerification",
    "Database",
    "DeliveryDetail",
    "DeliveryRecord",
    "DeliveryRepository",
    "DeliveryStatus",
    "DeliveryView",
    "DroppedField",
    "IngestOutcome",
    "InvalidStateError",
    "LeaseLostError",
    "MembershipRecord",
    "NotFoundError",
    "ProviderRecord",
    "ProviderRepository",
    "SecretBox",
    "SecretError",
    "SessionRecord",
    "SessionRepository",
    "StorageError",
    "StoredAlert",
    "TicketLinkRecord",
    "UserRecord",
    "UserRepository",
    "WorkspaceRecord",
    "WorkspaceRepository",
    "idempotency_key_for",
    "load_or_create_key_file",
    "upgrade_to_head",
    "verify_custody_chain",
]
