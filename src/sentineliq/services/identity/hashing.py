"""Password hashing: argon2id, verification that never raises, and an equal-cost stand-in.

The policy (what a password must be) is `sentineliq.services.passwords`; this is only how one is
kept and checked.
"""

from __future__ import annotations

import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# One throwaway hash per hasher configuration: verifying against it costs as much as a real one.
_DUMMY_HASHES: dict[tuple[Any, ...], str] = {}


class PasswordHashing:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # argon2id with the library's defaults

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return False

    def dummy_hash(self) -> str:
        h = self._hasher
        params = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len, h.type)
        if params not in _DUMMY_HASHES:
            _DUMMY_HASHES[params] = h.hash(secrets.token_urlsafe(16))
        return _DUMMY_HASHES[params]
