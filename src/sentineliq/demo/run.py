"""The demo: sample alerts become Jira issues in the built-in sandbox, on a throwaway database."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
import threading
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services import evidencefiles
from sentineliq.services.context import AppContext
from sentineliq.services.ingest import ingest_text
from sentineliq.services.inputs import ingest_payload
from sentineliq.services.providers import configure, test_connection
from sentineliq.settings import Settings
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRepository
from sentineliq.storage.workspaces import WorkspaceRepository

# The sandbox's seeded API user (see sentineliq.sandbox.jira); not a real credential.
SANDBOX_EMAIL = "sandbox@sentineliq.test"
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105
DEMO_ADMIN = "admin@demo.sentineliq.test"  # its password is random, printed once per demo run


def sample_alerts() -> str:
    return files("sentineliq.demo").joinpath("samples.json").read_text("utf-8")


REPEATED = "NDR-90211"  # the beacon: it fires again, the second time from a second host


def repeated_alerts() -> str:
    """Two repeats of one sample, as NDJSON: later detections of the same beacon, the second
    with a higher severity, a new host and a new address (one ticket comment, priority raised)."""
    beacon = next(a for a in json.loads(sample_alerts()) if a.get("external_id") == REPEATED)
    first = {**beacon, "detected_at": "2026-11-27T07:45:22Z"}
    second = {
        **beacon,
        "detected_at": "2026-11-27T08:02:10Z",
        "severity": "high",
        "affected_assets": [*beacon["affected_assets"], "WS-DEV-044"],
        "observables": [
            *beacon["observables"],
            {"type": "ip", "value": "198.51.100.23", "tlp": "amber"},
        ],
    }
    return "\n".join(json.dumps(a) for a in (first, second))


def sandbox_provider_config(base_url: str) -> dict[str, object]:
    """A Jira provider configuration for the seeded sandbox (project SEC, its custom fields)."""
    return {
        "base_url": base_url,
        "email": SANDBOX_EMAIL,
        "api_token": SANDBOX_TOKEN,
        "project_key": "SEC",
        "issue_type": "Task",
        "custom_fields": {"customfield_10050": "threat_score", "customfield_10051": "source"},
    }


def demo_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        secret_key=None,
        allow_private_targets=True,  # the sandbox listens on loopback
    )


def run_demo(*, keep_running: bool = False, console: Console | None = None) -> int:
    console = console or Console(highlight=False)
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-demo-"))
    try:
        with (
            JiraSandbox(host="127.0.0.1", port=0) as sandbox,
            AppContext.open(demo_settings(data_dir)) as app,
        ):
            console.print(
                f"Jira sandbox: {sandbox.url}   database: {app.settings.safe_database_url}"
            )
            workspace = WorkspaceRepository(app.db).create("Demo SOC", actor="demo")
            configure(app, workspace.id, "jira", sandbox_provider_config(sandbox.url), actor="demo")
            report = test_connection(
                app, workspace.id, "jira", assignee_email="analyst@sentineliq.test"
            )
            for check in report.checks:
                mark = "[green]PASS[/green]" if check.ok else "[red]FAIL[/red]"
                console.print(f"  {mark} {escape(check.name)}: {escape(check.detail)}")
            if not report.ok:
                console.print("[red]The sandbox connection test failed; stopping.[/red]")
                return 1
            ingested = ingest_text(app, workspace.id, sample_alerts(), actor="demo")
            console.print(f"Ingested {ingested.accepted} sample alerts; delivering...")
            stats = Worker(app, worker_id="demo-worker").run(until_idle=True)
            _print_table(console, app, workspace.id)
            console.print(
                f"delivered {stats.delivered}, retry scheduled {stats.retrying}, dead {stats.dead}"
            )
            attached = _evidence_round(console, app, sandbox, workspace.id)
            repeats = ingest_text(app, workspace.id, repeated_alerts(), actor="demo")
            console.print(
                f"{repeats.occurrences} repeats of {REPEATED} arrived; reporting them on its "
                "ticket..."
            )
            again = Worker(app, worker_id="demo-worker").run(until_idle=True)
            _print_repeats(console, app, sandbox, workspace.id)
            prometheus = _alertmanager_round(console, app, sandbox, workspace.id)
            finding = _ocsf_round(console, app, sandbox, workspace.id)
            if keep_running:
                _serve_panel(console, app, workspace.id, sandbox.url)
            filed = stats.delivered == ingested.accepted and stats.dead == 0
            reported = again.delivered == 1 and again.dead == 0
            return 0 if filed and reported and prometheus and finding and attached else 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _serve_panel(console: Console, app: AppContext, workspace_id: str, sandbox_url: str) -> None:
    """Keep everything up for a person: the admin panel (with a throwaway login) and the sandbox."""
    from sentineliq.services.identity import IdentityService, Role
    from sentineliq.services.passwords import password_problem
    from sentineliq.web.app import create_app
    from sentineliq.web.server import BackgroundServer

    password = secrets.token_urlsafe(12)
    while password_problem(password, DEMO_ADMIN) is not None:  # a random one may contain 'admin'
        password = secrets.token_urlsafe(12)
    identity = IdentityService(app)
    admin = identity.create_user(DEMO_ADMIN, password, display_name="Demo admin", actor="demo")
    identity.add_member(workspace_id, admin.id, Role.OWNER, actor="demo")
    panel = BackgroundServer.start(create_app(app, run_worker=True))
    try:
        console.print(f"Admin panel: {panel.url}/  sign in as {DEMO_ADMIN} / {password}")
        console.print(f"Browse the issues at {sandbox_url}/browse  (Ctrl-C to stop)")
        _wait_for_interrupt()
    finally:
        panel.stop()


def _print_table(console: Console, app: AppContext, workspace_id: str) -> None:
    alerts = {a.id: a for a in AlertRepository(app.db).list_for_workspace(workspace_id, limit=1000)}
    table = Table("alert", "severity", "issue", "sandbox URL", title="Tickets filed")
    views = [
        v
        for v in DeliveryRepository(app.db).list_for_workspace(workspace_id)
        if v.operation == CREATE_ISSUE
    ]
    for view in sorted(
        views, key=lambda v: (v.issue_key is None, len(v.issue_key or ""), v.issue_key)
    ):
        severity = alerts[view.alert_id].severity if view.alert_id in alerts else ""
        table.add_row(
            escape(view.alert_title[:70]),
            severity,
            view.issue_key or f"[red]{view.status.value}[/red]",
            view.url or escape(view.last_error or ""),
        )
    console.print(table)


def _print_repeats(
    console: Console, app: AppContext, sandbox: JiraSandbox, workspace_id: str
) -> None:
    """The repeated alert's living ticket: its comment and its priority, as Jira shows them."""
    alerts = AlertRepository(app.db)
    repeated = next(
        a
        for a in alerts.list_for_workspace(workspace_id, limit=1000)
        if a.title.startswith("Periodic HTTPS beacon")
    )
    stored = alerts.get(repeated.id)
    for link in stored.tickets:
        issue = next(i for i in sandbox.issues() if i["key"] == link.issue_key)
        context = alerts.ticket_context(repeated.id, link.provider)
        console.print(
            f"{link.issue_key} got one comment for {context.occurrence_count} repeats "
            f"(severity {repeated.severity} -> {context.peak_severity}); its priority is now "
            f"{issue['fields']['priority']['name']}: {link.url}"
        )


DEMO_EVIDENCE = "beacon-capture.txt"


def _evidence_round(
    console: Console, app: AppContext, sandbox: JiraSandbox, workspace_id: str
) -> bool:
    """An analyst uploads the beacon's capture summary; the worker attaches it to its ticket."""
    alerts = AlertRepository(app.db)
    beacon = next(
        a
        for a in alerts.list_for_workspace(workspace_id, limit=1000)
        if a.title.startswith("Periodic HTTPS beacon")
    )
    content = files("sentineliq.demo").joinpath(DEMO_EVIDENCE).read_bytes()
    uploaded = evidencefiles.upload(
        app,
        workspace_id,
        beacon.id,
        iter([content]),
        file_name=DEMO_EVIDENCE,
        content_type="text/plain",
        uploaded_by="analyst@sentineliq.test",
    ).file
    done = Worker(app, worker_id="demo-worker").run(until_idle=True)
    [link] = alerts.get(beacon.id).tickets
    issue = next(i for i in sandbox.issues() if i["key"] == link.issue_key)
    names = [a["filename"] for a in issue["fields"].get("attachment") or []]
    attached = DEMO_EVIDENCE in names and done.dead == 0
    console.print(
        f"Evidence file {DEMO_EVIDENCE} (SHA-256 {uploaded.sha256[:16]}...) "
        + (f"attached to {link.issue_key}" if attached else "[red]not attached[/red]")
        + f": {link.url}"
    )
    return attached


def alertmanager_group(status: str = "firing") -> dict[str, Any]:
    """A Prometheus Alertmanager webhook notification (payload v4) of one alert."""
    group: dict[str, Any] = json.loads(
        files("sentineliq.demo").joinpath("alertmanager.json").read_text("utf-8")
    )
    group["status"] = status
    for alert in group["alerts"]:
        alert["status"] = status
        if status == "resolved":
            alert["endsAt"] = "2026-11-27T08:40:00Z"
    return group


def _alertmanager_round(
    console: Console, app: AppContext, sandbox: JiraSandbox, workspace_id: str
) -> bool:
    """Alertmanager sends a group as it is; then says it resolved: the ticket follows."""
    firing = ingest_payload(app, workspace_id, "alertmanager", alertmanager_group(), actor="demo")
    filed = Worker(app, worker_id="demo-worker").run(until_idle=True)
    resolved = ingest_payload(
        app, workspace_id, "alertmanager", alertmanager_group("resolved"), actor="demo"
    )
    moved = Worker(app, worker_id="demo-worker").run(until_idle=True)
    (outcome,) = firing.report.outcomes
    for link in AlertRepository(app.db).get(outcome.outcome.alert_id).tickets:
        issue = next(i for i in sandbox.issues() if i["key"] == link.issue_key)["fields"]
        console.print(
            f"Alertmanager group: {link.issue_key} filed ({issue['priority']['name']}: "
            f"{escape(issue['summary'])}); resolved at the source, it is now "
            f"{issue['status']['name']}"
        )
    return (
        firing.report.accepted == 1
        and len(resolved.changes) == 1
        and filed.delivered == 1
        and moved.delivered == 1
    )


def ocsf_finding() -> dict[str, Any]:
    """An OCSF Detection Finding (2004) as AWS Security Hub forwards GuardDuty's."""
    finding: dict[str, Any] = json.loads(
        files("sentineliq.demo").joinpath("ocsf.json").read_text("utf-8")
    )
    return finding


def _ocsf_round(console: Console, app: AppContext, sandbox: JiraSandbox, workspace_id: str) -> bool:
    """An OCSF finding, sent as the SIEM emits it, becomes a ticket with its ATT&CK ids."""
    sent = ingest_payload(app, workspace_id, "ocsf", ocsf_finding(), actor="demo")
    filed = Worker(app, worker_id="demo-worker").run(until_idle=True)
    (outcome,) = sent.report.outcomes
    stored = AlertRepository(app.db).get(outcome.outcome.alert_id)
    for link in stored.tickets:
        issue = next(i for i in sandbox.issues() if i["key"] == link.issue_key)["fields"]
        console.print(
            f"OCSF finding: {link.issue_key} filed ({issue['priority']['name']}: "
            f"{escape(issue['summary'])}) with ATT&CK {', '.join(stored.alert.mitre)}"
        )
    return sent.report.accepted == 1 and filed.delivered == 1


def _wait_for_interrupt() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
