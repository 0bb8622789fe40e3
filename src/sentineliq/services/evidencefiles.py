"""Evidence files: upload (hashes computed here, a client's own hashes checked against them),
list, read and delete. The one use case behind the API, the CLI and the panel, so each refuses
the same input naming the field.

The content is streamed into the store (SENTINELIQ_EVIDENCE_DIR) and refused once it passes
SENTINELIQ_EVIDENCE_MAX_BYTES; a refused upload leaves nothing behind. Each file is attached to
the alert's ticket by an outbox delivery (delivery/operations/attach.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import BinaryIO

from sentineliq.alerts.files import EvidenceFile
from sentineliq.errors import InputError
from sentineliq.services.context import AppContext
from sentineliq.services.identity import InvalidFieldError
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.blobs import EvidenceStore, LocalFolderStore, TooLargeError
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.evidencefiles import EvidenceFileRepository

FILE_FIELD = "file"
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
NAME_MAX = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class FileTooLargeError(InputError):
    """The upload passed the configured size; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"{FILE_FIELD}: the file is larger than {human_bytes(limit)}, the limit for evidence "
            "files (set by SENTINELIQ_EVIDENCE_MAX_BYTES)"
        )
        self.field = FILE_FIELD
        self.limit = limit
        self.message = str(self).split(": ", 1)[1]


@dataclass(frozen=True)
class Uploaded:
    file: EvidenceFile
    created: bool  # False: the alert had this content already (the same file is answered)


def human_bytes(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def store_for(app: AppContext) -> EvidenceStore:
    """The installation's evidence store (the local folder; the only kind so far)."""
    return LocalFolderStore(app.settings.evidence_dir)


def clean_name(raw: str | None) -> str:
    """The file's name as given, without any folder part or control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise InvalidFieldError(FILE_FIELD, "the file needs a name")
    if len(name) > NAME_MAX:
        raise InvalidFieldError(FILE_FIELD, f"the file's name is longer than {NAME_MAX} characters")
    return name


def clean_content_type(raw: str | None) -> str:
    value = (raw or "").split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.fullmatch(value) else DEFAULT_CONTENT_TYPE


def expected_hashes(given: Mapping[str, str | None]) -> dict[str, str]:
    """The client's hashes, checked for form (lower-cased); InvalidFieldError naming one."""
    out: dict[str, str] = {}
    for name, length in HASH_LENGTHS.items():
        value = (given.get(name) or "").strip()
        if not value:
            continue
        if len(value) != length or not _HEX.fullmatch(value):
            raise InvalidFieldError(name, f"must be {length} hexadecimal digits")
        out[name] = value.lower()
    return out


def upload(
    app: AppContext,
    workspace_id: str,
    alert_id: str,
    chunks: Iterable[bytes],
    *,
    file_name: str | None,
    content_type: str | None,
    uploaded_by: str,
    hashes: Mapping[str, str | None] | None = None,
    store: EvidenceStore | None = None,
) -> Uploaded:
    """Store a file for the workspace's alert. NotFoundError for an alert that is not the
    workspace's; InvalidFieldError naming the field for a bad name or hash, or a hash that
    disagrees with the content (nothing stored); FileTooLargeError past the limit."""
    name = clean_name(file_name)
    expected = expected_hashes(hashes or {})
    stored_alert = AlertRepository(app.db).get(alert_id)  # NotFoundError
    if stored_alert.workspace_id != workspace_id:
        raise NotFoundError(f"no alert {alert_id} in this workspace")
    store = store or store_for(app)
    try:
        put = store.put(chunks, max_bytes=app.settings.evidence.max_bytes)
    except TooLargeError as exc:
        raise FileTooLargeError(exc.limit) from None
    computed = {"md5": put.digests.md5, "sha1": put.digests.sha1, "sha256": put.digests.sha256}
    for field, value in expected.items():
        if computed[field] != value:
            files = EvidenceFileRepository(app.db)
            if put.created and not files.content_in_use(put.key):
                store.delete(put.key)
            raise InvalidFieldError(
                field, f"does not match the file: the server computed {computed[field]}"
            )
    try:
        file, created = EvidenceFileRepository(app.db).add(
            workspace_id,
            alert_id,
            put,
            file_name=name,
            content_type=clean_content_type(content_type),
            uploaded_by=uploaded_by,
        )
    except BaseException:
        if put.created and not EvidenceFileRepository(app.db).content_in_use(put.key):
            store.delete(put.key)
        raise
    return Uploaded(file, created)


def files_of(app: AppContext, workspace_id: str, alert_id: str) -> list[EvidenceFile]:
    """The alert's files (deleted ones marked), oldest first; NotFoundError for an alert that
    is not the workspace's."""
    return EvidenceFileRepository(app.db).for_alert(alert_id, workspace_id=workspace_id)


def get(app: AppContext, workspace_id: str, file_id: str) -> EvidenceFile:
    return EvidenceFileRepository(app.db).get(workspace_id, file_id)


def open_content(
    app: AppContext, workspace_id: str, file_id: str, store: EvidenceStore | None = None
) -> tuple[EvidenceFile, BinaryIO]:
    """The file and its content to read. NotFoundError when it is not the workspace's or was
    deleted; StoredFileMissingError when its content is gone from the store."""
    file = get(app, workspace_id, file_id)
    if file.deleted_at is not None:
        raise NotFoundError(f"evidence file {file_id} was deleted")
    return file, (store or store_for(app)).open(file.storage_key)


def delete(
    app: AppContext,
    workspace_id: str,
    file_id: str,
    *,
    actor: str,
    reason: str,
    store: EvidenceStore | None = None,
) -> EvidenceFile:
    """Mark the file deleted (its custody chain closed with the reason) and remove its content
    unless another file has the same. Its row and chain stay."""
    if not reason.strip():
        raise InvalidFieldError("reason", "is required: say why the file is deleted")
    files = EvidenceFileRepository(app.db)
    deleted = files.delete(workspace_id, file_id, actor=actor, reason=reason.strip())
    if not files.content_in_use(deleted.storage_key):
        (store or store_for(app)).delete(deleted.storage_key)
    return deleted


def file_view(file: EvidenceFile) -> dict[str, object]:
    """A file for JSON (CLI and API say the same)."""
    path = f"/api/v1/workspaces/{file.workspace_id}/alerts/{file.alert_id}/evidence-files"
    return {
        "id": file.id,
        "alert_id": file.alert_id,
        "evidence_id": file.evidence_id,
        "file_name": file.file_name,
        "content_type": file.content_type,
        "size": file.size_bytes,
        "md5": file.md5,
        "sha1": file.sha1,
        "sha256": file.sha256,
        "created_at": file.created_at.astimezone(UTC).isoformat(),
        "uploaded_by": file.uploaded_by,
        "deleted_at": file.deleted_at.astimezone(UTC).isoformat() if file.deleted_at else None,
        "download": f"{path}/{file.id}/content",
        "attachments": [
            {
                "provider": a.provider,
                "delivery_id": a.delivery_id,
                "status": a.status,
                "outcome": a.outcome,
            }
            for a in file.attachments
        ],
    }
