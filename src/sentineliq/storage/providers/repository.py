"""ProviderRepository: ticket-provider configuration per workspace, with secret fields encrypted
at rest (see records.py) and pausing (see pause.py)."""

from __future__ import annotations

import builtins
import copy
import json
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.storage.audit import add_audit
from sentineliq.storage.crypto import MASK, SecretBox, SecretError
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.providers.pause import (
    find_locked_row,
    locked_row,
    pause_provider,
    resume_provider,
)
from sentineliq.storage.providers.records import (
    ENCRYPTED,
    ProviderRecord,
    encrypted_fields,
    is_encrypted,
    masked,
    revealed,
    to_record,
)
from sentineliq.storage.tables import TicketProviderRow, WorkspaceRow, new_id
from sentineliq.storage.types import utcnow

_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


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
        row = find_locked_row(session, workspace_id, provider)
        old_stored: dict[str, Any] = dict(row.config) if row is not None else {}
        new_stored: dict[str, Any] = {}
        for key, value in plain.items():
            if key not in secret or value is None:
                new_stored[key] = value
            elif value == MASK:
                if not is_encrypted(old_stored.get(key)):
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
                resume_provider(session, row, actor=actor, reason="configuration changed", now=now)
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
                "encrypted_fields": sorted(encrypted_fields(row.config)),
            },
        )
        session.flush()
        return to_record(row, self._box, decrypt=False)

    def _differs(self, old_stored: Mapping[str, Any], new_stored: Mapping[str, Any]) -> bool:
        if encrypted_fields(old_stored) != encrypted_fields(new_stored):
            return True
        try:
            return revealed(old_stored, self._box) != revealed(new_stored, self._box)
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
            return to_record(row, self._box, decrypt=decrypt) if row is not None else None

    def versions(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, bool]]:
        """(config_version, is_enabled) of the given (workspace, provider) pairs that exist, in
        one statement: enough to tell whether a decrypted config in hand is still current."""
        wanted = set(keys)
        if not wanted:
            return {}
        workspaces = sorted({workspace for workspace, _ in wanted})
        with self._db.session() as session:
            rows = session.execute(
                select(
                    TicketProviderRow.workspace_id,
                    TicketProviderRow.provider,
                    TicketProviderRow.config_version,
                    TicketProviderRow.is_enabled,
                ).where(TicketProviderRow.workspace_id.in_(workspaces))
            )
            return {
                (workspace, provider): (version, enabled)
                for workspace, provider, version, enabled in rows
                if (workspace, provider) in wanted
            }

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
            return [to_record(row, self._box, decrypt=decrypt) for row in session.scalars(query)]

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
            row = locked_row(session, workspace_id, provider)
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
            row = locked_row(session, workspace_id, provider)
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
            return to_record(row, self._box, decrypt=False)

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
            return to_record(row, self._box, decrypt=False)

    def resume(
        self, workspace_id: str, provider: str, *, actor: str, now: datetime | None = None
    ) -> ProviderRecord:
        """Clear a pause: the waiting deliveries become due, and the time they spent paused no
        longer counts toward their maximum age. A no-op if it is not paused."""
        with self._db.session() as session:
            row = locked_row(session, workspace_id, provider)
            if row.paused_at is not None:
                resume_provider(
                    session, row, actor=actor, reason="resumed by operator", now=now or utcnow()
                )
            session.flush()
            return to_record(row, self._box, decrypt=False)

    def rotate_secrets(self, *, actor: str = "system") -> int:
        """Re-encrypt every stored secret under the newest key; returns how many were rotated.

        The plaintext is unchanged, so config_version is too.
        """
        rotated = 0
        with self._db.session() as session:
            for row in session.scalars(select(TicketProviderRow).with_for_update()):
                fields = encrypted_fields(row.config)
                if not fields:
                    continue
                row.config = {
                    key: {ENCRYPTED: self._box.rotate(value[ENCRYPTED])} if key in fields else value
                    for key, value in row.config.items()
                }
                rotated += len(fields)
            add_audit(session, "secrets.rotated", actor=actor, details={"secrets": rotated})
        return rotated
