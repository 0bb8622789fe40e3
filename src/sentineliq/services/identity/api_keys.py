"""Workspace API keys: `siq_<prefix>_<secret>`, shown once, stored as a digest, revocable.

The prefix finds the row; the digest of the whole key is compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Callable
from datetime import datetime

from sentineliq.services.identity.access import Principal
from sentineliq.services.identity.fields import InvalidFieldError
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.identity.tokens import TOUCH_INTERVAL, sha256_hex
from sentineliq.storage.apikeys import ApiKeyRecord, ApiKeyRepository, PrefixTakenError

MAX_KEY_NAME_LENGTH = 100
API_KEY_PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_ATTEMPTS = 5


def new_key_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(API_KEY_PREFIX_LENGTH))


def split_api_key(plaintext: str) -> tuple[str, str] | None:
    """(prefix, secret) of a `siq_<prefix>_<secret>` key, or None if it is not shaped like one."""
    end = 4 + API_KEY_PREFIX_LENGTH
    if not plaintext.startswith("siq_") or len(plaintext) <= end + 1 or plaintext[end] != "_":
        return None
    prefix = plaintext[4:end]
    if any(c not in _PREFIX_ALPHABET for c in prefix):
        return None
    return prefix, plaintext[end + 1 :]


class ApiKeys:
    def __init__(
        self,
        keys: ApiKeyRepository,
        clock: Callable[[], datetime],
        *,
        new_prefix: Callable[[], str] = new_key_prefix,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._new_prefix = new_prefix

    def create(
        self,
        workspace_id: str,
        name: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key and its plaintext `siq_<prefix>_<secret>`: shown once, stored hashed.

        InvalidFieldError("name") for an empty or long name; NotFoundError for an unknown workspace.
        """
        clean = name.strip()
        if not clean or len(clean) > MAX_KEY_NAME_LENGTH:
            raise InvalidFieldError("name", f"must be 1 to {MAX_KEY_NAME_LENGTH} characters")
        for _ in range(_PREFIX_ATTEMPTS):
            prefix = self._new_prefix()
            plaintext = f"siq_{prefix}_{secrets.token_urlsafe(32)}"
            try:
                record = self._keys.create(
                    workspace_id,
                    clean,
                    prefix,
                    sha256_hex(plaintext),
                    actor=actor,
                    now=self._clock(),
                    origin=audit_origin(ip, user_agent),
                )
            except PrefixTakenError:
                continue  # 36^8 prefixes: a repeat collision means a broken random source
            return record, plaintext
        raise RuntimeError("could not find a free API key prefix")

    def principal(self, plaintext: str) -> Principal | None:
        """The key's principal, or None for unknown, malformed or revoked keys."""
        parts = split_api_key(plaintext)
        if parts is None:
            return None
        found = self._keys.by_prefix(parts[0])
        if found is None:
            return None
        record, key_hash = found
        if not hmac.compare_digest(sha256_hex(plaintext), key_hash):
            return None
        if record.revoked_at is not None:
            return None
        now = self._clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            self._keys.touch(record.id, now, not_after=now - TOUCH_INTERVAL)
        return Principal(
            kind="api_key",
            id=record.id,
            name=record.name,
            user_id=None,
            workspace_id=record.workspace_id,
        )

    def list(self, workspace_id: str) -> list[ApiKeyRecord]:
        """Newest first, revoked ones included; never a secret or hash."""
        return self._keys.list_for_workspace(workspace_id)

    def revoke(
        self,
        workspace_id: str,
        key_id: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Stops the key at once. NotFoundError if it is not this workspace's; revoking twice is
        a no-op."""
        self._keys.revoke(
            workspace_id,
            key_id,
            actor=actor,
            now=self._clock(),
            origin=audit_origin(ip, user_agent),
        )
