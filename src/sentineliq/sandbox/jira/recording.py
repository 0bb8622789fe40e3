"""The log of requests the sandbox received, for tests to assert on."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    seq: int  # arrival order
    method: str
    path: str
    query: str
    status: int | None  # None: no answer was sent (drop_after_create)
    at: float  # sandbox-clock (monotonic) arrival time
    auth_user: str | None  # email of the authenticated caller; never the token
    early: bool  # arrived before a Retry-After the sandbox had announced expired
    fault: str | None  # the fault mode applied to it, if any
    # The body as received (UTF-8, undecodable bytes replaced): what a test checks for leaks.
    # Headers are not kept: Authorization carries the caller's token.
    body: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Append-only, thread-safe. Control requests (/_sandbox/...) are not logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []
        self._next_seq = 0

    def next_seq(self) -> int:
        with self._lock:
            self._next_seq += 1
            return self._next_seq

    def add(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            return sorted(self._entries, key=lambda e: e.seq)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
