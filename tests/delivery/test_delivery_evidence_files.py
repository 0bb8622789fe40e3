"""Evidence files reach the ticket through the outbox, on SQLite and PostgreSQL, over HTTP to the
Jira sandbox: attached after the ticket is filed (also when uploaded before), exactly once after
a lost answer (the reconcile finds it by name and size), retried through 5xx and 429, linked
instead when too large (ours or Jira's 413), the name redacted before it leaves, and a file
whose stored content changed never sent."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest
from delivery_harness import Pipeline

from sentineliq.delivery.worker import Worker
from sentineliq.providers.jira.client import JiraClient
from sentineliq.services import custody, evidencefiles
from sentineliq.services.backfill import enable_provider
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryStatus
from sentineliq.storage.deliveries.enqueue import ATTACH_EVIDENCE
from sentineliq.storage.providers import ProviderRepository

CONTENT = b'203.0.113.9 - - [27/Nov/2026:08:00:01 +0000] "GET /wp-login.php HTTP/1.1" 200\n' * 30
ATTACHMENTS = "/rest/api/3/issue/SEC-1/attachments"
XSRF = "X-Atlassian-Token"


def _alert(pipeline: Pipeline) -> str:
    pipeline.ingest(1)
    [alert] = AlertRepository(pipeline.app.db).list_for_workspace(pipeline.workspace_id)
    return alert.id


def _upload(pipeline: Pipeline, alert_id: str, name: str = "access.log", **kw: Any) -> Any:
    content = kw.pop("content", CONTENT)
    return evidencefiles.upload(
        pipeline.app,
        pipeline.workspace_id,
        alert_id,
        iter([content]),
        file_name=name,
        content_type="text/plain",
        uploaded_by="analyst@soc.test",
    ).file


def _run(pipeline: Pipeline, **evidence: Any) -> Worker:
    app = pipeline.app
    if evidence:
        settings = replace(app.settings, evidence=replace(app.settings.evidence, **evidence))
        app = replace(app, settings=settings)
    worker = Worker(app, concurrency=1)
    pipeline.workers.append(worker)
    worker.run(until_idle=True, poll_interval=0.05)
    return worker


def _attachments(pipeline: Pipeline) -> list[dict[str, Any]]:
    [issue] = pipeline.sandbox.issues()
    return list(issue["fields"]["attachment"])


def _attach_deliveries(pipeline: Pipeline) -> list[Any]:
    return [v for v in pipeline.deliveries() if v.operation == ATTACH_EVIDENCE]


def _comment_texts(pipeline: Pipeline) -> list[str]:
    [issue] = pipeline.sandbox.issues()
    out = []
    for comment in issue["comments"]:
        out.append(_text(comment["body"]))
    return out


def _text(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("text", "")) + "".join(_text(c) for c in node.get("content", []))
    return ""


def test_a_file_uploaded_after_the_ticket_is_attached(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    file = _upload(pipeline, alert_id)
    [queued] = _attach_deliveries(pipeline)
    assert queued.status is DeliveryStatus.PENDING
    _run(pipeline)
    [attachment] = _attachments(pipeline)
    assert (attachment["filename"], attachment["size"]) == ("access.log", len(CONTENT))
    assert attachment["mimeType"] == "text/plain"
    assert pipeline.sandbox.attachment_content(attachment["id"]) == CONTENT
    [done] = _attach_deliveries(pipeline)
    assert done.status is DeliveryStatus.DELIVERED
    [listed] = evidencefiles.files_of(pipeline.app, pipeline.workspace_id, alert_id)
    [status] = listed.attachments
    assert status.status == "delivered"
    assert status.outcome == f"attached to SEC-1 as access.log ({attachment['id']})"
    assert listed.id == file.id
    # Every attachment request carried the XSRF opt-out Jira demands (the sandbox checks it).
    posts = [r for r in pipeline.sandbox.requests() if r.path == ATTACHMENTS]
    assert [r.status for r in posts] == [200]


def test_files_uploaded_before_the_ticket_are_attached_right_after_it(
    pipeline: Pipeline,
) -> None:
    alert_id = _alert(pipeline)
    first = _upload(pipeline, alert_id, "first.log")
    _upload(pipeline, alert_id, "second.log", content=CONTENT + b"more\n")
    _run(pipeline)
    assert [a["filename"] for a in _attachments(pipeline)] == ["first.log", "second.log"]
    # The description filed with them lists them with their hashes (validated as ADF by Jira).
    [issue] = pipeline.sandbox.issues()
    description = _text(issue["fields"]["description"])
    assert "first.log" in description
    assert first.sha256 in description
    assert first.md5 in description
    assert "Chain of custody verified at" in description
    assert all(d.status is DeliveryStatus.DELIVERED for d in _attach_deliveries(pipeline))


def test_a_file_uploaded_before_any_provider_is_attached_when_its_ticket_is_filed(
    pipeline: Pipeline,
) -> None:
    ProviderRepository(pipeline.app.db, pipeline.app.secrets).set_enabled(
        pipeline.workspace_id, "jira", False, actor="test"
    )
    alert_id = _alert(pipeline)
    _upload(pipeline, alert_id)
    assert _attach_deliveries(pipeline) == []  # no ticket is on its way: nothing to attach to
    enable_provider(pipeline.app, pipeline.workspace_id, "jira", actor="test")  # its create
    _run(pipeline)
    [attachment] = _attachments(pipeline)
    assert attachment["filename"] == "access.log"


def test_a_lost_answer_is_reconciled_without_a_second_attachment(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    _upload(pipeline, alert_id)
    # Jira stores the attachment, but its answer never arrives.
    pipeline.sandbox.set_fault("drop_after_create", count=1, path=ATTACHMENTS)
    _run(pipeline)
    [attachment] = _attachments(pipeline)
    assert attachment["filename"] == "access.log"
    posts = [r for r in pipeline.sandbox.requests() if r.path == ATTACHMENTS]
    assert len(posts) == 1
    assert posts[0].fault == "drop_after_create"
    # The second attempt read the issue's attachments, found it, and sent nothing.
    reads = [r for r in pipeline.sandbox.requests() if r.path == "/rest/api/3/issue/SEC-1"]
    assert any("attachment" in r.query for r in reads)
    [done] = _attach_deliveries(pipeline)
    assert done.status is DeliveryStatus.DELIVERED
    assert "adopted" in pipeline.outcomes()


def test_5xx_and_429_are_retried(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    _upload(pipeline, alert_id)
    pipeline.sandbox.set_fault("error", status=503, count=2, path=ATTACHMENTS)
    _run(pipeline)
    pipeline.sandbox.set_fault("error", status=429, count=1, path=ATTACHMENTS, retry_after=1)
    _upload(pipeline, alert_id, "second.log", content=b"second\n")
    _run(pipeline)
    assert [a["filename"] for a in _attachments(pipeline)] == ["access.log", "second.log"]
    statuses = [r.status for r in pipeline.sandbox.requests() if r.path == ATTACHMENTS]
    assert statuses == [503, 503, 200, 429, 200]
    assert all(d.status is DeliveryStatus.DELIVERED for d in _attach_deliveries(pipeline))


def test_jiras_413_links_the_file_instead(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    pipeline.sandbox.set_attachment_max_bytes(100)
    file = _upload(pipeline, alert_id)
    _run(pipeline, public_url="https://siq.example.org")
    assert _attachments(pipeline) == []
    [comment] = _comment_texts(pipeline)
    assert "access.log" in comment
    assert file.sha256 in comment
    assert "refused it as too large (HTTP 413)" in comment
    [issue] = pipeline.sandbox.issues()
    link = (
        f"https://siq.example.org/api/v1/workspaces/{pipeline.workspace_id}/alerts/{alert_id}"
        f"/evidence-files/{file.id}/content"
    )
    assert link in str(issue["comments"][0]["body"])
    [done] = _attach_deliveries(pipeline)
    assert done.status is DeliveryStatus.DELIVERED


def test_a_file_above_the_attach_limit_is_linked_without_trying(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    file = _upload(pipeline, alert_id)
    _run(pipeline, attach_max_bytes=1000)
    assert _attachments(pipeline) == []
    assert not [r for r in pipeline.sandbox.requests() if r.path == ATTACHMENTS]
    [comment] = _comment_texts(pipeline)
    assert "larger than 1000 bytes (SENTINELIQ_ATTACH_MAX_BYTES)" in comment
    assert file.sha256 in comment
    [listed] = evidencefiles.files_of(pipeline.app, pipeline.workspace_id, alert_id)
    assert "linked on SEC-1" in str(listed.attachments[0].outcome)


def test_the_name_is_redacted_before_it_leaves(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    secret = "AKIAIOSFODNN7EXAMPLE"
    _upload(pipeline, alert_id, f"creds-{secret}.txt")
    _run(pipeline)
    [attachment] = _attachments(pipeline)
    assert secret not in attachment["filename"]
    assert attachment["filename"].startswith("creds-")
    assert all(secret not in r.body for r in pipeline.sandbox.requests())
    # After a lost answer the check compares the redacted name, so it still finds it.
    _upload(pipeline, alert_id, f"more-{secret}.txt", content=b"other\n")
    pipeline.sandbox.set_fault("drop_after_create", count=1, path=ATTACHMENTS)
    _run(pipeline)
    assert len(_attachments(pipeline)) == 2


def test_a_file_whose_stored_content_changed_is_never_sent(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    file = _upload(pipeline, alert_id)
    stored = pipeline.app.settings.evidence_dir / file.storage_key
    stored.write_bytes(b"tampered")
    _run(pipeline)
    assert _attachments(pipeline) == []
    [dead] = _attach_deliveries(pipeline)
    assert dead.status is DeliveryStatus.DEAD
    assert "no longer matches its SHA-256" in str(dead.last_error)
    assert hashlib.sha256(b"tampered").hexdigest() != file.sha256


def test_a_lost_xsrf_header_is_a_dead_letter_naming_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy dropping X-Atlassian-Token on the way: Jira's XSRF check refuses (403), which no
    retry can cure, so the delivery is dead-lettered at once with the reason, not retried."""
    alert_id = _alert(pipeline)
    _run(pipeline)
    _upload(pipeline, alert_id)
    sent = JiraClient._request

    def without_token(self: JiraClient, method: str, path: str, **kw: Any) -> Any:
        headers = {k: v for k, v in (kw.pop("headers", None) or {}).items() if k != XSRF}
        return sent(self, method, path, headers=headers, **kw)

    monkeypatch.setattr(JiraClient, "_request", without_token)
    _run(pipeline)
    assert _attachments(pipeline) == []
    [dead] = _attach_deliveries(pipeline)
    assert dead.status is DeliveryStatus.DEAD
    assert dead.attempts == 1
    assert dead.error_kind == "config"
    assert "XSRF" in str(dead.last_error)
    assert "X-Atlassian-Token: no-check" in str(dead.last_error)
    [refused] = [r for r in pipeline.sandbox.requests() if r.path == ATTACHMENTS]
    assert refused.status == 403


def test_a_deleted_file_is_not_attached_and_its_chain_is_closed(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    _run(pipeline)
    file = _upload(pipeline, alert_id)
    stored = pipeline.app.settings.evidence_dir / file.storage_key
    assert stored.exists()
    evidencefiles.delete(
        pipeline.app, pipeline.workspace_id, file.id, actor="analyst", reason="wrong alert"
    )
    assert not stored.exists()  # no other file has this content
    _run(pipeline)
    assert _attachments(pipeline) == []
    [listed] = evidencefiles.files_of(pipeline.app, pipeline.workspace_id, alert_id)
    assert listed.deleted_at is not None
    assert "was deleted before it was attached" in str(listed.attachments[0].outcome)
    [chain] = [
        c
        for c in custody.verify(pipeline.app, pipeline.workspace_id, alert_id)
        if c.evidence_id == file.evidence_id
    ]
    assert chain.ok
    assert [line.action for line in chain.lines] == ["collected", "deleted"]


def test_deleting_a_files_evidence_deletes_the_file(pipeline: Pipeline) -> None:
    alert_id = _alert(pipeline)
    file = _upload(pipeline, alert_id)
    assert file.evidence_id is not None
    custody.delete_evidence(
        pipeline.app,
        pipeline.workspace_id,
        file.evidence_id,
        actor="analyst",
        reason="retention",
        recorded_by="test",
    )
    [listed] = evidencefiles.files_of(pipeline.app, pipeline.workspace_id, alert_id)
    assert listed.deleted_at is not None
    _run(pipeline)
    assert _attachments(pipeline) == []
