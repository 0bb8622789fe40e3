"""Evidence files of alerts: their rows, their custody chains and their attach deliveries.

An upload is one transaction: the file's row, an evidence row whose custody chain starts with a
"collected" entry carrying the hashes (so `evidence verify` checks it like any evidence), the
audit entry, and an attach delivery for every provider that files (or filed) the alert's
ticket. A ticket filed later with files (a provider enabled after the upload) calls for their
attach deliveries as it is recorded; `without_queued_attachments` drops those an upload queued
already, so a file is queued once per provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentineliq.alerts.files import Attachment, EvidenceFile
from sentineliq.alerts.model import CustodyAction, CustodyEntry
from sentineliq.outbox import DeliveryStatus, FollowUp
from sentineliq.storage.audit import add_audit
from sentineliq.storage.blobs import Put
from sentineliq.storage.custody import append_entry, custody_check, genesis_hash
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.enqueue import ATTACH_EVIDENCE, enqueue
from sentineliq.storage.deliveries.records import CREATE_ISSUE
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.tables import (
    AlertRow,
    DeliveryAttemptRow,
    DeliveryRow,
    EvidenceFileRow,
    EvidenceRow,
    new_id,
)
from sentineliq.storage.types import utcnow

STORE_LOCATION = "SentinelIQ evidence store"
ACTOR_MAX = 1000


def _file(row: EvidenceFileRow, attachments: Sequence[Attachment] = ()) -> EvidenceFile:
    return EvidenceFile(
        id=row.id,
        workspace_id=row.workspace_id,
        alert_id=row.alert_id,
        evidence_id=row.evidence_id,
        file_name=row.file_name,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        md5=row.md5,
        sha1=row.sha1,
        sha256=row.sha256,
        storage_key=row.storage_key,
        created_at=row.created_at,
        uploaded_by=row.uploaded_by,
        deleted_at=row.deleted_at,
        attachments=tuple(attachments),
    )


class EvidenceFileRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        workspace_id: str,
        alert_id: str,
        stored: Put,
        *,
        file_name: str,
        content_type: str,
        uploaded_by: str,
    ) -> tuple[EvidenceFile, bool]:
        """Record an uploaded file (its content is in the store already); the file and whether
        it is new. The same content uploaded again for the alert (not deleted) is the same file.
        NotFoundError for an alert that is not the workspace's."""
        with self._db.session() as session:
            alert = session.scalar(
                select(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.workspace_id == workspace_id)
                .with_for_update()
            )
            if alert is None:
                raise NotFoundError(f"no alert {alert_id} in this workspace")
            same = session.scalar(
                select(EvidenceFileRow).where(
                    EvidenceFileRow.alert_id == alert_id,
                    EvidenceFileRow.sha256 == stored.digests.sha256,
                    EvidenceFileRow.deleted_at.is_(None),
                )
            )
            if same is not None:
                return _file(same, _attachments(session, [same.id]).get(same.id, ())), False
            now = utcnow().replace(microsecond=0)
            actor = uploaded_by[:ACTOR_MAX]
            digests = stored.digests
            evidence = self._custody_start(session, alert, stored, file_name, actor, now)
            row = EvidenceFileRow(
                id=new_id(),
                workspace_id=workspace_id,
                alert_id=alert_id,
                evidence_id=evidence.id,
                file_name=file_name,
                content_type=content_type,
                size_bytes=digests.size,
                md5=digests.md5,
                sha1=digests.sha1,
                sha256=digests.sha256,
                storage_key=stored.key,
                created_at=now,
                uploaded_by=actor,
            )
            session.add(row)
            session.flush()
            add_audit(
                session,
                "evidence_file.uploaded",
                actor=actor,
                workspace_id=workspace_id,
                target=f"alert:{alert_id}",
                details={
                    "file_id": row.id,
                    "file_name": file_name,
                    "size": digests.size,
                    "sha256": digests.sha256,
                },
            )
            for provider in _ticketing_providers(session, alert_id):
                _queue_attach(session, alert, provider, row.id, utcnow())
            return _file(row, _attachments(session, [row.id]).get(row.id, ())), True

    @staticmethod
    def _custody_start(
        session: Session,
        alert: AlertRow,
        stored: Put,
        file_name: str,
        actor: str,
        now: datetime,
    ) -> EvidenceRow:
        """The file's evidence row, placed after the alert's own evidence, its chain opened by
        the upload."""
        digests = stored.digests
        highest = session.scalar(
            select(func.max(EvidenceRow.position)).where(EvidenceRow.alert_id == alert.id)
        )
        listed = len((alert.payload or {}).get("evidence") or [])
        position = max(listed, (highest + 1) if highest is not None else 0)
        evidence = EvidenceRow(
            id=new_id(),
            alert_id=alert.id,
            position=position,
            name=file_name,
            type="file",
            size_bytes=digests.size,
            md5=digests.md5,
            sha1=digests.sha1,
            sha256=digests.sha256,
            location=STORE_LOCATION,
            collected_at=now,
            collected_by=actor,
            custody_length=0,
            custody_head=genesis_hash(file_name, digests.md5, digests.sha1, digests.sha256),
        )
        session.add(evidence)
        session.flush()
        entry = CustodyEntry(
            action=CustodyAction.COLLECTED,
            actor=actor,
            at=now,
            location=STORE_LOCATION,
            notes=(
                f"uploaded ({digests.size} bytes); MD5 {digests.md5}, SHA-1 {digests.sha1}, "
                f"SHA-256 {digests.sha256}"
            ),
        )
        append_entry(session, evidence, entry)
        return evidence

    def get(self, workspace_id: str, file_id: str) -> EvidenceFile:
        """NotFoundError for a file that is not the workspace's."""
        with self._db.read() as session:
            row = session.scalar(
                select(EvidenceFileRow).where(
                    EvidenceFileRow.id == file_id, EvidenceFileRow.workspace_id == workspace_id
                )
            )
            if row is None:
                raise NotFoundError(f"no evidence file {file_id} in this workspace")
            return _file(row, _attachments(session, [row.id]).get(row.id, ()))

    def by_id(self, file_id: str) -> EvidenceFile:
        with self._db.read() as session:
            row = session.get(EvidenceFileRow, file_id)
            if row is None:
                raise NotFoundError(f"evidence file {file_id} not found")
            return _file(row)

    def for_alert(
        self, alert_id: str, *, workspace_id: str | None = None, with_deleted: bool = True
    ) -> list[EvidenceFile]:
        """The alert's files, oldest first, each with its attachments. With `workspace_id`,
        NotFoundError for an alert that is not the workspace's."""
        with self._db.read() as session:
            if workspace_id is not None:
                found = session.scalar(
                    select(AlertRow.id).where(
                        AlertRow.id == alert_id, AlertRow.workspace_id == workspace_id
                    )
                )
                if found is None:
                    raise NotFoundError(f"no alert {alert_id} in this workspace")
            query = select(EvidenceFileRow).where(EvidenceFileRow.alert_id == alert_id)
            if not with_deleted:
                query = query.where(EvidenceFileRow.deleted_at.is_(None))
            rows = session.scalars(
                query.order_by(EvidenceFileRow.created_at, EvidenceFileRow.id)
            ).all()
            attachments = _attachments(session, [r.id for r in rows])
            return [_file(r, attachments.get(r.id, ())) for r in rows]

    def delete(self, workspace_id: str, file_id: str, *, actor: str, reason: str) -> EvidenceFile:
        """Mark the file deleted and close its custody chain; its row and chain stay (the
        caller removes the content from the store when no other file has it)."""
        with self._db.session() as session:
            row = session.scalar(
                select(EvidenceFileRow)
                .where(EvidenceFileRow.id == file_id, EvidenceFileRow.workspace_id == workspace_id)
                .with_for_update()
            )
            if row is None:
                raise NotFoundError(f"no evidence file {file_id} in this workspace")
            if row.deleted_at is not None:
                raise InvalidStateError(f"evidence file {row.file_name!r} was deleted already")
            now = utcnow().replace(microsecond=0)
            row.deleted_at, row.deleted_by = now, actor[:ACTOR_MAX]
            if row.evidence_id is not None:
                evidence = session.get(EvidenceRow, row.evidence_id, with_for_update=True)
                closed = evidence is None or custody_check(session, evidence, now).deleted
                if evidence is not None and not closed:
                    entry = CustodyEntry(
                        action=CustodyAction.DELETED, actor=actor[:ACTOR_MAX], at=now, notes=reason
                    )
                    append_entry(session, evidence, entry)
            add_audit(
                session,
                "evidence_file.deleted",
                actor=actor[:ACTOR_MAX],
                workspace_id=workspace_id,
                target=f"alert:{row.alert_id}",
                details={"file_id": row.id, "reason": reason},
            )
            session.flush()
            return _file(row)

    def content_in_use(self, storage_key: str) -> bool:
        """Whether a file that is not deleted still has this content."""
        with self._db.read() as session:
            found = session.scalar(
                select(EvidenceFileRow.id).where(
                    EvidenceFileRow.storage_key == storage_key,
                    EvidenceFileRow.deleted_at.is_(None),
                )
            )
            return found is not None


def without_queued_attachments(
    session: Session, alert_id: str, provider: str, follow_ups: Sequence[FollowUp]
) -> list[FollowUp]:
    """`follow_ups` less the attach deliveries of files that have one at `provider` already
    (queued by their upload, which queues one whenever the alert has a create delivery). Reads
    only when there are attach follow-ups: a ticket filed with evidence files."""
    if not any(f.operation == ATTACH_EVIDENCE for f in follow_ups):
        return list(follow_ups)
    queued = {
        str(payload.get("file_id"))
        for payload in session.scalars(
            select(DeliveryRow.payload).where(
                DeliveryRow.alert_id == alert_id,
                DeliveryRow.provider == provider,
                DeliveryRow.operation == ATTACH_EVIDENCE,
            )
        )
        if isinstance(payload, dict)
    }
    kept = []
    for follow_up in follow_ups:
        file_id = str(follow_up.payload.get("file_id"))
        if follow_up.operation == ATTACH_EVIDENCE:
            if file_id in queued:
                continue
            queued.add(file_id)
        kept.append(follow_up)
    return kept


def _ticketing_providers(session: Session, alert_id: str) -> list[str]:
    return sorted(
        session.scalars(
            select(DeliveryRow.provider)
            .where(
                DeliveryRow.alert_id == alert_id,
                DeliveryRow.operation == CREATE_ISSUE,
                DeliveryRow.status != DeliveryStatus.DISCARDED.value,
            )
            .distinct()
        ).all()
    )


def _queue_attach(
    session: Session, alert: AlertRow, provider: str, file_id: str, now: datetime
) -> None:
    enqueue(
        session,
        alert_id=alert.id,
        workspace_id=alert.workspace_id,
        provider=provider,
        operation=ATTACH_EVIDENCE,
        payload={"file_id": file_id},
        now=now,
    )


def _attachments(session: Session, file_ids: Iterable[str]) -> dict[str, list[Attachment]]:
    """Each file's attach deliveries, with the newest attempt's message as the outcome."""
    wanted = set(file_ids)
    if not wanted:
        return {}
    alert_ids = session.scalars(
        select(EvidenceFileRow.alert_id).where(EvidenceFileRow.id.in_(wanted)).distinct()
    ).all()
    rows = session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.alert_id.in_(alert_ids), DeliveryRow.operation == ATTACH_EVIDENCE)
        .order_by(DeliveryRow.provider, DeliveryRow.sequence)
    ).all()
    found: dict[str, list[Attachment]] = {}
    for row in rows:
        file_id = str((row.payload or {}).get("file_id"))
        if file_id not in wanted:
            continue
        message = session.scalar(
            select(DeliveryAttemptRow.message)
            .where(DeliveryAttemptRow.delivery_id == row.id)
            .order_by(DeliveryAttemptRow.finished_at.desc(), DeliveryAttemptRow.attempt.desc())
            .limit(1)
        )
        outcome = message or row.last_error
        found.setdefault(file_id, []).append(Attachment(row.provider, row.id, row.status, outcome))
    return found
