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
