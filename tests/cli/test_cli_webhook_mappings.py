"""`sentineliq inputs ...` through the real executable: mappings saved from YAML (checked, the
error naming the field), listed, shown and deleted; a dry run with a preset, a saved mapping or a
mapping file shows the alert and stores nothing; `alerts ingest --input <mapping>` stores."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import Cli

FIXTURES = Path(__file__).parents[1] / "inputs" / "fixtures"
SPLUNK = FIXTURES / "splunk_webhook_detection.json"

SCANNER_YAML = """\
description: Our scanner
source: Scanner
fields:
  title: finding.name
  fingerprint: finding.id
  severity: finding.level
observables:
  ip: finding.ip
severity_map:
  "4": critical
"""


def test_mappings_from_yaml_are_saved_listed_shown_and_deleted(cli: Cli, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    names = [m["name"] for m in cli.json("inputs", "list", "--workspace", workspace)]
    assert names == ["splunk", "elastic", "wazuh"]

    bad = tmp_path / "bad.yaml"
    bad.write_text(SCANNER_YAML.replace("finding.level", "finding.[level"))
    refused = cli("inputs", "save", "scanner", str(bad), "--workspace", workspace)
    assert refused.returncode == 2
    assert "fields.severity: not a JMESPath expression" in refused.stderr
    good = tmp_path / "scanner.yaml"
    good.write_text(SCANNER_YAML)
    clash = cli("inputs", "save", "alertmanager", str(good), "--workspace", workspace)
    assert clash.returncode == 2
    assert "built-in input" in clash.stderr
    saved = cli("inputs", "save", "scanner", str(good), "--workspace", workspace)
    assert saved.returncode == 0, saved.stderr
    assert f"/api/v1/workspaces/{workspace}/inputs/scanner" in saved.stdout
    shown = cli.json("inputs", "show", "scanner", "--workspace", workspace, "--json")
    assert shown["fields"]["severity"] == "finding.level"
    preset = cli("inputs", "show", "splunk", "--workspace", workspace)
    assert preset.stdout.startswith("# splunk: preset")
    assert "results_link" in preset.stdout
    assert cli("inputs", "delete", "scanner", "--workspace", workspace).returncode == 0
    assert cli("inputs", "delete", "scanner", "--workspace", workspace).returncode == 2


def test_dry_runs_show_the_alert_and_store_nothing(cli: Cli, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    done = cli("inputs", "dry-run", "--workspace", workspace, "--mapping", "splunk", str(SPLUNK))
    assert done.returncode == 0, done.stderr
    assert "Brute force against a domain controller" in done.stdout
    assert "nothing stored" in done.stdout
    shown = cli.json(
        "inputs", "dry-run", "--workspace", workspace, "--mapping", "splunk", str(SPLUNK), "--json"
    )
    assert shown["records"][0]["alert"]["severity"] == "high"

    mapping = tmp_path / "m.yaml"
    mapping.write_text(SCANNER_YAML)
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps([{"finding": {"id": "F-1", "name": "RDP", "level": 4}}, {}]))
    partial = cli(
        "inputs", "dry-run", "--workspace", workspace, "--mapping-file", str(mapping), str(sample)
    )
    assert partial.returncode == 3
    assert "record 2: finding.name: found nothing: the title is required" in partial.stderr
    unknown = cli("inputs", "dry-run", "--workspace", workspace, "--mapping", "nope", str(SPLUNK))
    assert unknown.returncode == 2
    assert "no mapping or preset is named 'nope'" in unknown.stderr
    assert cli.json("alerts", "list", "--workspace", workspace, "--json") == []

    stored = cli("alerts", "ingest", "--workspace", workspace, "--input", "splunk", str(SPLUNK))
    assert stored.returncode == 0, stored.stderr
    assert "accepted 1" in stored.stdout


def test_sender_urls_are_created_once_listed_by_prefix_and_revoked(cli: Cli) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    tokens = ("inputs", "url-token")
    unknown = cli(*tokens, "create", "--workspace", workspace, "nagios")
    assert unknown.returncode != 0
    assert "nagios" in unknown.stderr

    made = cli(*tokens, "create", "--workspace", workspace, "splunk")
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip().splitlines()[-1]
    assert url.startswith("/api/v1/hooks/siqh_")
    assert "cannot be shown again" in made.stderr
    created = cli.json(
        *tokens, "create", "--workspace", workspace, "splunk", "--public-url", "https://siq.test/"
    )
    assert created["url"].startswith("https://siq.test/api/v1/hooks/siqh_" + created["prefix"])
    assert created["input"] == "splunk"

    listed = cli.json(*tokens, "list", "--workspace", workspace, "splunk")
    assert listed[0]["prefix"] == created["prefix"]
    assert len(listed) == 2
    assert created["url"].rsplit("/", 1)[1] not in json.dumps(listed)
    table = cli(*tokens, "list", "--workspace", workspace, "splunk").stdout
    assert created["prefix"] in table
    assert "siqh_" not in table

    done = cli(*tokens, "revoke", "--workspace", workspace, "splunk", created["prefix"])
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout
    again = cli(*tokens, "revoke", "--workspace", workspace, "splunk", created["id"])
    assert "already revoked" in again.stdout
    revoked = {
        t["id"]: t["revoked_at"]
        for t in cli.json(*tokens, "list", "--workspace", workspace, "splunk")
    }
    assert revoked[created["id"]] is not None
    assert (
        cli(*tokens, "revoke", "--workspace", workspace, "elastic", created["id"]).returncode != 0
    )
