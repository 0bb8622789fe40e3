"""Holding requests: matching Jira API requests wait before they are handled until released.

A test control, not a Jira behaviour: it shows how many requests a client really has in flight
at once, without relying on timing. While held a request has arrived (it is recorded with its
arrival time) but nothing has happened yet; released, it is handled as usual, even if its client
has gone meanwhile (a request that reached Jira is processed whether or not anyone reads the
answer). A request is never held longer than MAX_HOLD_S, so a forgotten hold cannot hang a run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

MAX_HOLD_S = 120.0


@dataclass(frozen=True)
class _Match:
    method: str | None
    path: str | None  # a prefix

    def __call__(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


class RequestHold:
    """Thread-safe; one hold at a time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._match: _Match | None = None
        self._generation = 0  # bumped by each release: the requests held before it go
        self._held = 0
        self._most = 0

    def hold(self, method: str | None = None, path: str | None = None) -> None:
        """From now on, hold the API requests with this method and path prefix (None: any)."""
        with self._cond:
            self._match = _Match(method, path)
            self._most = self._held

    def release(self) -> None:
        """Let every held request go and stop holding."""
        with self._cond:
            self._match = None
            self._generation += 1
            self._cond.notify_all()

    def held(self) -> int:
        with self._cond:
            return self._held

    def most_held(self) -> int:
        """The most requests held at once since the hold began."""
        with self._cond:
            return self._most

    def wait_until_held(self, count: int, timeout: float) -> bool:
        """Block until at least `count` requests are held at once; False after `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: self._held >= count, timeout)

    def pass_through(self, method: str, path: str) -> None:
        """Called for each API request before it is handled: returns at once unless held."""
        with self._cond:
            if self._match is None or not self._match(method, path):
                return
            generation = self._generation
            self._held += 1
            self._most = max(self._most, self._held)
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._generation != generation, MAX_HOLD_S)
            finally:
                self._held -= 1
