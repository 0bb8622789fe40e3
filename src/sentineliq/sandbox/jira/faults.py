"""Scripted failures, so tests of the real client can provoke each way Jira can fail.

One fault is active at a time. `slow` and `error` apply to Jira API requests (`/rest/...`),
optionally narrowed by method and path prefix; `drop_after_create` applies to successful creates,
`POST /rest/api/3/issue` and `POST /rest/api/3/issue/bulk` (a 201: some were created), and to
added attachments, `POST /rest/api/3/issue/{key}/attachments` (a 200: stored); `down` is
carried out by the server (the listening socket closes). A fault with `count` applies to that
many matching requests; one with `duration_s` clears itself after that many (real) seconds. An
`error` answer carries `Retry-After: 1` when its status is 503 (or `retry_after` when given);
other statuses, 429 included, come without it by default, like the gateway-level 429s seen on
Cloud.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum

CREATE_PATH = "/rest/api/3/issue"
CREATE_PATHS = frozenset({CREATE_PATH, f"{CREATE_PATH}/bulk"})
ATTACH_SUFFIX = "/attachments"  # POST /rest/api/3/issue/{key}/attachments (answers 200)


def is_create(method: str, path: str) -> bool:
    """A request `drop_after_create` applies to: a create, a bulk create, or an attachment."""
    if method.upper() != "POST":
        return False
    path = path.rstrip("/")
    return path in CREATE_PATHS or (
        path.startswith(f"{CREATE_PATH}/") and path.endswith(ATTACH_SUFFIX)
    )


class FaultMode(StrEnum):
    NONE = "none"
    DOWN = "down"
    SLOW = "slow"
    ERROR = "error"
    DROP_AFTER_CREATE = "drop_after_create"


@dataclass(frozen=True)
class Fault:
    mode: FaultMode
    count: int | None = None
    delay_s: float = 0.0
    status: int = 503
    duration_s: float | None = None
    method: str | None = None  # only requests with this method (any when None)
    path: str | None = None  # only requests whose path starts with this (any when None)
    retry_after: int | None = None  # Retry-After on `error` answers; default: 1 for 503 only

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or None for 'until cleared')")
        if self.delay_s < 0:
            raise ValueError("delay_s cannot be negative")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError("duration_s must be positive (or None)")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.mode is FaultMode.DOWN and self.count is not None:
            raise ValueError(
                "'down' refuses connections, so it cannot count requests; use duration_s"
            )
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after cannot be negative")
        if self.mode is FaultMode.SLOW and self.delay_s == 0:
            raise ValueError("'slow' needs delay_s > 0")

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


def parse_fault(
    mode: str,
    *,
    count: int | None = None,
    delay_s: float = 0.0,
    status: int = 503,
    duration_s: float | None = None,
    method: str | None = None,
    path: str | None = None,
    retry_after: int | None = None,
) -> Fault:
    try:
        fault_mode = FaultMode(mode)
    except ValueError:
        modes = ", ".join(m.value for m in FaultMode)
        raise ValueError(f"unknown fault mode {mode!r} (one of: {modes})") from None
    return Fault(
        fault_mode, count, float(delay_s), int(status), duration_s, method, path, retry_after
    )


class FaultController:
    """Holds the active fault and its remaining count. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._remaining: int | None = None
        self._expires_at: float | None = None

    def set(self, fault: Fault) -> None:
        with self._lock:
            if fault.mode is FaultMode.NONE:
                self._fault = self._remaining = self._expires_at = None
                return
            self._fault = fault
            self._remaining = fault.count
            self._expires_at = (
                time.monotonic() + fault.duration_s if fault.duration_s is not None else None
            )

    def clear(self) -> None:
        self.set(Fault(FaultMode.NONE))

    def current(self) -> Fault | None:
        with self._lock:
            return self._live()

    def take(self, method: str, path: str) -> Fault | None:
        """The `slow`/`error` fault to apply to this API request, consuming one of its count."""
        with self._lock:
            fault = self._live()
            if fault is None or fault.mode not in (FaultMode.SLOW, FaultMode.ERROR):
                return None
            if not path.startswith("/rest/") or not fault.matches(method, path):
                return None
            self._consume()
            return fault

    def take_drop(self, method: str, path: str) -> bool:
        """Whether to drop the connection after this successful create, consuming the count."""
        with self._lock:
            fault = self._live()
            if fault is None or fault.mode is not FaultMode.DROP_AFTER_CREATE:
                return False
            if not is_create(method, path):
                return False
            if not fault.matches(method, path):
                return False
            self._consume()
            return True

    def _live(self) -> Fault | None:
        if self._expires_at is not None and time.monotonic() >= self._expires_at:
            self._fault = self._remaining = self._expires_at = None
        return self._fault

    def _consume(self) -> None:
        if self._remaining is None:
            return
        self._remaining -= 1
        if self._remaining <= 0:
            self._fault = self._remaining = self._expires_at = None
