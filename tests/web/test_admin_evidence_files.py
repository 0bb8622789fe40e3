"""The alert page's evidence files over HTTP on both databases: the upload form (CSRF, role,
a SHA-256 that disagrees refused with nothing stored), and the list with the hashes and how each
file reached the ticket."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.services import evidencefiles
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.ingest import ingest_text
from sentineliq.web.app import create_app

ALERT = {
    "title": "Beacon",
    "severity": "high",
    "source": "EDR",
    "detected_at": "2026-12-01T08:00:00Z",
}
CONTENT = b"GET /beacon HTTP/1.1\r\nHost: c2.example\r\n\r\n"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


@dataclass
class Panel:
    app: AppContext
    client: TestClient
    ws: str
    alert_id: str
    people: dict[str, Any]

    def upload(self, who: str, sha256: str = "", *, csrf: bool = True) -> Any:
        person = self.people[who]
        form = {"sha256": sha256}
        if csrf:
            form["csrf_token"] = person.session.csrf_token
        return self.client.post(
            f"/w/{self.ws}/alerts/{self.alert_id}/evidence-files",
            data=form,
            files={"file": ("beacon.http", CONTENT, "text/plain")},
            headers=person.cookie,
            follow_redirects=False,
        )

    def page(self, who: str = "member", url: str | None = None) -> str:
        answer = self.client.get(
            url or f"/w/{self.ws}/alerts/{self.alert_id}", headers=self.people[who].cookie
        )
        assert answer.status_code == 200
        return answer.text

    def files(self) -> list[Any]:
        return evidencefiles.files_of(self.app, self.ws, self.alert_id)


@pytest.fixture
def panel(app_context: AppContext, people: Any) -> Iterator[Panel]:
    ws = people.workspace("SOC")
    mine = ingest_text(app_context, ws.id, json.dumps(ALERT), actor="t").outcomes[0]
    who = {
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}),
        "outsider": people.user("owner@other.test", {people.workspace("Other").id: Role.OWNER}),
    }
    with TestClient(create_app(app_context)) as client:
        yield Panel(app_context, client, ws.id, mine.outcome.alert_id, who)


def test_a_member_uploads_and_the_page_lists_the_hashes(panel: Panel) -> None:
    assert "No files uploaded." in panel.page()
    assert 'id="upload-form"' in panel.page()
    answer = panel.upload("member", SHA256)
    assert answer.status_code == 303
    assert "done=file_uploaded" in answer.headers["location"]
    page = panel.page(url=answer.headers["location"])
    assert "File uploaded. It will be attached to the alert&#39;s ticket." in page
    assert SHA256 in page
    assert hashlib.md5(CONTENT).hexdigest() in page  # noqa: S324 - shown as computed
    assert "beacon.http" in page
    assert "no ticket yet" in page  # no provider: nothing to attach to
    [file] = panel.files()
    assert file.uploaded_by == "member@soc.test"
    # Its download link works for the same session.
    link = f"/api/v1/workspaces/{panel.ws}/alerts/{panel.alert_id}/evidence-files/{file.id}/content"
    assert link in page
    assert panel.client.get(link, headers=panel.people["member"].cookie).content == CONTENT


def test_refusals_store_nothing(panel: Panel) -> None:
    wrong = panel.upload("member", "0" * 64)
    assert "done=file_hash" in wrong.headers["location"]
    assert "does not match the file" in panel.page(url=wrong.headers["location"])
    assert panel.upload("member", SHA256, csrf=False).status_code == 403
    assert panel.upload("outsider", SHA256).status_code == 404
    assert panel.files() == []
