"""`sentineliq alerts resolve | dismiss | reopen` through the real executable: what is queued is
printed, the worker moves the sandbox issue once, the actor is the OS user, refusals are clear."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox

ALERTS = [
    {"title": t, "severity": "high", "source": "EDR", "detected_at": "2026-11-27T08:00:00Z"}
    for t in ("Beacon to C2", "Phish")
]


def _setup(cli: Cli, sandbox: JiraSandbox, tmp_path: Path) -> tuple[str, dict[str, str]]:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", "--issue-type", "Task",
        env={"JIRA_TOKEN": "sandbox-token"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    batch = tmp_path / "alerts.ndjson"
    batch.write_text("\n".join(json.dumps(a) for a in ALERTS) + "\n")
    assert cli("alerts", "ingest", "--workspace", workspace, str(batch)).returncode == 0
    assert cli("worker", "--until-idle").returncode == 0
    listed = cli.json("deliveries", "list", "--workspace", workspace)
    return workspace, {d["alert_title"]: d["alert_id"] for d in listed}


def _issue(sandbox: JiraSandbox, summary: str) -> dict[str, Any]:
    return next(i for i in sandbox.issues() if summary in i["fields"]["summary"])


def test_resolve_prints_the_queued_transition_and_the_worker_moves_the_issue(
    cli_any_db: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    cli = cli_any_db
    workspace, alerts = _setup(cli, sandbox, tmp_path)
    alert_id = alerts["Beacon to C2"]
    done = cli(
        "alerts", "resolve", alert_id, "--workspace", workspace, "--reason", "contained by IR"
    )
    assert done.returncode == 0, done.stderr
    assert f"alert {alert_id}: new -> resolved" in done.stdout
    assert "queued: jira ticket transition (delivery " in done.stdout

    assert cli("worker", "--until-idle").returncode == 0
    issue = _issue(sandbox, "Beacon to C2")
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
    assert issue["fields"]["resolution"]["name"] == "Done"
    shown = cli.json("alerts", "show", alert_id, "--workspace", workspace)
    assert shown["status"] == "resolved"
    assert shown["status_changed_by"].startswith(f"cli:{getpass.getuser()}@")

    again = cli("alerts", "resolve", alert_id, "--workspace", workspace, "--reason", "twice")
    assert again.returncode == 2
    assert "already resolved" in again.stderr


def test_dismiss_and_reopen_answer_json_and_refusals_name_the_problem(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace, alerts = _setup(cli, sandbox, tmp_path)
    alert_id = alerts["Phish"]
    dismissed = cli.json(
        "alerts", "dismiss", alert_id, "--workspace", workspace, "--reason", "training mail"
    )
    assert dismissed["status"] == "dismissed"
    assert dismissed["actor"].startswith("cli:")
    assert [t["provider"] for t in dismissed["transitions"]] == ["jira"]
    reopened = cli.json("alerts", "reopen", alert_id, "--workspace", workspace, "-r", "not sure")
    assert (reopened["status"], reopened["transitions"]) == ("new", [])

    blank = cli("alerts", "resolve", alert_id, "--workspace", workspace, "--reason", "  ")
    assert blank.returncode == 2
    assert "reason" in blank.stderr
    assert "Traceback" not in blank.stderr
    missing = cli("alerts", "resolve", alert_id, "--workspace", workspace)
    assert missing.returncode == 2
    assert "--reason" in missing.stderr
    unknown = cli("alerts", "resolve", "no-such-alert", "--workspace", workspace, "-r", "x")
    assert unknown.returncode == 2
    assert "no alert 'no-such-alert'" in unknown.stderr
