"""Group commit for ingest: concurrent requests into one workspace share a transaction.

A single-alert request costs about ten statements and a commit whatever it carries; chunked,
the same work costs a fraction per alert. While one request's transaction is under way (SQLite
has one writer at a time anyway), the requests that arrive for the same workspace wait here;
the first of them then stores all of them in one transaction, as if one after the other (each
keeps its own outcomes, actor and audit entry), and wakes the others. Nothing waits when there
is no concurrency: a lone request is stored at once. When the shared transaction fails, nothing
of it is kept and each of its requests is stored again in a transaction of its own: one bad
request fails alone, never its neighbours (none is ever half stored).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from sentineliq.storage.alerts import AlertRepository, IngestOutcome, IngestPart
from sentineliq.storage.db import Database

MAX_GROUP_ALERTS = 1000  # one transaction takes waiting requests up to this many alerts


@dataclass
class _Request:
    part: IngestPart
    done: bool = False
    outcomes: list[IngestOutcome] = field(default_factory=list)
    error: BaseException | None = None


class IngestGroup:
    """The requests waiting per workspace, for one Database."""

    def __init__(self, db: Database) -> None:
        self._repository = AlertRepository(db)
        self._changed = threading.Condition()
        self._waiting: dict[str, list[_Request]] = {}
        self._busy: set[str] = set()

    def ingest(self, workspace_id: str, part: IngestPart) -> list[IngestOutcome]:
        """Store `part` (see AlertRepository.ingest), with whatever else is waiting."""
        request = _Request(part)
        with self._changed:
            self._waiting.setdefault(workspace_id, []).append(request)
        while True:
            with self._changed:
                while not request.done and workspace_id in self._busy:
                    self._changed.wait()
                if request.done:
                    break
                # This thread stores what waits (its own request among it, unless the cap
                # leaves it for the next round).
                self._busy.add(workspace_id)
                batch = self._take(workspace_id)
            self._store(workspace_id, batch)
        if request.error is not None:
            raise request.error
        return request.outcomes

    def waiting(self, workspace_id: str) -> int:
        """Requests queued behind the transaction under way (for tests and gauges)."""
        with self._changed:
            return len(self._waiting.get(workspace_id, ()))

    def _take(self, workspace_id: str) -> list[_Request]:
        queue = self._waiting[workspace_id]
        taken: list[_Request] = []
        alerts = 0
        while queue and (not taken or alerts + len(queue[0].part.alerts) <= MAX_GROUP_ALERTS):
            alerts += len(queue[0].part.alerts)
            taken.append(queue.pop(0))
        if not queue:
            del self._waiting[workspace_id]
        return taken

    def _store(self, workspace_id: str, batch: Sequence[_Request]) -> None:
        try:
            results = self._repository.ingest_parts(workspace_id, [r.part for r in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for request in batch:
                    self._store_alone(workspace_id, request)
        except BaseException as exc:  # interrupted: no request is stored, each is told
            for request in batch:
                request.error = exc
            raise
        else:
            for request, outcomes in zip(batch, results, strict=True):
                request.outcomes = outcomes
        finally:
            with self._changed:
                for request in batch:
                    request.done = True
                self._busy.discard(workspace_id)
                self._changed.notify_all()

    def _store_alone(self, workspace_id: str, request: _Request) -> None:
        try:
            [request.outcomes] = self._repository.ingest_parts(workspace_id, [request.part])
        except Exception as exc:
            request.error = exc


_GROUPS: weakref.WeakKeyDictionary[Database, IngestGroup] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def ingest_group(db: Database) -> IngestGroup:
    """The database's group: every request of the process meets the same one."""
    with _GROUPS_LOCK:
        group = _GROUPS.get(db)
        if group is None:
            group = _GROUPS[db] = IngestGroup(db)
        return group
