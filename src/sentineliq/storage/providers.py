"""Ticket-provider configuration per workspace, with secret fields encrypted at rest."""

from __future__ import annotations

import builtins
import copy
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.logs import scrub
from sentineliq.storage.audit import add_audit
from sentineliq.storage.crypto import MASK, SecretBox, SecretError
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import DeliveryRow, TicketProviderRow, WorkspaceRow, new_id
from sentineliq.storage.types import utcnow

ENCRYPTED = "$encrypted"  # a secret field is stored as {"$encrypted": "<fernet token>"}
_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_REASON_LENGTH = 2000


@dataclass(frozen=True, repr=False)
class ProviderRecord:
    id: str
    workspace_id: str
    provider: str
    is_enabled: bool
    # Secret fields hold plaintext only when `decrypted`; otherwise they read MASK.
    config: Mapping[str, Any]
    secret_fields: frozenset[str]  # the fields stored encrypted
    config_version: int
    created_at: datetime
    updated_at: datetime
    decrypted: bool
    # Paused after an auth failure: deliveries wait until `resume` or a changed configuration.
    paused_at: datetime | None = None
    paused_reason: str | None = None

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_fields)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def __repr__(self) -> str:
        # Records get logged; a decrypted one must not leak its secrets that way.
        shown = {
            key: MASK if key in self.secret_fields else value for key, value in self.config.items()
        }
        return (
            f"ProviderRecord(provider={self.provider!r}, workspace_id={self.workspace_id!r}, "
            f"is_enabled={self.is_enabled}, config_version={self.config_version}, "
            f"paused={self.is_paused}, config={shown!r})"
        )


def _is_encrypted(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and set(value) == {ENCRYPTED}
        and isinstance(value[ENCRYPTED], str)
    )


def _secret_fields(stored: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(key for key, value in stored.items() if _is_encrypted(value))


def masked(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {key: MASK if _is_encrypted(value) else value for key, value in stored.items()}


def _revealed(stored: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    return {
        key: box.decrypt(value[ENCRYPTED]) if _is_encrypted(value) else value
        for key, value in stored.items()
    }


def _to_record(row: TicketProviderRow, box: SecretBox, *, decrypt: bool) -> ProviderRecord:
    config = _revealed(row.config, box) if decrypt else masked(row.config)
    return ProviderRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        provider=row.provider,
        is_enabled=row.is_enabled,
        config=MappingProxyType(config),
        secret_fields=_secret_fields(row.config),
        config_version=row.config_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decrypted=decrypt,
        paused_at=row.paused_at,
        paused_reason=row.paused_reason,
    )


def _locked_row(session: Session, workspace_id: str, provider: str) -> TicketProviderRow:
    row = session.scalar(
        select(TicketProviderRow)
        .where(
            TicketProviderRow.workspace_id == workspace_id,
            TicketProviderRow.provider == provider,
        )
        .with_for_update()
    )
    if row is None:
        raise NotFoundError(f"provider {provider!r} is not configured in this workspace")
    return row


def pause_provider(
    session: Session,
    workspace_id: str,
    provider: str,
    reason: str,
    *,
    actor: str,
    config_version: int | None = None,
    now: datetime | None = None,
) -> TicketProviderRow:
    """Pause in `session`'s transaction (see ProviderRepository.pause); returns the row."""
    row = _locked_row(session, workspace_id, provider)
    if row.paused_at is not None:
        return row  # the first failure's time and reason stand
    if config_version is not None and config_version != row.config_version:
        return row  # the failure came from a configuration that has been replaced since
    row.paused_at = now or utcnow()
    row.paused_reason = _short(scrub(reason))
    row.updated_at = row.paused_at
    add_audit(
        session,
        "provider.paused",
        actor=actor,
        workspace_id=workspace_id,
        target=f"provider:{provider}",
        details={
            "provider": provider,
            "reason": row.paused_reason,
            "config_version": row.config_version,
        },
    )
    return row


# Deliveries that waited for the provider during a pause (not yet delivered or given up).
_WAITING = ("pending", "in_flight", "failed")


def _credit_pause(
    session: Session, row: TicketProviderRow, paused_at: datetime, now: datetime
) -> None:
    """Add the pause to each waiting delivery's `paused_seconds`, so the maximum age counts only
    time the provider could have delivered it: from the pause, or from its creation if later."""
    waiting = (
        DeliveryRow.workspace_id == row.workspace_id,
        DeliveryRow.provider == row.provider,
        DeliveryRow.status.in_(_WAITING),
    )
    whole = max(0.0, (now - paused_at).total_seconds())
    session.execute(
        update(DeliveryRow)
        .where(*waiting, DeliveryRow.created_at <= paused_at)
        .values(paused_seconds=DeliveryRow.paused_seconds + whole)
        .execution_options(synchronize_session=False)
    )
    later = session.execute(
        select(DeliveryRow.id, DeliveryRow.created_at, DeliveryRow.paused_seconds).where(
            *waiting, DeliveryRow.created_at > paused_at
        )
    ).all()
    if later:  # one executemany by primary key (row locks held: the provider row is locked)
        session.execute(
            update(DeliveryRow),
            [
                {
                    "id": delivery_id,
                    "paused_seconds": paused + max(0.0, (now - created_at).total_seconds()),
                }
                for delivery_id, created_at, paused in later
            ],
        )


def _resume(
    session: Session, row: TicketProviderRow, *, actor: str, reason: str, now: datetime
) -> None:
    paused_at, paused_reason = row.paused_at, row.paused_reason
    row.paused_at = None
    row.paused_reason = None
    row.updated_at = now
    if paused_at is not None:
        _credit_pause(session, row, paused_at, now)
    add_audit(
        session,
        "provider.resumed",
        actor=actor,
        workspace_id=row.workspace_id,
        target=f"provider:{row.provider}",
        details={
            "provider": row.provider,
            "reason": reason,
            "paused_at": paused_at.isoformat() if paused_at is not None else None,
            "paused_reason": paused_reason,
        },
    )


def _short(message: str) -> str:
    return message if len(message) <= MAX_REASON_LENGTH else message[: MAX_REASON_LENGTH - 1] + "…"


class ProviderRepository:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self._db = db
        self._box = secrets

    def save(
        self,
        workspace_id: str,
        provider: str,
        config: Mapping[str, Any],
        secret_fields: Collection[str] = (),
        enabled: bool = True,
        *,
        actor: str = "system",
    ) -> ProviderRecord:
        """Create or replace the provider's configuration; returns it masked.

        Fields named in `secret_fields` (top-level keys, string values) are encrypted. A secret
        given as MASK keeps the stored secret, so a form can round-trip masked values.
        `config_version` is bumped only when the configuration (in plaintext) actually changed.
        """
        if not _PROVIDER_NAME.match(provider):
            raise ValueError("a provider name is 1 to 32 lowercase letters, digits, '-' or '_'")
        secret = frozenset(secret_fields)
        for key in secret:
            value = config.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key}: a secret field must be a string")
        try:
            plain = json.loads(json.dumps(dict(config)))  # a deep, JSON-clean copy
        except (TypeError, ValueError):
            raise ValueError("a provider configuration must be JSON-serialisable") from None
        # One retry: a concurrent first save of the same provider wins the insert, we update it.
        for attempt in range(2):
            try:
                with self._db.session() as session:
                    return self._save(
                        session, workspace_id, provider, plain, secret, enabled, actor
                    )
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _save(
        self,
        session: Session,
        workspace_id: str,
        provider: str,
        plain: dict[str, Any],
        secret: frozenset[str],
        enabled: bool,
        actor: str,
    ) -> ProviderRecord:
        if session.get(WorkspaceRow, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} not found")
        row = session.scalar(
            select(TicketProviderRow)
            .where(
                TicketProviderRow.workspace_id == workspace_id,
                TicketProviderRow.provider == provider,
            )
            .with_for_update()
        )
        old_stored: dict[str, Any] = dict(row.config) if row is not None else {}
        new_stored: dict[str, Any] = {}
        for key, value in plain.items():
            if key not in secret or value is None:
                new_stored[key] = value
            elif value == MASK:
                if not _is_encrypted(old_stored.get(key)):
                    raise ValueError(f"{key}: there is no stored secret to keep; enter it")
                new_stored[key] = copy.deepcopy(old_stored[key])
            else:
                new_stored[key] = {ENCRYPTED: self._box.encrypt(value)}
        changed = row is None or self._differs(old_stored, new_stored)
        now = utcnow()
        if row is None:
            row = TicketProviderRow(
                id=new_id(),
                created_at=now,
                updated_at=now,
                workspace_id=workspace_id,
                provider=provider,
                is_enabled=enabled,
                config=new_stored,
                config_version=1,
            )
            session.add(row)
        else:
            if changed:
                # Unchanged configs keep their stored tokens: Fernet output differs every time.
                row.config = new_stored
                row.config_version += 1
            if changed or row.is_enabled != enabled:
                row.updated_at = now
            row.is_enabled = enabled
            if changed and row.paused_at is not None:
                # A pause waits for someone to fix the configuration; this may be the fix.
                _resume(session, row, actor=actor, reason="configuration changed", now=now)
        add_audit(
            session,
            "provider.configured",
            actor=actor,
            workspace_id=workspace_id,
            target=f"provider:{provider}",
            details={
                "provider": provider,
                "enabled": enabled,
                "changed": changed,
                "config_version": row.config_version,
                "config": masked(row.config),
                "encrypted_fields": sorted(_secret_fields(row.config)),
            },
        )
        session.flush()
        return _to_record(row, self._box, decrypt=False)

    def _differs(self, old_stored: Mapping[str, Any], new_stored: Mapping[str, Any]) -> bool:
        if _secret_fields(old_stored) != _secret_fields(new_stored):
            return True
        try:
            return _revealed(old_stored, self._box) != _revealed(new_stored, self._box)
        except SecretError:
            # Secrets stored under a key we no longer have: the new config replaces them.
            return True

    def get(self, workspace_id: str, provider: str, *, decrypt: bool) -> ProviderRecord | None:
        """The configuration, with secrets in plaintext only if `decrypt` (raises SecretError if
        the key does not match)."""
        with self._db.session() as session:
            row = session.scalar(
                select(TicketProviderRow).where(
                    TicketProviderRow.workspace_id == workspace_id,
                    TicketProviderRow.provider == provider,
                )
            )
            return _to_record(row, self._box, decrypt=decrypt) if row is not None else None

    def list(self, workspace_id: str) -> builtins.list[ProviderRecord]:
        """All providers of the workspace, masked."""
        return self._list(workspace_id, enabled_only=False, decrypt=False)

    def list_enabled(
        self, workspace_id: str, *, decrypt: bool = False
    ) -> builtins.list[ProviderRecord]:
        return self._list(workspace_id, enabled_only=True, decrypt=decrypt)

    def _list(
        self, workspace_id: str, *, enabled_only: bool, decrypt: bool
    ) -> builtins.list[ProviderRecord]:
        query = (
            select(TicketProviderRow)
            .where(TicketProviderRow.workspace_id == workspace_id)
            .order_by(TicketProviderRow.provider)
        )
        if enabled_only:
            query = query.where(TicketProviderRow.is_enabled.is_(True))
        with self._db.session() as session:
            return [_to_record(row, self._box, decrypt=decrypt) for row in session.scalars(query)]

    def delete(
        self,
        workspace_id: str,
        provider: str,
        *,
        actor: str,
        origin: Mapping[str, str] | None = None,
    ) -> None:
        """Remove the settings and their encrypted secrets, audited in the same transaction.

        Deliveries already queued for the provider stay and wait (a provider that is not
        configured is never claimed for), so configuring it again delivers them.
        Raises NotFoundError when it is not configured.
        """
        with self._db.session() as session:
            row = _locked_row(session, workspace_id, provider)
            version = row.config_version
            session.delete(row)
            add_audit(
                session,
                "provider.deleted",
                actor=actor,
                workspace_id=workspace_id,
                target=f"provider:{provider}",
                details={"provider": provider, "config_version": version, **(origin or {})},
            )

    def set_enabled(
        self, workspace_id: str, provider: str, enabled: bool, *, actor: str = "system"
    ) -> ProviderRecord:
        """Pause or resume a provider. Its pending deliveries wait while it is disabled."""
        with self._db.session() as session:
            row = _locked_row(session, workspace_id, provider)
            if row.is_enabled != enabled:
                row.is_enabled = enabled
                row.updated_at = utcnow()
                add_audit(
                    session,
                    "provider.enabled" if enabled else "provider.disabled",
                    actor=actor,
                    workspace_id=workspace_id,
                    target=f"provider:{provider}",
                    details={"provider": provider},
                )
            session.flush()
            return _to_record(row, self._box, decrypt=False)

    def pause(
        self,
        workspace_id: str,
        provider: str,
        reason: str,
        *,
        actor: str,
        config_version: int | None = None,
    ) -> ProviderRecord:
        """Hold the provider's deliveries (not dead-lettered) until `resume` or a config change.

        Idempotent: pausing a paused provider keeps the first time and reason. With
        `config_version` (the version the failing request used), a provider whose configuration
        has changed since is left running: the failure is stale, the new config may work.
        `reason` is shown to operators; it must be secret-free (known token shapes are masked).
        """
        with self._db.session() as session:
            row = pause_provider(
                session, workspace_id, provider, reason, actor=actor, config_version=config_version
            )
            session.flush()
            return _to_record(row, self._box, decrypt=False)

    def resume(
        self, workspace_id: str, provider: str, *, actor: str, now: datetime | None = None
    ) -> ProviderRecord:
        """Clear a pause: the waiting deliveries become due, and the time they spent paused no
        longer counts toward their maximum age. A no-op if it is not paused."""
        with self._db.session() as session:
            row = _locked_row(session, workspace_id, provider)
            if row.paused_at is not None:
                _resume(
                    session, row, actor=actor, reason="resumed by operator", now=now or utcnow()
                )
            session.flush()
            return _to_record(row, self._box, decrypt=False)

    def rotate_secrets(self, *, actor: str = "system") -> int:
        """Re-encrypt every stored secret under the newest key; returns how many were rotated.

        The plaintext is unchanged, so config_version is too.
        """
        rotated = 0
        with self._db.session() as session:
            for row in session.scalars(select(TicketProviderRow).with_for_update()):
                fields = _secret_fields(row.config)
                if not fields:
                    continue
                row.config = {
                    key: {ENCRYPTED: self._box.rotate(value[ENCRYPTED])} if key in fields else value
                    for key, value in row.config.items()
                }
                rotated += len(fields)
            add_audit(session, "secrets.rotated", actor=actor, details={"secrets": rotated})
        return rotated
