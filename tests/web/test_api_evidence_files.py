"""Evidence file uploads over the API on SQLite and PostgreSQL: the server's hashes, a client's
hash that disagrees refused naming it (nothing stored), the size cap (413 naming `file`, also
for a body the middleware stops), the custody chain an upload opens, download, and another
workspace's alert looking missing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from live_support import wait_for

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.settings import EvidenceSettings
from sentineliq.storage.audit import AuditRepository
from sentineliq.web.app import create_app

ALERT = {
    "title": "Malware on a laptop",
    "severity": "high",
    "source": "EDR",
    "detected_at": "2026-11-27T08:00:00Z",
}
CONTENT = b"MZ\x90\x00 not really a PE file\n" * 40
DIGESTS = {
    "md5": hashlib.md5(CONTENT).hexdigest(),  # noqa: S324 - the hash under test
    "sha1": hashlib.sha1(CONTENT).hexdigest(),  # noqa: S324
    "sha256": hashlib.sha256(CONTENT).hexdigest(),
}
MAX_BYTES = 4096


class Api:
    def __init__(self, client: TestClient, workspace_id: str, headers: dict[str, Any]) -> None:
        self.client = client
        self.workspace_id = workspace_id
        self.headers = headers
        answer = client.post(self.url("/alerts"), json=ALERT, headers=headers["api_key"])
        assert answer.status_code == 200, answer.text
        self.alert_id = answer.json()["results"][0]["alert_id"]

    def url(self, path: str) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}{path}"

    def files_url(self, alert_id: str | None = None) -> str:
        return self.url(f"/alerts/{alert_id or self.alert_id}/evidence-files")

    def upload(
        self,
        content: bytes = CONTENT,
        name: str = "sample.exe",
        who: str = "api_key",
        alert_id: str | None = None,
        **hashes: str,
    ) -> Any:
        return self.client.post(
            self.files_url(alert_id),
            files={"file": (name, content, "application/x-msdownload")},
            data=hashes,
            headers=self.headers[who],
        )

    def listed(self, who: str = "member") -> Any:
        return self.client.get(self.files_url(), headers=self.headers[who])


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence-store"


@pytest.fixture
def api(app_context: AppContext, people: Any, evidence_dir: Path) -> Iterator[Api]:
    settings = replace(
        app_context.settings, evidence=EvidenceSettings(dir=evidence_dir, max_bytes=MAX_BYTES)
    )
    context = replace(app_context, settings=settings)
    ws = people.workspace("SOC")
    other = people.workspace("Other")
    headers = {
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}).headers,
        "outsider": people.user("owner@other.test", {other.id: Role.OWNER}).headers,
        "api_key": {"Authorization": f"Bearer {people.api_key(ws.id, 'siem')}"},
    }
    with TestClient(create_app(context)) as client:
        yield Api(client, ws.id, headers)


def _stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_upload_computes_the_hashes_and_opens_a_custody_chain(
    api: Api, app_context: AppContext, evidence_dir: Path
) -> None:
    answer = api.upload(**DIGESTS)
    assert answer.status_code == 201, answer.text
    file = answer.json()
    assert {k: file[k] for k in DIGESTS} == DIGESTS
    assert (file["file_name"], file["size"]) == ("sample.exe", len(CONTENT))
    assert file["content_type"] == "application/x-msdownload"
    assert file["uploaded_by"] == "api_key:siem"
    # Stored by its content address, readable by its owner only, in a folder only it can enter.
    [stored] = _stored_files(evidence_dir)
    assert stored.name == DIGESTS["sha256"]
    assert stored.read_bytes() == CONTENT
    assert stored.stat().st_mode & 0o777 == 0o600
    assert evidence_dir.stat().st_mode & 0o777 == 0o700
    # Its chain of custody: opened by the upload, with the hashes, verified like any evidence.
    chains = api.client.get(
        api.url("/custody"), params={"alert_id": api.alert_id}, headers=api.headers["member"]
    ).json()
    [chain] = [c for c in chains if c["evidence_id"] == file["evidence_id"]]
    assert chain["status"] == "intact"
    [entry] = chain["entries"]
    assert (entry["action"], entry["actor"]) == ("collected", "api_key:siem")
    assert DIGESTS["sha256"] in entry["notes"]
    assert DIGESTS["md5"] in entry["notes"]
    # Listed and downloadable by a member; the same content again is the same file.
    [listed] = api.listed().json()
    assert listed["id"] == file["id"]
    download = api.client.get(file["download"], headers=api.headers["member"])
    assert download.status_code == 200
    assert download.content == CONTENT
    assert download.headers["x-content-sha256"] == DIGESTS["sha256"]
    assert "sample.exe" in download.headers["content-disposition"]
    again = api.upload(name="copy.exe")
    assert (again.status_code, again.json()["id"]) == (200, file["id"])
    actions = [e.action for e in AuditRepository(app_context.db).list(api.workspace_id)]
    assert actions.count("evidence_file.uploaded") == 1


@pytest.mark.parametrize("field", ["sha256", "md5", "sha1"])
def test_a_hash_that_disagrees_is_refused_naming_it_and_nothing_is_stored(
    api: Api, evidence_dir: Path, field: str
) -> None:
    wrong = {**DIGESTS, field: "0" * len(DIGESTS[field])}
    answer = api.upload(**wrong)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["errors"] == [
        {
            "field": f"body.{field}",
            "message": f"does not match the file: the server computed {DIGESTS[field]}",
        }
    ]
    assert api.listed().json() == []
    assert _stored_files(evidence_dir) == []


def test_a_malformed_hash_is_refused_naming_it(api: Api) -> None:
    answer = api.upload(sha256="not-hex")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "body.sha256"


def test_a_file_over_the_limit_is_refused_naming_the_field(api: Api, evidence_dir: Path) -> None:
    # Over the file limit but within the body's room for the form: the store stops reading.
    answer = api.upload(b"x" * (MAX_BYTES + 1))
    assert answer.status_code == 413
    problem = answer.json()
    assert problem["errors"][0]["field"] == "body.file"
    assert "SENTINELIQ_EVIDENCE_MAX_BYTES" in problem["detail"]
    # A body far over it is refused before it is read, naming the field too.
    huge = api.upload(b"x" * (MAX_BYTES + 200_000))
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["field"] == "body.file"
    assert api.listed().json() == []
    assert _stored_files(evidence_dir) == []
    # Exactly at the limit is fine.
    assert api.upload(b"y" * MAX_BYTES).status_code == 201


def test_access(api: Api) -> None:
    assert api.upload(who="member").status_code == 201
    # Another workspace's alert looks missing; an API key cannot read files back.
    assert api.upload(who="outsider").status_code == 404
    assert api.listed("outsider").status_code == 404
    assert api.listed("api_key").status_code == 403
    missing = api.upload(alert_id="00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    [file] = api.listed().json()
    url = file["download"].replace(file["id"], "00000000-0000-0000-0000-000000000000")
    assert api.client.get(url, headers=api.headers["member"]).status_code == 404


def test_over_the_wire_with_the_services_worker_the_file_reaches_the_ticket(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
    serve: Callable[..., Any],
) -> None:
    """`sentineliq serve` as deployed: the upload streams through uvicorn, the service's worker
    files the ticket and attaches the file, and the list says so."""
    ws = people.workspace("SOC")
    member = people.user("member@soc.test", {ws.id: Role.MEMBER})
    key = people.api_key(ws.id)
    configure(app_context, ws.id, "jira", jira_settings(), actor="test")
    live = serve(run_worker=True)
    base = f"{live.url}/api/v1/workspaces/{ws.id}"
    with httpx2.Client(timeout=30) as http:
        sent = http.post(f"{base}/alerts", headers={"Authorization": f"Bearer {key}"}, json=ALERT)
        alert_id = sent.json()["results"][0]["alert_id"]
        uploaded = http.post(
            f"{base}/alerts/{alert_id}/evidence-files",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("sample.exe", CONTENT, "application/x-msdownload")},
            data={"sha256": DIGESTS["sha256"]},
        )
        assert uploaded.status_code == 201, uploaded.text

        def attached() -> Any:
            [file] = http.get(
                f"{base}/alerts/{alert_id}/evidence-files", headers=member.headers
            ).json()
            done = [a for a in file["attachments"] if a["status"] == "delivered"]
            return done or None

        [status] = wait_for(attached)
        assert status["provider"] == "jira"
        assert status["outcome"].startswith("attached to SEC-1 as sample.exe")
    [issue] = jira_sandbox.issues()
    [attachment] = issue["fields"]["attachment"]
    assert jira_sandbox.attachment_content(attachment["id"]) == CONTENT
    assert DIGESTS["sha256"] in str(issue["fields"]["description"])
