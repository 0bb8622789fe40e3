"""Evidence files of an alert: upload (multipart), list, download.

The server computes MD5, SHA-1 and SHA-256 as the file streams into the store; hashes the client
sends (`md5`, `sha1`, `sha256` form fields) must agree or nothing is stored (422 naming the
field). Larger than SENTINELIQ_EVIDENCE_MAX_BYTES: 413 naming `file`. Each file is attached to
the alert's ticket by the outbox (or linked, when larger than SENTINELIQ_ATTACH_MAX_BYTES).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sentineliq.alerts.files import EvidenceFile
from sentineliq.services import evidencefiles
from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.blobs import CHUNK, StoredFileMissingError, chunks_of
from sentineliq.storage.errors import NotFoundError
from sentineliq.web.api.auth import Caller, Viewer, require
from sentineliq.web.api.problems import ApiProblem, FieldError, Problem

router = APIRouter(tags=["evidence"])

_ID = r"^[A-Za-z0-9-]+$"
AlertId = Annotated[str, Path(min_length=1, max_length=64, pattern=_ID, description="Alert id.")]
FileId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=_ID, description="Evidence file id.")
]
Uploader = Annotated[Caller, Depends(require(Permission.TRIAGE))]


class AttachmentOut(BaseModel):
    provider: str
    delivery_id: str
    status: str = Field(description="The attach delivery's status (pending, delivered, dead, ...).")
    outcome: str | None = Field(
        description="What it did (attached, or linked when too large) or why it failed."
    )


class EvidenceFileOut(BaseModel):
    id: str
    alert_id: str
    evidence_id: str | None = Field(
        description="Its custody chain (see /custody): opened by the upload's `collected` entry."
    )
    file_name: str
    content_type: str
    size: int
    md5: str
    sha1: str
    sha256: str
    created_at: str
    uploaded_by: str
    deleted_at: str | None
    download: str = Field(description="Where to download it (this API, with the same auth).")
    attachments: list[AttachmentOut]


def _out(file: EvidenceFile) -> EvidenceFileOut:
    return EvidenceFileOut.model_validate(evidencefiles.file_view(file))


def _no_alert() -> ApiProblem:
    return ApiProblem(404, "no such alert in this workspace", kind="not-found")


_HASH = "Optional: the client's own {name} (hex); the upload is refused (422) if it disagrees."


@router.post(
    "/workspaces/{workspace_id}/alerts/{alert_id}/evidence-files",
    summary="Upload an evidence file",
    description=(
        "Multipart form with the file in `file` and optionally the client's `md5`, `sha1` "
        "and `sha256`. The server computes all three as the file is stored; a hash that "
        "disagrees is refused (422 naming it) and nothing is kept. 413 (naming `file`) above "
        "SENTINELIQ_EVIDENCE_MAX_BYTES. The same content uploaded again for the alert answers "
        "the existing file (200). Its custody chain starts with a `collected` entry holding the "
        "hashes; the alert's ticket gets it as an attachment (or a link, when larger than "
        "SENTINELIQ_ATTACH_MAX_BYTES) through the outbox. Needs the triage permission "
        "(members, admins, the workspace's API key)."
    ),
    status_code=201,
    response_model=EvidenceFileOut,
    responses={
        200: {"model": EvidenceFileOut, "description": "The alert had this content already."},
        404: {"model": Problem, "description": "No such alert in this workspace."},
        413: {"model": Problem, "description": "The file is too large; `errors` names `file`."},
        422: {"model": Problem, "description": "A hash disagrees or a field is invalid."},
    },
)
async def upload_evidence_file(
    alert_id: AlertId,
    caller: Uploader,
    file: Annotated[UploadFile, File(description="The evidence file.")],
    md5: Annotated[str | None, Form(max_length=200, description=_HASH.format(name="MD5"))] = None,
    sha1: Annotated[
        str | None, Form(max_length=200, description=_HASH.format(name="SHA-1"))
    ] = None,
    sha256: Annotated[
        str | None, Form(max_length=200, description=_HASH.format(name="SHA-256"))
    ] = None,
) -> JSONResponse:
    def store() -> evidencefiles.Uploaded:
        return evidencefiles.upload(
            caller.app,
            caller.workspace_id,
            alert_id,
            chunks_of(file.file, CHUNK),  # spooled to disk by the form parser, read in chunks
            file_name=file.filename,
            content_type=file.content_type,
            uploaded_by=caller.actor,
            hashes={"md5": md5, "sha1": sha1, "sha256": sha256},
        )

    try:
        uploaded = await run_in_threadpool(store)
    except InvalidFieldError as exc:
        raise ApiProblem(
            422,
            f"{exc.field}: {exc.message}",
            kind="validation",
            errors=[FieldError(field=f"body.{exc.field}", message=exc.message)],
        ) from None
    except evidencefiles.FileTooLargeError as exc:
        raise ApiProblem(
            413,
            str(exc),
            errors=[FieldError(field=f"body.{exc.field}", message=exc.message)],
        ) from None
    except NotFoundError:
        raise _no_alert() from None
    finally:
        await file.close()
    body = _out(uploaded.file).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if uploaded.created else 200)


@router.get(
    "/workspaces/{workspace_id}/alerts/{alert_id}/evidence-files",
    summary="List the evidence files of an alert",
    description=(
        "Every file uploaded for the alert, oldest first (deleted ones with `deleted_at`), "
        "with its hashes and how it reached each ticket."
    ),
    response_model=list[EvidenceFileOut],
    responses={404: {"model": Problem, "description": "No such alert in this workspace."}},
)
def list_evidence_files(alert_id: AlertId, caller: Viewer) -> list[EvidenceFileOut]:
    try:
        files = evidencefiles.files_of(caller.app, caller.workspace_id, alert_id)
    except NotFoundError:
        raise _no_alert() from None
    return [_out(f) for f in files]


@router.get(
    "/workspaces/{workspace_id}/alerts/{alert_id}/evidence-files/{file_id}/content",
    summary="Download an evidence file",
    description=(
        "The file as uploaded, with its SHA-256 in the `Digest`-style header "
        "`X-Content-SHA256`. 404 when it is not the alert's or was deleted."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The file's content.",
        },
        404: {"model": Problem, "description": "No such file (or it was deleted)."},
    },
)
def download_evidence_file(alert_id: AlertId, file_id: FileId, caller: Viewer) -> StreamingResponse:
    try:
        file, content = evidencefiles.open_content(caller.app, caller.workspace_id, file_id)
    except (NotFoundError, StoredFileMissingError):
        raise ApiProblem(404, "no such evidence file", kind="not-found") from None
    if file.alert_id != alert_id:
        content.close()
        raise ApiProblem(404, "no such evidence file", kind="not-found")

    def body() -> Iterator[bytes]:
        with content:
            yield from chunks_of(content, CHUNK)

    ascii_name = file.file_name.encode("ascii", "replace").decode().replace('"', "'")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file.file_name)}"
    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(file.size_bytes),
            "Content-Disposition": disposition,
            "X-Content-SHA256": file.sha256,
        },
    )
