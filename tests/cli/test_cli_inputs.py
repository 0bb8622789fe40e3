"""`sentineliq alerts ingest --input alertmanager FILE`: Alertmanager's documented notification
from a file, through the real executable: stored, ticketed in the sandbox, then resolved."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import Cli, configure_sandbox_jira

from sentineliq.sandbox.jira import JiraSandbox

FIXTURE = Path(__file__).parents[1] / "inputs" / "fixtures" / "alertmanager_webhook.json"


def test_a_notification_file_is_ingested_and_its_resolution_closes_the_tickets(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SRE")["id"]
    configure_sandbox_jira(cli, workspace, sandbox.url)
    ingest = ("alerts", "ingest", "--workspace", workspace, "--input", "alertmanager")
    firing = cli(*ingest, str(FIXTURE))
    assert firing.returncode == 0, firing.stderr
    assert "accepted 2" in firing.stdout
    first = json.loads(cli(*ingest, str(FIXTURE), "--json").stdout)["records"][0]["alert_id"]
    shown = cli.json("alerts", "show", "--workspace", workspace, first)
    assert shown["source_payload"]["alerts"] == [json.loads(FIXTURE.read_text())["alerts"][0]]
    assert cli("worker", "--until-idle").returncode == 0
    titles = sorted(i["fields"]["summary"] for i in sandbox.issues())
    assert titles == [
        "Host high CPU load (instance web-1.example.org:9100)",
        "HostHighCpuLoad on db-2.example.org:9100",
    ]

    group = json.loads(FIXTURE.read_text())
    group["status"] = "resolved"
    for alert in group["alerts"]:
        alert["status"] = "resolved"
    resolved_file = tmp_path / "resolved.json"
    resolved_file.write_text(json.dumps(group))
    resolved = cli(*ingest, str(resolved_file), "--json")
    assert resolved.returncode == 0, resolved.stderr
    answer = json.loads(resolved.stdout)
    assert answer["duplicates"] == 2
    assert [c["status"] for c in answer["source_changes"]] == ["resolved", "resolved"]
    assert cli("worker", "--until-idle").returncode == 0
    assert {i["fields"]["status"]["statusCategory"]["key"] for i in sandbox.issues()} == {"done"}


def test_unreadable_payloads_and_unknown_inputs_are_named(cli: Cli, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SRE")["id"]
    ingest = ("alerts", "ingest", "--workspace", workspace, "--input")
    empty = tmp_path / "empty.json"
    empty.write_text('{"version": "4", "alerts": []}')
    done = cli(*ingest, "alertmanager", str(empty))
    assert done.returncode == 2
    assert "alerts: is required" in done.stderr
    done = cli(*ingest, "nagios", str(empty))
    assert done.returncode == 2
    assert "unknown input 'nagios' (known: alertmanager, " in done.stderr
    partial = json.loads(FIXTURE.read_text())
    del partial["alerts"][0]["startsAt"]
    (tmp_path / "partial.json").write_text(json.dumps(partial))
    done = cli(*ingest, "alertmanager", str(tmp_path / "partial.json"))
    assert done.returncode == 3
    assert "record 1: startsAt: is required" in done.stderr
