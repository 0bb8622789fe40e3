"""A provider's stored configuration as a frozen record; secret fields encrypted at rest.

A secret field is stored as {"$encrypted": "<fernet token>"}; read paths show it masked unless
the caller asks for plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sentineliq.storage.crypto import MASK, SecretBox
from sentineliq.storage.tables import TicketProviderRow

ENCRYPTED = "$encrypted"  # a secret field is stored as {"$encrypted": "<fernet token>"}


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


def is_encrypted(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and set(value) == {ENCRYPTED}
        and isinstance(value[ENCRYPTED], str)
    )


def encrypted_fields(stored: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(key for key, value in stored.items() if is_encrypted(value))


def masked(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {key: MASK if is_encrypted(value) else value for key, value in stored.items()}


def revealed(stored: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    return {
        key: box.decrypt(value[ENCRYPTED]) if is_encrypted(value) else value
        for key, value in stored.items()
    }


def to_record(row: TicketProviderRow, box: SecretBox, *, decrypt: bool) -> ProviderRecord:
    config = revealed(row.config, box) if decrypt else masked(row.config)
    return ProviderRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        provider=row.provider,
        is_enabled=row.is_enabled,
        config=MappingProxyType(config),
        secret_fields=encrypted_fields(row.config),
        config_version=row.config_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decrypted=decrypt,
        paused_at=row.paused_at,
        paused_reason=row.paused_reason,
    )
