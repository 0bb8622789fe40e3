"""The installation's synced ATT&CK catalog (one `attack_catalog` row) and its sync status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from sentineliq.storage.db import Database
from sentineliq.storage.tables import AttackCatalogRow

_ROW_ID = 1


@dataclass(frozen=True)
class AttackSyncRecord:
    version: str | None  # None: never synced, the embedded catalog is in use
    source: str | None
    synced_at: datetime | None
    attempted_at: datetime | None
    error: str | None  # why the last attempt failed; None when it succeeded


class AttackCatalogRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def status(self) -> AttackSyncRecord:
        with self._db.read() as session:
            row = session.get(AttackCatalogRow, _ROW_ID)
            if row is None:
                return AttackSyncRecord(None, None, None, None, None)
            return AttackSyncRecord(
                row.version, row.source, row.synced_at, row.attempted_at, row.error
            )

    def data(self) -> tuple[datetime, dict[str, Any]] | None:
        """The stored catalog (as AttackCatalog.to_json() wrote it) and when it was synced."""
        with self._db.read() as session:
            found = session.execute(
                select(AttackCatalogRow.synced_at, AttackCatalogRow.data).where(
                    AttackCatalogRow.id == _ROW_ID
                )
            ).one_or_none()
        if found is None or found.synced_at is None or found.data is None:
            return None
        return found.synced_at, found.data

    def synced_at(self) -> datetime | None:
        """Cheap: lets readers tell whether their cached catalog is still the stored one."""
        with self._db.read() as session:
            return session.scalar(
                select(AttackCatalogRow.synced_at).where(AttackCatalogRow.id == _ROW_ID)
            )

    def save(self, *, version: str, source: str, data: dict[str, Any], at: datetime) -> None:
        with self._db.session() as session:
            row = self._row(session)
            row.version, row.source, row.data, row.synced_at = version, source, data, at
            row.attempted_at, row.error = at, None

    def failed(self, *, source: str, error: str, at: datetime) -> None:
        """Record a failed attempt; the catalog synced before stays in use."""
        with self._db.session() as session:
            row = self._row(session)
            row.attempted_at, row.error = at, f"{source}: {error}"

    @staticmethod
    def _row(session: Any) -> AttackCatalogRow:
        row = session.get(AttackCatalogRow, _ROW_ID, with_for_update=True)
        if row is None:
            row = AttackCatalogRow(id=_ROW_ID)
            session.add(row)
        assert isinstance(row, AttackCatalogRow)
        return row
