"""A real lifecycle pipeline: database, the Jira sandbox over HTTP, a workspace with the Jira
provider, ingest, and in-process workers whose clock a test may move ahead (the reopen and
comment windows are days and minutes; the code under test reads time only from that clock)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import ANALYST_EMAIL, JiraSandbox
from sentineliq.sandbox.jira.seed import ANALYST_TOKEN
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import IngestReport, ingest_text
from sentineliq.services.providers import configure
from sentineliq.settings import DeliverySettings, Settings
from sentineliq.storage.workspaces import WorkspaceRepository

FAST = DeliverySettings(
    retry_base_s=0.2,
    retry_cap_s=1.0,
    max_attempts=10_000,
    search_lag_s=2.0,
    reconcile_interval_s=0.5,
    lease_s=5.0,
    rate_per_s=500.0,
)


def alert(
    fingerprint: str, *, at: datetime, severity: str = "high", **extra: Any
) -> dict[str, Any]:
    return {
        "title": f"Suspicious process tree ({fingerprint})",
        "severity": severity,
        "source": "EDR",
        "detected_at": at.isoformat(),
        "fingerprint": fingerprint,
        **extra,
    }


@dataclass
class Lifecycle:
    app: AppContext
    sandbox: JiraSandbox
    workspace_id: str

    @classmethod
    def open(cls, tmp_path: Path, database_url: str, sandbox: JiraSandbox) -> Lifecycle:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            secret_key=None,
            allow_private_targets=True,
            delivery=FAST,
        )
        app = AppContext.open(settings)
        workspace = WorkspaceRepository(app.db).create("SOC")
        pipeline = cls(app, sandbox, workspace.id)
        pipeline.configure()
        return pipeline

    def configure(self, **lifecycle: Any) -> None:
        config = {**sandbox_provider_config(self.sandbox.url), "timeout_s": 2.0}
        if lifecycle:
            config["lifecycle"] = lifecycle
        configure(self.app, self.workspace_id, "jira", config, actor="test")

    def ingest(self, *alerts: dict[str, Any]) -> IngestReport:
        text = "\n".join(json.dumps(a) for a in alerts)
        report = ingest_text(self.app, self.workspace_id, text, actor="test")
        assert not report.errors
        return report

    def work(self, *, ahead: timedelta = timedelta(0)) -> None:
        """Run a worker until nothing is due, its clock `ahead` of real time."""
        app = replace(self.app, settings=replace(self.app.settings, delivery=FAST))

        def clock() -> datetime:
            return datetime.now(UTC) + ahead

        Worker(app, clock=clock, batch_size=20).run(until_idle=True, poll_interval=0.05)

    def issue(self, key: str) -> dict[str, Any]:
        return next(i for i in self.sandbox.issues() if i["key"] == key)

    def person(self) -> httpx2.Client:
        """A person working in Jira (not the integration's account)."""
        return httpx2.Client(
            base_url=f"{self.sandbox.url}/rest/api/3", auth=(ANALYST_EMAIL, ANALYST_TOKEN)
        )

    def move(self, key: str, transition_name: str, resolution: str | None = None) -> None:
        with self.person() as jira:
            offered = jira.get(f"/issue/{key}/transitions").json()["transitions"]
            chosen = next(t for t in offered if t["name"] == transition_name)
            body: dict[str, Any] = {"transition": {"id": chosen["id"]}}
            if resolution is not None:
                body["fields"] = {"resolution": {"name": resolution}}
            jira.post(f"/issue/{key}/transitions", json=body).raise_for_status()

    def comments(self, key: str) -> list[dict[str, Any]]:
        with self.person() as jira:
            answer = jira.get(
                f"/issue/{key}/comment", params={"expand": "properties", "maxResults": 5000}
            )
            answer.raise_for_status()
            return list(answer.json()["comments"])

    def our_comments(self, key: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self.comments(key)
            if any(p["key"] == "sentineliq.delivery" for p in c.get("properties", ()))
        ]

    def property(self, key: str, name: str) -> Any:
        with self.person() as jira:
            answer = jira.get(f"/issue/{key}/properties/{name}")
            answer.raise_for_status()
            return answer.json()["value"]


def cell_after(document: dict[str, Any], label: str) -> str:
    """The text of the cell next to the header cell `label` in an ADF table."""
    rows = [node for node in _walk(document) if node.get("type") == "tableRow"]
    for row in rows:
        texts = [_text(cell) for cell in row.get("content", ())]
        if texts and texts[0] == label:
            return texts[1]
    raise AssertionError(f"no row {label!r} in the comment")


def text_of(document: dict[str, Any]) -> str:
    return _text(document)


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for child in node.get("content", ()):
            found.extend(_walk(child))
    return found


def _text(node: dict[str, Any]) -> str:
    return "".join(n.get("text", "") for n in _walk(node) if n.get("type") == "text")
