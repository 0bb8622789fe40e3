"""The CLI tells what it repaired and when alerts got no delivery; `provider enable` backfills."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox

TOKEN = "sandbox-token"


def _alert(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "severity": "medium",
        "source": "EDR",
        "detected_at": "2026-11-27T08:00:00Z",
        **extra,
    }


def _configure_disabled(cli: Cli, workspace: str, sandbox: JiraSandbox) -> None:
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", "--disabled",
        env={"JIRA_TOKEN": TOKEN},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_repairs_and_missing_deliveries_are_reported_then_backfilled(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    batch = tmp_path / "alerts.ndjson"
    records = [
        _alert("Beacon\u2028to C2", link=None, tags=["c2", ""], assignee_email="soc@localhost"),
        _alert("Phish", evidence=[{"name": "mail.eml", "type": "email", "location": ""}]),
    ]
    batch.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    ingested = cli("alerts", "ingest", "--workspace", workspace, str(batch))
    assert ingested.returncode == 0, ingested.stderr
    stderr = " ".join(ingested.stderr.split())  # rich wraps long lines
    for line in (
        "repaired record 1 (line 1): title: 1 control character replaced by spaces",
        "repaired record 1 (line 1): link: null; treated as absent",
        "repaired record 1 (line 1): tags[1]: empty string dropped",
        "repaired record 2 (line 2): evidence[0].location: empty; treated as absent",
        "2 alerts were stored without a delivery",
    ):
        assert line in stderr, stderr
    assert (
        "accepted 2, occurrences 0, duplicates 0, refused 0; 0 deliveries queued" in ingested.stdout
    )
    assert "2 without a delivery" in ingested.stdout

    again = json.loads(
        cli("alerts", "ingest", "--workspace", workspace, str(batch), "--json").stdout
    )
    assert again["duplicates"] == 2  # normalisation is stable: the same record, the same alert
    fresh = tmp_path / "one.json"
    fresh.write_text(json.dumps(_alert("Third", category=None)))
    third = cli.json("alerts", "ingest", "--workspace", workspace, str(fresh))
    assert third["without_delivery"] == 1
    assert third["warnings"][0].startswith("1 alert was stored without a delivery")
    assert third["records"][0]["without_delivery"] is True
    assert third["records"][0]["warnings"] == [
        {"field": "category", "message": "null; treated as absent"}
    ]

    _configure_disabled(cli, workspace, sandbox)
    enabled = cli.json("provider", "enable", "jira", "--workspace", workspace)
    assert enabled == {"provider": "jira", "enabled": True, "backfill_hours": 24, "backfilled": 3}
    worked = cli("worker", "--until-idle")
    assert worked.returncode == 0, worked.stderr
    assert "delivered 3" in worked.stdout
    assert sorted(i["fields"]["summary"] for i in sandbox.issues()) == [
        "Beacon to C2",
        "Phish",
        "Third",
    ]

    # Idempotent: a second enable finds nothing missing, and no issue is filed twice.
    text = cli("provider", "enable", "jira", "--workspace", workspace, "--backfill-hours", "48")
    assert text.returncode == 0, text.stderr
    assert "backfilled 0 deliveries for alerts of the last 48 h" in text.stdout
    assert cli("worker", "--until-idle").returncode == 0
    assert len(sandbox.issues()) == 3


def test_no_backfill_and_bad_windows(cli: Cli, sandbox: JiraSandbox, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    batch = tmp_path / "a.json"
    batch.write_text(json.dumps(_alert("Stranded")))
    assert cli("alerts", "ingest", "--workspace", workspace, str(batch)).returncode == 0
    _configure_disabled(cli, workspace, sandbox)
    bad = cli("provider", "enable", "jira", "--workspace", workspace, "--backfill-hours", "-5")
    assert bad.returncode == 2
    assert "--backfill-hours" in bad.stderr
    assert "Traceback" not in bad.stderr
    skipped = cli.json("provider", "enable", "jira", "--workspace", workspace, "--no-backfill")
    assert (skipped["enabled"], skipped["backfilled"], skipped["backfill_hours"]) == (True, 0, 0)
    assert cli("worker", "--until-idle").returncode == 0
    assert sandbox.issues() == []
