"""ORM models. Only repositories touch these; upper layers get frozen records instead."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sentineliq.storage.types import PortableJSON, UTCDateTime

# Deterministic constraint names: SQLite batch migrations can only alter constraints they can name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DELIVERY_STATUSES = ("pending", "in_flight", "delivered", "failed", "dead", "held", "discarded")
# The claim's two kinds of due rows, each with a partial index in the order it is claimed in:
# waiting ones by provider and available_at, in-flight ones by lease_until (claimable once it
# passed). The
# predicates are literal SQL so both planners match them to the index, whatever the parameters.
WAITING_STATUSES = ("failed", "pending")
LEASED_STATUS = "in_flight"
WAITING_PREDICATE = "status IN (" + ", ".join(f"'{s}'" for s in WAITING_STATUSES) + ")"
LEASED_PREDICATE = f"status = '{LEASED_STATUS}'"
# What one claim of a delivery ended in (see DeliveryAttemptRow); "replayed" marks an operator's
# requeue, so a history reads true although the attempt counter starts again.
ATTEMPT_OUTCOMES = (
    "delivered",
    "adopted",
    "retry",
    "dead",
    "paused",
    "released",
    "reconcile",
    "replayed",
    "waiting",
    "unheld",
    "discarded",
)

ID = String(36)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How repeats are recognised when a source sends no fingerprint or id (see
    # sentineliq.lifecycle.fingerprint); None: the default recipe.
    fingerprint_recipe: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    # Per input format (sentineliq.inputs), the workspace's settings; None: the defaults.
    input_settings: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)


class TicketProviderRow(Base):
    __tablename__ = "ticket_providers"
    __table_args__ = (UniqueConstraint("workspace_id", "provider"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    provider: Mapped[str] = mapped_column(String(32))
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    # Secret fields are stored as {"$encrypted": "<fernet token>"}, never in plaintext.
    config: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    # Bumped on every config change; metadata caches key on it.
    config_version: Mapped[int] = mapped_column(Integer)
    # Set after an auth failure: its deliveries wait (not dead) until resumed or reconfigured.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_reason: Mapped[str | None] = mapped_column(Text)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "fingerprint"),
        Index(None, "workspace_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    fingerprint: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    threat_score: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    assignee_email: Mapped[str | None] = mapped_column(String(320))
    due_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    affected_assets: Mapped[list[str]] = mapped_column(PortableJSON)
    tags: Mapped[list[str]] = mapped_column(PortableJSON)
    # The full validated alert (model_dump(mode="json")), so the ticket can be rebuilt exactly.
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What ingest repaired to accept the alert, as [{"field": ..., "message": ...}].
    ingest_warnings: Mapped[list[dict[str, str]]] = mapped_column(
        PortableJSON, server_default=text("'[]'")
    )
    # Repeats of this alert (occurrences), the latest one's time and the highest severity seen.
    occurrence_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    peak_severity: Mapped[str | None] = mapped_column(String(16))
    # The last status change from outside ingest (a person, or the ticket: "jira:<name>"), and
    # the ticket system's resolution name while resolved there.
    resolution: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_changed_by: Mapped[str | None] = mapped_column(String(200))
    # What an input adapter was sent for this alert, verbatim (None: the native format).
    source_payload: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    # Providers that were not asked to file a ticket for it, and why (a brand-protection
    # detection below the gate): {"jira": "below the brand-protection gate: ..."}.
    not_ticketed: Mapped[dict[str, str] | None] = mapped_column(PortableJSON)


class AlertOccurrenceRow(Base):
    """A repeat of an alert: when, from which source record, and what it brought that is new."""

    __tablename__ = "alert_occurrences"
    __table_args__ = (
        UniqueConstraint("alert_id", "seq"),
        Index(None, "alert_id", "detected_at"),  # is this record a re-send?
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per alert
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_id: Mapped[str | None] = mapped_column(Text)  # the source's external id
    severity: Mapped[str] = mapped_column(String(16))
    # Severity rank before this occurrence, when it raised the alert's peak severity.
    raised_from: Mapped[str | None] = mapped_column(String(16))
    new_observables: Mapped[list[dict[str, str]]] = mapped_column(PortableJSON)
    new_assets: Mapped[list[str]] = mapped_column(PortableJSON)
    # Whether it brought anything new: only those are read to tell what the next one brings,
    # so a storm of identical repeats stays linear.
    brought_new: Mapped[bool] = mapped_column(Boolean)
    # SHA-256 of the record as received: tells a re-sent record without a source id.
    record_hash: Mapped[str] = mapped_column(String(64))


class AlertNoteRow(Base):
    """A note on an alert, e.g. a person's comment mirrored from its ticket."""

    __tablename__ = "alert_notes"
    # `source` names where it came from ("jira:<comment id>"), so a replayed webhook or a
    # reconcile that sees the same comment again never adds it twice.
    __table_args__ = (UniqueConstraint("alert_id", "source"), Index(None, "alert_id", "at"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # plain text (ADF flattened)
    source: Mapped[str] = mapped_column(String(200))


class InboundSyncRow(Base):
    """Per provider: what comes back from the ticket system (webhook secret, reconcile cursor)."""

    __tablename__ = "inbound_sync"

    provider_id: Mapped[str] = mapped_column(ID, _fk("ticket_providers.id"), primary_key=True)
    # A Fernet token (storage.crypto), never plaintext; shown once when generated.
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Start of the last successful reconcile run: the next one looks back to here (+ overlap).
    reconcile_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The integration's own account (GET /myself), cached per configuration version: comments
    # it wrote are never mirrored back.
    own_account_id: Mapped[str | None] = mapped_column(String(128))
    own_account_version: Mapped[int | None] = mapped_column(Integer)


class WebhookReceiptRow(Base):
    """A webhook delivery already applied (X-Atlassian-Webhook-Identifier): replays are no-ops."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("provider_id", "identifier"), Index(None, "received_at"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    provider_id: Mapped[str] = mapped_column(ID, _fk("ticket_providers.id"))
    identifier: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertObservableRow(Base):
    __tablename__ = "alert_observables"
    __table_args__ = (UniqueConstraint("alert_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))


class AlertAttackRefRow(Base):
    __tablename__ = "alert_attack_refs"
    __table_args__ = (UniqueConstraint("alert_id", "position"), Index(None, "attack_id"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    attack_id: Mapped[str] = mapped_column(String(16))


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("alert_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(Text)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collected_by: Mapped[str | None] = mapped_column(Text)
    # The chain's head: without it, deleting the newest custody entries would go unnoticed.
    custody_length: Mapped[int] = mapped_column(Integer)
    custody_head: Mapped[str] = mapped_column(String(64))


class CustodyEntryRow(Base):
    __tablename__ = "custody_entries"
    __table_args__ = (UniqueConstraint("evidence_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    evidence_id: Mapped[str] = mapped_column(ID, _fk("evidence.id"))
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class EvidenceFileRow(Base):
    """An uploaded evidence file: its hashes as computed on upload, where its content is kept
    (the store's key), and its custody chain (`evidence_id`: an evidence row of the alert,
    whose chain starts with the upload's "collected" entry). Never removed: a deletion marks it."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index(None, "alert_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    evidence_id: Mapped[str | None] = mapped_column(ID, _fk("evidence.id"))
    file_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    """The outbox: one row per piece of work for an alert at a provider (its ticket's create, a
    comment reporting repeats, a transition), numbered per operation by `sequence`."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # One create per ticket generation, one comment per window, ... (see `sequence`).
        UniqueConstraint("alert_id", "provider", "operation", "sequence"),
        # The lists' order, keyset-paged: all of a workspace's deliveries, or those in one status.
        Index(None, "workspace_id", "updated_at", "id"),
        Index(None, "workspace_id", "status", "updated_at", "id"),
        # The storm guard's count of a provider's recent creates per status (storage.alerts):
        # a range per status, read from the index alone.
        Index(None, "workspace_id", "provider", "operation", "status", "created_at"),
        Index(
            "ix_deliveries_due_waiting_by_provider",
            "workspace_id",
            "provider",
            "available_at",
            "id",
            sqlite_where=text(WAITING_PREDICATE),
            postgresql_where=text(WAITING_PREDICATE),
        ),
        Index(
            "ix_deliveries_due_leased",
            "lease_until",
            "id",
            sqlite_where=text(LEASED_PREDICATE),
            postgresql_where=text(LEASED_PREDICATE),
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")",
            name="status",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # When the current lease was taken: the start of the attempt in the history.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a create request was last about to be sent (committed before sending).
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # While set, an earlier create may have succeeded unseen: search for the idempotency key
    # before creating, and create again only after this time (the ticket system's search lag).
    reconcile_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optional fields the ticket system refused, as [{"field": ..., "reason": ...}].
    dropped_fields: Mapped[list[dict[str, str]]] = mapped_column(
        PortableJSON, server_default=text("'[]'")
    )
    # Time spent waiting for a paused provider, credited when the pause is lifted: it does not
    # count toward the maximum age.
    paused_seconds: Mapped[float] = mapped_column(Double, server_default=text("0"))
    # What the delivery does at the provider (an operation kind, e.g. "create_issue"); each kind
    # has its own idempotency rule, the outbox rules are shared.
    operation: Mapped[str] = mapped_column(String(32), server_default=text("'create_issue'"))
    # Numbers the deliveries of one operation for one alert and provider: the 2nd ticket after a
    # reopen window, the 5th comment. The unique key makes a double enqueue impossible.
    sequence: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The operation's arguments, e.g. {"first_seq": 3, "last_seq": 9} for a comment.
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON, server_default=text("'{}'"))


class DeliveryAttemptRow(Base):
    """One claim of a delivery and how it ended: the history operators read on dead letters."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index(None, "delivery_id", "started_at"),
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in ATTEMPT_OUTCOMES) + ")",
            name="outcome",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(ID, _fk("deliveries.id"))
    attempt: Mapped[int] = mapped_column(Integer)  # the delivery's attempts counter at the time
    worker_id: Mapped[str] = mapped_column(String(200))  # or the operator, for a replay
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    error_kind: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)  # secret-free; Jira's field messages too
    http_status: Mapped[int | None] = mapped_column(Integer)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)


class TicketLinkRow(Base):
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("alert_id", "provider"), Index(None, "delivery_id"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    delivery_id: Mapped[str] = mapped_column(ID, _fk("deliveries.id"))
    provider: Mapped[str] = mapped_column(String(32))
    issue_id: Mapped[str] = mapped_column(String(64))
    issue_key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The severity the ticket reflects (its priority); a rise above it raises the priority.
    severity: Mapped[str | None] = mapped_column(String(16))
    # Earlier tickets of this alert, oldest first: a repeat after the reopen window files a new
    # ticket linked to the last one, and the link moves on to it.
    previous_keys: Mapped[list[str]] = mapped_column(PortableJSON, server_default=text("'[]'"))


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_id", "at"), Index(None, "at"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign key: the audit trail must outlive the workspace it describes.
    workspace_id: Mapped[str | None] = mapped_column(ID)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON)


MEMBER_ROLES = ("owner", "admin", "member")


class UserRow(Base):
    """A person who signs in to the admin panel. Only an argon2id hash of the password is kept."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # Stored lower-cased, so uniqueness is case-insensitive on both databases.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "workspace_id"),
        Index(None, "workspace_id"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in MEMBER_ROLES) + ")",
            name="role",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """An admin-panel login. The id is the SHA-256 of the cookie value, which is never stored."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute end
    idle_timeout_s: Mapped[int] = mapped_column(Integer)
    # Useless without the cookie (double submit), so kept retrievable for forms and headers.
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKeyRow(Base):
    """A workspace's ingestion key: `siq_<prefix>_<secret>`, kept as a SHA-256 of the whole."""

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8), unique=True)  # the lookup handle, not secret
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InputUrlTokenRow(Base):
    """A sender URL's token for one input of one workspace: `siqh_<prefix>_<secret>`, kept as a
    SHA-256 of the whole (as API keys are); it authorizes posting to that input only."""

    __tablename__ = "input_url_tokens"
    __table_args__ = (Index(None, "workspace_id", "input_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    input_name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(8), unique=True)  # the lookup handle, not secret
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AssigneeMappingRow(Base):
    """An operator's fix for an assignee email the ticket system cannot resolve by search."""

    __tablename__ = "assignee_mappings"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    email: Mapped[str] = mapped_column(String(320))  # trimmed and case-folded
    account_id: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


THROTTLE_KINDS = ("address", "client", "device")


class LoginThrottleRow(Base):
    """Failed sign-ins per key (see storage/throttle.py): an address, a client IP, or a device.

    `key` is the canonical address (a SHA-256 for typed text that is not an address: it may be
    a password typed into the wrong box), the client IP, or a SHA-256 of the device id.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index(None, "last_failure_at"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in THROTTLE_KINDS) + ")", name="kind"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(320))
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AttackCatalogRow(Base):
    """The installation's synced MITRE ATT&CK catalog and how its last sync went. One row
    (id 1); absent or without data, tickets use the catalog embedded in the package."""

    __tablename__ = "attack_catalog"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(Text)  # the URL or file it came from
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)  # AttackCatalog.to_json()
    # The last attempt, successful or not: the status shows an unreachable source.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
