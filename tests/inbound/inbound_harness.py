"""The inbound test harness: real database, real sandbox over HTTP, the real service on
loopback receiving the sandbox's real webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from sentineliq.delivery.worker import Worker
from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.services.webhooks import WEBHOOK_PATH, generate_webhook_secret
from sentineliq.settings import DeliverySettings, Settings
from sentineliq.storage.alertstate import AlertState, AlertStateRepository
from sentineliq.storage.inbound import InboundRepository, ProviderRef
from sentineliq.storage.tables import TicketLinkRow
from sentineliq.storage.workspaces import WorkspaceRepository
from sentineliq.web.app import create_app
from sentineliq.web.server import BackgroundServer

PAT_EMAIL = "pat@sentineliq.test"
PAT_NAME = "Pat Person"
PAT_TOKEN = "pat-token"
FAST = DeliverySettings(
    retry_base_s=0.2, retry_cap_s=1.0, search_lag_s=2.0, reconcile_interval_s=0.2, rate_per_s=200.0
)
WEBHOOK_WAIT_S = 20.0


@dataclass
class Inbound:
    app: AppContext
    sandbox: JiraSandbox
    workspace_id: str
    server: BackgroundServer
    _count: int = field(default=0)

    @classmethod
    def open(
        cls, tmp_path: Path, database_url: str, sandbox: JiraSandbox, **config: Any
    ) -> Inbound:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            secret_key=None,
            allow_private_targets=True,
            delivery=FAST,
        )
        app = AppContext.open(settings)
        workspace = WorkspaceRepository(app.db).create("SOC")
        provider_config = {**sandbox_provider_config(sandbox.url), "timeout_s": 5.0, **config}
        configure(app, workspace.id, "jira", provider_config, actor="test")
        server = BackgroundServer.start(create_app(app))
        return cls(app, sandbox, workspace.id, server)

    def close(self) -> None:
        self.server.stop()
        self.app.close()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def provider(self) -> ProviderRef:
        return InboundRepository(self.app.db, self.app.secrets).provider_of(
            self.workspace_id, "jira"
        )

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH.format(provider_id=self.provider.id)

    def reconfigure(self, **config: Any) -> None:
        provider_config = {**sandbox_provider_config(self.sandbox.url), "timeout_s": 5.0, **config}
        configure(self.app, self.workspace_id, "jira", provider_config, actor="test")

    # -- alerts with tickets ------------------------------------------------------------------

    def ticketed_alert(self) -> tuple[str, str]:
        """Ingest one alert and deliver it: (alert id, issue key)."""
        self._count += 1
        text = json.dumps(
            {
                "title": f"Beacon {self._count}",
                "severity": "high",
                "source": "NDR",
                "detected_at": "2026-11-27T08:00:00Z",
                "external_id": f"inbound-{self._count}",
            }
        )
        report = ingest_text(self.app, self.workspace_id, text, actor="test")
        assert report.accepted == 1, report
        Worker(self.app).run(until_idle=True)
        with self.app.db.session() as session:
            link = session.query(TicketLinkRow).order_by(TicketLinkRow.created_at.desc()).first()
            assert link is not None
            return link.alert_id, link.issue_key

    def state(self, alert_id: str) -> AlertState:
        return AlertStateRepository(self.app.db).state(alert_id)

    # -- webhooks -----------------------------------------------------------------------------

    def connect_webhook(self, events: tuple[str, ...] | None = None) -> str:
        """Generate the secret and register the webhook in the sandbox as an admin would."""
        secret = generate_webhook_secret(self.app, self.provider, actor="test")
        kwargs: dict[str, Any] = {"retry_delays": (0.05, 0.1, 0.2)}
        if events is not None:
            kwargs["events"] = events
        self.sandbox.add_webhook(self.webhook_url, secret, **kwargs)
        return secret

    # -- a person in Jira ---------------------------------------------------------------------

    def jira(self, email: str = PAT_EMAIL, token: str = PAT_TOKEN) -> httpx2.Client:
        return httpx2.Client(base_url=self.sandbox.url, auth=(email, token), timeout=10)

    def admin_jira(self) -> httpx2.Client:
        return self.jira(ADMIN_EMAIL, ADMIN_TOKEN)

    def move(self, key: str, status: str, *, client: httpx2.Client | None = None) -> None:
        """Transition `key` to `status` through the REST API (GET transitions, POST one)."""
        with client or self.jira() as jira:
            found = jira.get(f"/rest/api/3/issue/{key}/transitions").json()["transitions"]
            transition = next(t for t in found if t["to"]["name"] == status)
            answer = jira.post(
                f"/rest/api/3/issue/{key}/transitions",
                json={"transition": {"id": transition["id"]}},
            )
            assert answer.status_code == 204, answer.text

    def comment(self, key: str, text: str, *, client: httpx2.Client | None = None) -> str:
        body = {
            "body": {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
            }
        }
        with client or self.jira() as jira:
            answer = jira.post(f"/rest/api/3/issue/{key}/comment", json=body)
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

    def wait(self) -> None:
        self.sandbox.wait_for_webhooks(WEBHOOK_WAIT_S)
