"""The alerts list and an alert's page: its fields, its evidence files (with their hashes and how
they reached the ticket, and a form to upload one), its evidence with each chain of custody
verified, its tickets and its deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from sentineliq.services import custody, evidencefiles
from sentineliq.services.identity import InvalidFieldError, Permission
from sentineliq.storage.alerts import AlertRepository, StoredAlert
from sentineliq.storage.blobs import chunks_of
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrence_reads import occurrence_summary
from sentineliq.web.admin.csrf import check_session_token
from sentineliq.web.admin.errors import PageNotFound
from sentineliq.web.admin.flash import Flash
from sentineliq.web.admin.pages.alert_status import status_context
from sentineliq.web.admin.rendering import render
from sentineliq.web.admin.session import SignedIn, signed_in
from sentineliq.web.admin.workspace import WorkspacePage, in_section

router = APIRouter(include_in_schema=False)

Page = Annotated[WorkspacePage, in_section("alerts")]
LIST_LIMIT = 200


@router.get("/w/{workspace_id}/alerts")
def alerts(request: Request, page: Page) -> Response:
    rows = AlertRepository(page.app.db).list_for_workspace(page.workspace.id, limit=LIST_LIMIT)
    return render(
        request,
        "alerts.html",
        {"title": "Alerts", "page": page, "rows": rows, "limit": LIST_LIMIT},
    )


def _alert(page: WorkspacePage, alert_id: str) -> StoredAlert:
    try:
        found = AlertRepository(page.app.db).get(alert_id)
    except NotFoundError:
        found = None
    # Another workspace's alert looks exactly like a missing one.
    if found is None or found.workspace_id != page.workspace.id:
        raise PageNotFound("There is no such alert in this workspace.")
    return found


@router.get("/w/{workspace_id}/alerts/{alert_id}")
def alert(request: Request, page: Page, alert_id: str) -> Response:
    stored = _alert(page, alert_id)
    deliveries = DeliveryRepository(page.app.db).list_for_workspace(
        page.workspace.id, alert_id=alert_id
    )
    return render(
        request,
        "alert.html",
        {
            "title": stored.alert.title,
            "page": page,
            "stored": stored,
            "alert": stored.alert,
            "deliveries": deliveries,
            "repeats": occurrence_summary(page.app.db, stored.id),
            # Recomputed on every view: the page shows each chain's state as of now.
            "custody": custody.verify(page.app, page.workspace.id, stored.id),
            "files": evidencefiles.files_of(page.app, page.workspace.id, stored.id),
            "can_upload": page.can(Permission.TRIAGE),
            "max_bytes": evidencefiles.human_bytes(page.app.settings.evidence.max_bytes),
            **status_context(request, page, stored.id),
            **_file_flash(request),
        },
    )


FILE_MESSAGES = {
    "file_uploaded": Flash("success", "File uploaded. It will be attached to the alert's ticket."),
    "file_known": Flash("info", "The alert already has this file: nothing changed."),
    "file_required": Flash("error", "Choose a file to upload."),
    "file_too_large": Flash("error", "The file is too large for evidence files."),
    "file_hash": Flash("error", "The SHA-256 you gave does not match the file: not stored."),
    "file_invalid": Flash("error", "The file was refused: check its name and the SHA-256."),
}


def _file_flash(request: Request) -> dict[str, Flash]:
    found = FILE_MESSAGES.get(request.query_params.get("done", ""))
    return {"flash": found} if found is not None else {}


async def _upload_form(request: Request) -> AsyncIterator[FormData]:
    """The multipart form, its spooled files closed afterwards whatever the answer (a refused
    CSRF token or role included)."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


@router.post("/w/{workspace_id}/alerts/{alert_id}/evidence-files")
def upload_file(
    page: Page,
    alert_id: str,
    signed: Annotated[SignedIn, Depends(signed_in)],
    posted: Annotated[FormData, Depends(_upload_form)],
) -> Response:
    """The page's upload form: the file and, optionally, its SHA-256 as the uploader knows it."""
    check_session_token(signed, posted)
    page.require(Permission.TRIAGE)
    _alert(page, alert_id)
    upload = posted.get("file")
    sha256 = posted.get("sha256")
    code = "file_required"
    if isinstance(upload, UploadFile) and upload.filename:
        code = _store(page, alert_id, upload, sha256 if isinstance(sha256, str) else None)
    return RedirectResponse(page.url(f"/alerts/{alert_id}?done={code}#files"), status_code=303)


def _store(page: WorkspacePage, alert_id: str, upload: UploadFile, sha256: str | None) -> str:
    try:
        done = evidencefiles.upload(
            page.app,
            page.workspace.id,
            alert_id,
            chunks_of(upload.file),
            file_name=upload.filename,
            content_type=upload.content_type,
            uploaded_by=page.actor,
            hashes={"sha256": sha256},
        )
    except evidencefiles.FileTooLargeError:
        return "file_too_large"
    except InvalidFieldError as exc:
        return "file_hash" if exc.field == "sha256" else "file_invalid"
    return "file_uploaded" if done.created else "file_known"
