"""`sentineliq mitre` through the real executable: a sync from --file (the real Enterprise excerpt)
is what the worker's next ticket in the sandbox uses (revoked and unknown ids flagged, valid ADF,
ids as labels); an unreachable source fails the command and shows in `mitre status`."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import jsonschema
from cli_runner import Cli
from test_cli_field_values import configure

from sentineliq.document.schema import adf_schema
from sentineliq.sandbox.jira import JiraSandbox

EXCERPT = Path(__file__).parents[1] / "mitre" / "data" / "enterprise-attack-excerpt.json"


def _texts(node: Any) -> str:
    if isinstance(node, dict):
        own = node.get("text", "") if node.get("type") == "text" else ""
        return own + "".join(_texts(child) for child in node.get("content", []))
    return ""


def test_synced_catalog_flags_ids_in_the_filed_ticket_and_labels_them(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    status = cli.json("mitre", "status")
    assert (status["catalog"], status["release"], status["schedule"]) == ("embedded", "v19", "off")
    assert status["version"] == "Enterprise ATT&CK (2026-04-14)"
    synced = cli.json("mitre", "sync", "--file", str(EXCERPT))
    assert (synced["version"], synced["techniques"], synced["revoked"]) == ("11.0", 4, 1)
    status = cli.json("mitre", "status")
    assert (status["catalog"], status["version"], status["release"]) == ("synced", "11.0", "v11")
    assert status["last_error"] is None

    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(cli, workspace, sandbox.url, "--attack-label-prefix", "mitre-")
    assert code == 0, err
    batch = tmp_path / "alert.json"
    batch.write_text(
        json.dumps(
            {
                "title": "Old rule fired",
                "severity": "high",
                "source": "EDR",
                "detected_at": "2026-12-03T08:00:00Z",
                "mitre": ["T1086", "T1566.002", "T1078"],
            }
        )
    )
    assert cli("alerts", "ingest", "--workspace", workspace, str(batch)).returncode == 0
    worked = cli("worker", "--until-idle")
    assert worked.returncode == 0, worked.stderr

    (issue,) = sandbox.issues()
    labels = issue["fields"]["labels"]
    assert {"mitre-T1086", "mitre-T1566.002", "mitre-T1078"} <= set(labels)
    description = issue["fields"]["description"]
    jsonschema.Draft4Validator(adf_schema()).validate(description)
    text = _texts(description)
    assert "PowerShell (revoked; see T1059.001)" in text
    assert "unknown to ATT&CK v11" in text
    assert "Valid Accounts" in text


def test_an_unreachable_source_fails_and_shows_in_status(cli: Cli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/enterprise-attack.json"
    done = cli("mitre", "sync", "--url", url)
    assert done.returncode == 1
    assert f"ATT&CK sync from {url} failed: cannot be reached (ConnectError)" in done.stderr
    assert "Traceback" not in done.stderr
    status = cli("mitre", "status", "--json")
    assert status.returncode == 1  # a failed last sync is a failure for monitoring
    shown = json.loads(status.stdout)
    assert shown["catalog"] == "embedded"
    assert shown["last_error"] == f"{url}: cannot be reached (ConnectError)"
    assert shown["last_attempt_at"] is not None


def test_sync_refuses_bad_options_naming_them(cli: Cli) -> None:
    both = cli("mitre", "sync", "--file", str(EXCERPT), "--url", "https://example.test/x.json")
    assert (both.returncode, "--file and --url" in both.stderr) == (2, True)
    bad = cli("mitre", "sync", "--url", "ftp://example.test/x.json")
    assert (bad.returncode, "--url: must be an http(s) URL" in bad.stderr) == (2, True)


def test_a_label_prefix_jira_cannot_take_is_refused_naming_the_field(
    cli: Cli, sandbox: JiraSandbox
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(cli, workspace, sandbox.url, "--attack-label-prefix", "att ck")
    assert code == 2
    assert "content.attack.label_prefix: only letters, digits and _ . : -" in err
    assert "Traceback" not in err
