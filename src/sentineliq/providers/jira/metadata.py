"""A thread-safe TTL cache for Jira metadata (projects, createmeta, fields, user lookups).

Creating an issue needs the create screen (createmeta) and often an accountId; fetching them per
ticket would multiply Jira calls (and the user-search endpoints share one tenant-wide rate limit).
Entries live in *scopes* keyed by (base_url, config fingerprint): a changed configuration (new
version, token, project, ...) has a new fingerprint and so starts from an empty scope, and what the
old account could see never leaks into the new one. One process-wide cache (`shared_cache()`) lets
every JiraProvider of a workspace share its scope.

TTLs: project 15 min; createmeta issue types and fields, GET /field and link types 30 min; the
transitions offered from one (project, issue type, status) 30 min; user lookups 1 h. A lookup
that found nobody is kept only 5 min: the usual cause is an analyst not yet invited to Jira, and
their tickets should start being assigned soon after they are, while a 5 min floor still bounds
repeated searches during an alert storm. Failures (exceptions) are never cached.

The clock is injectable so tests advance time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from sentineliq.providers.jira.config import JiraConfig

T = TypeVar("T")
Clock = Callable[[], float]


class Kind(StrEnum):
    PROJECT = "project"
    ISSUE_TYPES = "issue_types"  # createmeta issue types of a project
    CREATE_FIELDS = "create_fields"  # createmeta fields of (project, issue type)
    FIELDS = "fields"  # GET /field
    USER = "user"  # email -> accountId (or None)
    SITE = "site"  # the site URL issue links use (serverInfo baseUrl behind the gateway)
    TRANSITIONS = "transitions"  # transitions offered from (project, issue type, status)
    LINK_TYPES = "link_types"  # GET /issueLinkType


@dataclass(frozen=True)
class Ttls:
    project: float = 15 * 60
    issue_types: float = 30 * 60
    create_fields: float = 30 * 60
    fields: float = 30 * 60
    user: float = 60 * 60
    user_not_found: float = 5 * 60
    site: float = 60 * 60
    transitions: float = 30 * 60
    link_types: float = 30 * 60

    def of(self, kind: Kind, *, negative: bool) -> float:
        if kind is Kind.USER and negative:
            return self.user_not_found
        return float(getattr(self, kind.value))


DEFAULT_TTLS = Ttls()


def config_fingerprint(config: JiraConfig, config_version: int = 0) -> str:
    """Changes whenever anything that shapes what Jira shows us changes, the token included.

    Only a hash of the stored form is kept, so the fingerprint itself reveals nothing usable.
    """
    material = json.dumps(
        {"version": config_version, "config": config.to_storage()}, sort_keys=True
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass
class _Entry:
    value: Any
    expires_at: float


class MetadataScope:
    """The entries of one (base_url, fingerprint). Obtain it from `MetadataCache.scope`."""

    def __init__(self, cache: MetadataCache, base_url: str, fingerprint: str) -> None:
        self._cache = cache
        self.base_url = base_url
        self.fingerprint = fingerprint
        self._entries: dict[tuple[Kind, Hashable], _Entry] = {}
        self._loading: dict[tuple[Kind, Hashable], threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get_or_load(
        self,
        kind: Kind,
        key: Hashable,
        loader: Callable[[], T],
        *,
        is_negative: Callable[[T], bool] | None = None,
    ) -> T:
        """The cached value, or `loader()` stored for the kind's TTL.

        Concurrent misses for one key load once: later callers wait for the first. An exception
        from `loader` propagates and stores nothing.
        """
        full_key = (kind, key)
        lock = self._cache._lock
        with lock:
            found = self._fresh(full_key)
            if found is not None:
                self.hits += 1
                return cast(T, found.value)
            key_lock = self._loading.setdefault(full_key, threading.Lock())
        with key_lock:
            with lock:
                found = self._fresh(full_key)
                if found is not None:
                    self.hits += 1
                    return cast(T, found.value)
                self.misses += 1
            try:
                value = loader()
                negative = bool(is_negative(value)) if is_negative is not None else False
                ttl = self._cache.ttls.of(kind, negative=negative)
                with lock:
                    self._entries[full_key] = _Entry(value, self._cache.clock() + ttl)
            finally:
                with lock:
                    self._loading.pop(full_key, None)
            return value

    def put(self, kind: Kind, key: Hashable, value: Any, *, negative: bool = False) -> None:
        """Store a value fetched elsewhere (a connection test's fresh read)."""
        ttl = self._cache.ttls.of(kind, negative=negative)
        with self._cache._lock:
            self._entries[(kind, key)] = _Entry(value, self._cache.clock() + ttl)

    def peek(self, kind: Kind, key: Hashable) -> tuple[bool, Any]:
        """(present and fresh, value) without loading; for tests and diagnostics."""
        with self._cache._lock:
            found = self._fresh((kind, key))
            return (found is not None, found.value if found is not None else None)

    def drop(self, kind: Kind, key: Hashable) -> None:
        """Forget one entry (Jira showed it stale)."""
        with self._cache._lock:
            self._entries.pop((kind, key), None)

    def invalidate(self, kind: Kind | None = None) -> None:
        with self._cache._lock:
            if kind is None:
                self._entries.clear()
            else:
                for full_key in [k for k in self._entries if k[0] is kind]:
                    del self._entries[full_key]

    def _fresh(self, full_key: tuple[Kind, Hashable]) -> _Entry | None:
        entry = self._entries.get(full_key)
        if entry is None:
            return None
        if entry.expires_at <= self._cache.clock():
            del self._entries[full_key]
            return None
        return entry


class MetadataCache:
    """Scopes of metadata, least recently used dropped beyond `max_scopes`."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        ttls: Ttls = DEFAULT_TTLS,
        max_scopes: int = 256,
    ) -> None:
        self.clock = clock
        self.ttls = ttls
        self._max_scopes = max_scopes
        self._lock = threading.RLock()
        self._scopes: OrderedDict[tuple[str, str], MetadataScope] = OrderedDict()

    def scope(self, base_url: str, fingerprint: str) -> MetadataScope:
        """The scope for this site and configuration; a new fingerprint gets a fresh scope.

        Scopes of an older configuration are never read again and age out of the LRU; they are
        not dropped eagerly because two workspaces may legitimately share one site.
        """
        key = (base_url, fingerprint)
        with self._lock:
            found = self._scopes.get(key)
            if found is not None:
                self._scopes.move_to_end(key)
                return found
            scope = MetadataScope(self, base_url, fingerprint)
            self._scopes[key] = scope
            while len(self._scopes) > self._max_scopes:
                self._scopes.popitem(last=False)
            return scope

    def invalidate(self, base_url: str | None = None) -> None:
        """Drop everything, or everything about one site."""
        with self._lock:
            if base_url is None:
                self._scopes.clear()
                return
            for key in [k for k in self._scopes if k[0] == base_url]:
                del self._scopes[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._scopes)


_shared: MetadataCache | None = None
_shared_lock = threading.Lock()


def shared_cache() -> MetadataCache:
    """The process-wide cache used when a provider is not given one."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MetadataCache()
        return _shared
