"""Attaching an evidence file to its alert's ticket, exactly once.

The file's name goes through the workspace's redaction first: Jira receives the redacted name,
and the idempotency check compares that name. Idempotency: by name and size on the issue's
attachments, read directly (no search lag) after a request whose answer was lost; the stored
content is checked against its SHA-256 before it is sent, so the size stands for the hash.
A file larger than SENTINELIQ_ATTACH_MAX_BYTES, or one Jira refuses as too large (413), is
linked instead: a comment naming it with its size and SHA-256 and the product's download
address, carrying the delivery's key as its marker (found the same way as report comments).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sentineliq.alerts.files import EvidenceFile
from sentineliq.delivery.operations.base import Done, EvidenceAccess, Job
from sentineliq.delivery.operations.tickets import TicketOperation
from sentineliq.document.adf import render_adf
from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.outbox import TicketRef
from sentineliq.providers.base import AttachmentProvider, ErrorKind, ProviderError
from sentineliq.storage.blobs import CHUNK, StoredFileMissingError, chunks_of
from sentineliq.storage.deliveries.enqueue import ATTACH_EVIDENCE
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrences import TicketContext
from sentineliq.tickets.redaction import Redactor

TOO_LARGE = 413


def attachment_name(job: Job, file: EvidenceFile) -> str:
    """The name the ticket system receives: the file's, through the workspace's redaction."""
    return Redactor(job.content.redaction).text(file.file_name)


def download_url(evidence: EvidenceAccess, file: EvidenceFile) -> str:
    path = (
        f"/api/v1/workspaces/{file.workspace_id}/alerts/{file.alert_id}/evidence-files/"
        f"{file.id}/content"
    )
    return f"{evidence.settings.public_url}{path}" if evidence.settings.public_url else path


def _size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"


class AttachEvidence(TicketOperation):
    kind = ATTACH_EVIDENCE

    def find_on(self, job: Job, context: TicketContext, ticket: TicketRef) -> Done | None:
        _evidence, file = self._file(job)
        if file.deleted_at is not None:
            return None  # perform says so without a request
        name = attachment_name(job, file)
        provider = job.provider
        if isinstance(provider, AttachmentProvider):
            for attachment in provider.attachments(ticket.key):
                if attachment.filename == name and attachment.size == file.size_bytes:
                    return Done(
                        ticket, message=f"attached to {ticket.key} as {name} ({attachment.id})"
                    )
        if provider.find_comment(ticket.key, job.delivery.idempotency_key) is not None:
            return Done(ticket, message=f"linked on {ticket.key}: {name}")
        return None

    def perform_on(
        self,
        job: Job,
        context: TicketContext,
        ticket: TicketRef,
        before_send: Callable[[], None],
    ) -> Done:
        evidence, file = self._file(job)
        if file.deleted_at is not None:
            return Done(ticket, message=f"{file.file_name} was deleted before it was attached")
        name = attachment_name(job, file)
        limit = evidence.settings.attach_max_bytes
        if file.size_bytes > limit:
            why = f"larger than {_size(limit)} (SENTINELIQ_ATTACH_MAX_BYTES)"
            return self._link(job, ticket, evidence, file, name, why, before_send)
        provider = job.provider
        if not isinstance(provider, AttachmentProvider):
            raise ProviderError(
                ErrorKind.CONFIG, f"the {provider.name} provider cannot attach files to tickets"
            )
        self._check_content(evidence, file)
        try:
            with evidence.store.open(file.storage_key) as content:
                made = provider.add_attachment(
                    ticket.key, name, content, file.content_type, before_send=before_send
                )
        except StoredFileMissingError as exc:
            raise ProviderError(ErrorKind.CONFIG, str(exc)) from None
        except ProviderError as error:
            if error.status != TOO_LARGE:
                raise
            why = f"{job.provider.name} refused it as too large (HTTP {TOO_LARGE})"
            return self._link(job, ticket, evidence, file, name, why, before_send)
        return Done(ticket, message=f"attached to {ticket.key} as {name} ({made.id})")

    @staticmethod
    def _file(job: Job) -> tuple[EvidenceAccess, EvidenceFile]:
        evidence = job.evidence
        if evidence is None:
            raise ProviderError(ErrorKind.CONFIG, "this worker has no evidence store")
        file_id = job.delivery.payload.get("file_id")
        try:
            return evidence, evidence.files.by_id(str(file_id))
        except NotFoundError:
            raise ProviderError(ErrorKind.CONFIG, f"evidence file {file_id} not found") from None

    @staticmethod
    def _check_content(evidence: EvidenceAccess, file: EvidenceFile) -> None:
        """The stored content still is what was uploaded (what the ticket will carry)."""
        digest = hashlib.sha256()
        try:
            with evidence.store.open(file.storage_key) as content:
                for chunk in chunks_of(content, CHUNK):
                    digest.update(chunk)
        except StoredFileMissingError as exc:
            raise ProviderError(ErrorKind.CONFIG, str(exc)) from None
        if digest.hexdigest() != file.sha256:
            raise ProviderError(
                ErrorKind.CONFIG,
                f"the stored content of {file.file_name} no longer matches its SHA-256 "
                f"{file.sha256}: not attached",
            )

    @staticmethod
    def _link(
        job: Job,
        ticket: TicketRef,
        evidence: EvidenceAccess,
        file: EvidenceFile,
        name: str,
        why: str,
        before_send: Callable[[], None],
    ) -> Done:
        url = download_url(evidence, file)
        where = Text(url, href=url) if evidence.settings.public_url else Text(url, code=True)
        document = Document(
            (
                Paragraph(
                    (
                        Text("Evidence file ", strong=True),
                        Text(name, code=True),
                        Text(f" ({_size(file.size_bytes)}) is not attached: {why}."),
                    )
                ),
                Paragraph((Text("SHA-256 "), Text(file.sha256, code=True))),
                Paragraph((Text("Download it from SentinelIQ: "), where)),
            )
        )
        job.provider.add_comment(
            ticket.key,
            render_adf(document),
            marker=job.delivery.idempotency_key,
            before_send=before_send,
        )
        return Done(ticket, message=f"linked on {ticket.key}: {name} is {why}")
