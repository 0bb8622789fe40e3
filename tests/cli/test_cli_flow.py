"""The script-facing CLI forms, end to end: workspace, provider, ingest, worker, deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox

TOKEN = "sandbox-token"


def alert(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "severity": "high",
        "source": "EDR",
        "detected_at": "2026-11-27T08:00:00Z",
        "link": "https://siem.example/alerts/1",
        **extra,
    }


def configure(cli: Cli, workspace: str, sandbox: JiraSandbox, token: str = TOKEN) -> None:
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", "--issue-type", "Task",
        env={"JIRA_TOKEN": token},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr


def test_alert_to_issue_end_to_end(cli_any_db: Cli, sandbox: JiraSandbox, tmp_path: Path) -> None:
    cli = cli_any_db
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    configure(cli, workspace, sandbox)

    assert cli("provider", "test", "jira", "--workspace", workspace).returncode == 0

    batch = tmp_path / "alerts.ndjson"
    lines = [alert("Beacon to C2", external_id="a-1"), {"title": "broken"}, alert("Phish")]
    batch.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    ingested = cli("alerts", "ingest", "--workspace", workspace, str(batch))
    assert ingested.returncode == 3  # some refused
    assert "record 2 (line 2): severity: Field required" in ingested.stderr
    assert "accepted 2" in ingested.stdout

    worked = cli("worker", "--until-idle")
    assert worked.returncode == 0, worked.stderr
    assert "delivered 2" in worked.stdout

    listed = cli.json("deliveries", "list", "--workspace", "SOC")
    assert sorted(d["alert_title"] for d in listed) == ["Beacon to C2", "Phish"]
    for delivery in listed:
        assert delivery["status"] == "delivered"
        assert delivery["attempts"] == 1
        assert delivery["last_error"] is None
        assert delivery["issue_key"].startswith("SEC-")
        assert delivery["url"] == f"{sandbox.url}/browse/{delivery['issue_key']}"
    assert {i["key"] for i in sandbox.issues()} == {d["issue_key"] for d in listed}

    # Ingesting the same alerts again files nothing new.
    again = cli("alerts", "ingest", "--workspace", workspace, str(batch), "--json")
    assert json.loads(again.stdout)["duplicates"] == 2
    assert cli("worker", "--until-idle").returncode == 0
    assert len(sandbox.issues()) == 2


def test_token_is_masked_everywhere(cli: Cli, sandbox: JiraSandbox, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    configure(cli, workspace, sandbox)
    shown = cli("provider", "show", "jira", "--workspace", workspace, "--json")
    assert TOKEN not in shown.stdout
    assert json.loads(shown.stdout)["config"]["api_token"] == "********"
    batch = tmp_path / "a.json"
    batch.write_text(json.dumps(alert("x")))
    cli("alerts", "ingest", "--workspace", workspace, str(batch))
    worked = cli("worker", "--until-idle", env={"SENTINELIQ_LOG_LEVEL": "DEBUG"})
    assert worked.returncode == 0
    assert '"event": "delivery.delivered"' in worked.stderr
    assert TOKEN not in worked.stdout + worked.stderr


def test_failed_connection_test_explains_and_exits_1(cli: Cli, sandbox: JiraSandbox) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    configure(cli, workspace, sandbox, token="wrong-token")
    done = cli("provider", "test", "jira", "--workspace", workspace)
    assert done.returncode == 1
    assert "FAIL credentials" in done.stdout
    assert "wrong-token" not in done.stdout + done.stderr


def test_bad_input_gets_clear_errors_not_tracebacks(cli: Cli, sandbox: JiraSandbox) -> None:
    missing = cli("alerts", "ingest", "--workspace", "nope", "-", input="{}")
    assert missing.returncode == 2
    assert "workspace 'nope' not found" in missing.stderr
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    bad = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", "ftp://jira.example", "--email", "not-an-email",
        "--api-token", "t", "--project-key", "sec",
    )  # fmt: skip
    assert bad.returncode == 2
    for field in ("base_url", "email", "project_key"):
        assert field in bad.stderr
    nothing = cli("alerts", "ingest", "--workspace", workspace, "-", input="[1, 2]")
    assert nothing.returncode == 2
    assert "record 1: must be a JSON object, not int" in nothing.stderr
    for done in (missing, bad, nothing):
        assert "Traceback" not in done.stderr


def test_schema_alert_is_a_json_schema(cli: Cli) -> None:
    done = cli("schema", "alert")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {"title", "severity", "source", "detected_at"} <= set(schema["required"])


def test_defanging_and_redaction_are_set_on_the_command_line(
    cli: Cli, sandbox: JiraSandbox
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    base = [
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC",
    ]  # fmt: skip
    env = {"JIRA_TOKEN": TOKEN}
    done = cli(*base, "--no-defang", "--redact", "emails=on", "--redact", "jwts=off", env=env)
    assert done.returncode == 0, done.stderr
    shown = cli.json("provider", "show", "jira", "--workspace", workspace)
    content = shown["config"]["content"]
    assert content["defang"] is False
    assert content["redaction"]["emails"] is True
    assert content["redaction"]["jwts"] is False
    assert content["redaction"]["aws_keys"] is True  # the rest keep their defaults
    unknown = cli(*base, "--redact", "passports=on", env=env)
    assert unknown.returncode == 2
    assert "content.redaction.passports: is not a known setting" in unknown.stderr
    wrong = cli(*base, "--redact", "emails=yes", env=env)
    assert wrong.returncode == 2
    assert "--redact: emails: expected on or off" in wrong.stderr
    for answer in (unknown, wrong):
        assert "Traceback" not in answer.stderr
