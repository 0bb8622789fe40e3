"""Chain of custody through the real executable, on SQLite and PostgreSQL: `evidence verify`
finds an entry altered directly in the database, naming it, and so does the ticket the worker
files next in the sandbox (over HTTP); appends and deletions are chained and shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cli_runner import Cli
from test_cli_field_values import configure

from sentineliq.sandbox.jira import JiraSandbox

CUSTODY = [
    {"action": "collected", "actor": "edr-agent", "at": "2026-11-27T09:20:00Z"},
    {"action": "analyzed", "actor": "analyst j.doe", "at": "2026-11-27T12:00:00Z"},
    {"action": "stored", "actor": "ir-bot", "at": "2026-11-27T13:00:00Z", "location": "vault"},
]


def _alert(title: str, external_id: str) -> dict[str, Any]:
    return {
        "title": title,
        "severity": "high",
        "source": "EDR",
        "external_id": external_id,
        "detected_at": "2026-11-27T08:00:00Z",
        "evidence": [
            {"name": f"{external_id}.ps1", "type": "file", "custody": CUSTODY},
            {"name": f"{external_id}.pcap", "type": "network"},
        ],
    }


def _setup(cli: Cli, sandbox: JiraSandbox, tmp_path: Path) -> str:
    workspace: str = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(cli, workspace, sandbox.url, "--issue-type", "Task")
    assert code == 0, err
    batch = tmp_path / "alerts.ndjson"
    alerts = [_alert("Tampered custody", "tamper-1"), _alert("Kept custody", "kept-1")]
    batch.write_text("\n".join(json.dumps(a) for a in alerts) + "\n")
    assert cli("alerts", "ingest", "--workspace", workspace, str(batch)).returncode == 0
    return workspace


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "text":
            yield node["text"]
        for child in node.get("content", []):
            yield from _texts(child)


def _panels(description: dict[str, Any], kind: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "panel" and node["attrs"]["panelType"] == kind:
                found.append(" ".join(_texts(node)))
            for child in node.get("content", []):
                walk(child)

    walk(description)
    return found


def _description(sandbox: JiraSandbox, summary: str) -> dict[str, Any]:
    issue = next(i for i in sandbox.issues() if i["fields"]["summary"] == summary)
    description: dict[str, Any] = issue["fields"]["description"]
    return description


def test_tampering_is_named_by_verify_and_by_the_next_ticket(
    cli_any_db: Cli, sandbox: JiraSandbox, tmp_path: Path, database_url: str
) -> None:
    cli = cli_any_db
    workspace = _setup(cli, sandbox, tmp_path)
    checks = {c["name"]: c for c in cli.json("evidence", "verify", "--workspace", workspace)}
    assert sorted(checks) == ["kept-1.pcap", "kept-1.ps1", "tamper-1.pcap", "tamper-1.ps1"]
    assert {c["status"] for c in checks.values()} == {"intact"}
    tampered, kept = checks["tamper-1.ps1"], checks["kept-1.ps1"]
    added = cli.json(
        "evidence", "custody", kept["evidence_id"], "--workspace", workspace,
        "--action", "transferred", "--actor", "courier k.lee", "--location", "lab 2",
    )  # fmt: skip
    assert (added["status"], len(added["entries"])) == ("intact", 4)
    assert added["entries"][3]["actor"] == "courier k.lee"

    # Someone with database access rewrites who analyzed the evidence (entry #2).
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        changed = connection.execute(
            sa.text(
                "UPDATE custody_entries SET actor = 'mallory' "
                "WHERE evidence_id = :evidence AND position = 1"
            ),
            {"evidence": tampered["evidence_id"]},
        )
        assert changed.rowcount == 1
    engine.dispose()

    done = cli("evidence", "verify", "--workspace", workspace)
    assert done.returncode == 1, done.stderr
    assert "BROKEN  tamper-1.ps1" in done.stdout
    assert "custody entry #2 (analyzed by mallory) was altered after it was recorded" in (
        done.stdout
    )
    assert done.stdout.count("intact") == 3
    one = cli("evidence", "verify", "--workspace", workspace, "--alert", kept["alert_id"])
    assert one.returncode == 0
    assert sorted(one.stdout.splitlines()) == [
        f"intact  kept-1.pcap (evidence {checks['kept-1.pcap']['evidence_id']} of alert "
        f"{kept['alert_id']}): 0 entries",
        f"intact  kept-1.ps1 (evidence {kept['evidence_id']} of alert {kept['alert_id']}): "
        "4 entries",
    ]

    assert cli("worker", "--until-idle").returncode == 0
    broken = _description(sandbox, "Tampered custody")
    [panel] = [p for p in _panels(broken, "error") if "custody" in p]
    assert "Chain of custody broken at entry #2" in panel
    assert "custody entry #2 (analyzed by mallory) was altered" in panel
    assert "checked at 20" in panel
    text = " ".join(_texts(broken))
    assert "Chain of custody verified at" in text  # the alert's other evidence is intact

    intact = _description(sandbox, "Kept custody")
    assert not [p for p in _panels(intact, "error") if "custody" in p]
    text = " ".join(_texts(intact))
    assert text.count("Chain of custody verified at 20") == 2
    assert "courier k.lee" in text  # the entry added after ingest is in the ticket


def test_a_deleted_evidence_keeps_its_chain_and_refusals_name_the_field(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace = _setup(cli, sandbox, tmp_path)
    checks = cli.json("evidence", "verify", "--workspace", workspace)
    evidence = next(c["evidence_id"] for c in checks if c["name"] == "kept-1.ps1")
    deleted = cli.json(
        "evidence", "delete", evidence, "--workspace", workspace, "--reason", "court order 17"
    )
    assert deleted["deleted_at"] is not None
    assert deleted["entries"][-1]["action"] == "deleted"
    assert deleted["entries"][-1]["notes"] == "court order 17"
    assert deleted["entries"][-1]["actor"].startswith("cli:")

    listed = cli("evidence", "verify", "--workspace", workspace)
    assert listed.returncode == 0, listed.stdout
    assert f"intact  kept-1.ps1 (deleted) (evidence {evidence} of alert " in listed.stdout
    assert "): 4 entries" in listed.stdout

    again = cli("evidence", "custody", evidence, "--workspace", workspace, "--action", "accessed")
    assert again.returncode == 2
    assert "was deleted" in again.stderr
    bad = cli("evidence", "custody", evidence, "--workspace", workspace, "--action", "eaten")
    assert bad.returncode == 2
    assert "action: must be one of collected" in bad.stderr
    late = cli(
        "evidence", "custody", evidence, "--workspace", workspace,
        "--action", "accessed", "--at", "2026-12-03T09:30:00",
    )  # fmt: skip
    assert late.returncode == 2
    assert "at: must include a timezone" in late.stderr
    unknown = cli("evidence", "delete", "nope", "--workspace", workspace, "--reason", "x")
    assert unknown.returncode == 2
    assert "no evidence nope in this workspace" in unknown.stderr

    assert cli("worker", "--until-idle").returncode == 0
    text = " ".join(_texts(_description(sandbox, "Kept custody")))
    assert "kept-1.ps1 (deleted)" in text
    assert "court order 17" in text
