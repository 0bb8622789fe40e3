"""Test helpers for identity: a controllable clock and a hasher that records verifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher

PASSWORD = "correct horse battery"


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        # Starts at the real time, so entries written with the real clock sort before its own.
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def catch_up(self) -> None:
        """Never behind the real time: entries written with the real clock (a workspace made by
        its repository) stay before ours however slowly the fixtures were set up."""
        self.now = max(self.now, datetime.now(UTC))


class RecordingHasher(PasswordHasher):
    """The real argon2id hasher, remembering which hashes it was asked to verify against."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def cheap_hasher() -> RecordingHasher:
    # Still argon2id; small parameters keep the suite fast (production uses library defaults).
    return RecordingHasher(time_cost=1, memory_cost=1024, parallelism=1)
