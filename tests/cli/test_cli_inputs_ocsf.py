"""`sentineliq alerts ingest --input ocsf FILE`: OCSF findings in their published shapes from a
file, through the real executable: stored and ticketed in the sandbox; resolved at the source."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import Cli, configure_sandbox_jira

from sentineliq.sandbox.jira import JiraSandbox

FIXTURES = Path(__file__).parents[1] / "inputs" / "fixtures"
DETECTION = FIXTURES / "ocsf_guardduty_detection_finding.json"


def test_a_findings_file_is_ingested_and_resolving_it_closes_the_ticket(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    configure_sandbox_jira(cli, workspace, sandbox.url)
    ingest = ("alerts", "ingest", "--workspace", workspace, "--input", "ocsf")
    done = cli(*ingest, str(DETECTION), "--json")
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)["records"]
    shown = cli.json("alerts", "show", "--workspace", workspace, record["alert_id"])
    assert shown["source_payload"] == json.loads(DETECTION.read_text())
    assert cli("worker", "--until-idle").returncode == 0
    (issue,) = sandbox.issues()
    assert issue["fields"]["summary"] == "Backdoor:EC2/C&CActivity.B!DNS"
    assert issue["fields"]["priority"]["name"] == "High"
    assert "attack-T1071.004" in issue["fields"]["labels"]

    finding = json.loads(DETECTION.read_text())
    finding["status_id"], finding["status"] = 4, "Resolved"
    resolved_file = tmp_path / "resolved.json"
    resolved_file.write_text(json.dumps([finding]))
    answer = cli(*ingest, str(resolved_file), "--json")
    assert answer.returncode == 0, answer.stderr
    assert [c["status"] for c in json.loads(answer.stdout)["source_changes"]] == ["resolved"]
    assert cli("worker", "--until-idle").returncode == 0
    (issue,) = sandbox.issues()
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"


def test_a_finding_without_its_identity_is_named(cli: Cli, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    findings = json.loads((FIXTURES / "ocsf_securityscorecard_findings.json").read_text())
    del findings[1]["finding"]["uid"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(findings))
    done = cli("alerts", "ingest", "--workspace", workspace, "--input", "ocsf", str(partial))
    assert done.returncode == 3
    assert "record 2: finding.uid: is required" in done.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    done = cli("alerts", "ingest", "--workspace", workspace, "--input", "ocsf", str(empty))
    assert done.returncode == 2
    assert "an empty list" in done.stderr
