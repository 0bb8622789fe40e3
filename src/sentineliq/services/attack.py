"""Keeping MITRE ATT&CK current: sync a STIX bundle into the database, and hand every process
(worker, server) the catalog in force: the synced one, else the one embedded in the package.

A failed sync (source unreachable, not a bundle) keeps the catalog synced before and is recorded,
so `sentineliq mitre status` and /health show it; it is also logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import structlog

from sentineliq.errors import SentinelIQError
from sentineliq.mitre.catalog import AttackCatalog, default_catalog
from sentineliq.mitre.stix import StixBundleError, catalog_from_stix
from sentineliq.services.context import AppContext
from sentineliq.storage.attack import AttackCatalogRepository, AttackSyncRecord

log = structlog.get_logger("sentineliq.mitre")

# The Enterprise bundle is about 50 MB; anything far larger is not an ATT&CK release.
MAX_BUNDLE_BYTES = 200 * 1024 * 1024
FETCH_TIMEOUT_S = 60.0
# How often a process looks whether a newer catalog was synced (one small query).
RECHECK_S = 60.0


class AttackSourceError(SentinelIQError):
    """The ATT&CK source could not be read or is not a bundle; the catalog in use stays."""


@dataclass(frozen=True)
class SyncResult:
    version: str
    release: str
    source: str
    synced_at: datetime
    techniques: int
    revoked: int
    deprecated: int


def sync_catalog(
    app: AppContext,
    *,
    file: Path | None = None,
    url: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncResult:
    """Read the bundle from `file`, else `url`, else the configured URL, and store it.
    Raises AttackSourceError (recorded and logged) when that fails."""
    source = str(file) if file is not None else (url or app.settings.mitre.url)
    repo = AttackCatalogRepository(app.db)
    try:
        data = _read_file(file) if file is not None else _fetch(source)
        catalog = catalog_from_stix(data)
    except (AttackSourceError, StixBundleError) as exc:
        repo.failed(source=source, error=str(exc), at=now())
        log.warning("mitre.sync_failed", source=source, error=str(exc))
        raise AttackSourceError(f"ATT&CK sync from {source} failed: {exc}") from None
    synced_at = now()
    repo.save(version=catalog.version, source=source, data=catalog.to_json(), at=synced_at)
    log.info("mitre.synced", source=source, version=catalog.version)
    return SyncResult(
        version=catalog.version,
        release=catalog.release,
        source=source,
        synced_at=synced_at,
        techniques=len(catalog.techniques),
        revoked=len(catalog.revoked),
        deprecated=sum(1 for t in catalog.techniques if t.deprecated),
    )


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise AttackSourceError(f"larger than {MAX_BUNDLE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise AttackSourceError(exc.strerror or type(exc).__name__) from None


def _fetch(url: str) -> bytes:
    try:
        with (
            httpx2.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise AttackSourceError(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BUNDLE_BYTES:
                    raise AttackSourceError(f"larger than {MAX_BUNDLE_BYTES} bytes")
            return bytes(body)
    except httpx2.HTTPError as exc:
        raise AttackSourceError(f"cannot be reached ({type(exc).__name__})") from None


def sync_status(app: AppContext) -> AttackSyncRecord:
    return AttackCatalogRepository(app.db).status()


class CatalogSource:
    """The catalog in force for one process: the synced one, re-read when a newer sync is seen
    (checked at most every RECHECK_S), else the embedded default. Thread-safe."""

    def __init__(self, app: AppContext, *, monotonic: Callable[[], float] = time.monotonic):
        self._repo = AttackCatalogRepository(app.db)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._catalog: AttackCatalog | None = None
        self._synced_at: datetime | None = None
        self._checked = float("-inf")

    def current(self) -> AttackCatalog:
        with self._lock:
            if self._monotonic() - self._checked >= RECHECK_S or self._catalog is None:
                self._refresh()
            assert self._catalog is not None
            return self._catalog

    def _refresh(self) -> None:
        self._checked = self._monotonic()
        try:
            synced_at = self._repo.synced_at()
            if synced_at is not None and synced_at == self._synced_at:
                return
            stored = self._repo.data()
            if stored is None:
                self._catalog, self._synced_at = default_catalog(), None
                return
            self._synced_at, data = stored
            self._catalog = AttackCatalog.from_json(data)
        except Exception:  # the database may be away: keep what we have (or the default)
            log.exception("mitre.catalog_read_failed")
            if self._catalog is None:
                self._catalog = default_catalog()
