"""Dead letters and pauses from the operator's side: `deliveries list/show/replay` and
`provider resume`, through the real executable on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Cli

from outbox_reports import ReportingRepository
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.storage import Database
from sentineliq.storage.types import utcnow

TOKEN = "sandbox-token"
LEAKY = "gAAAAABleakedfernettokenvalue0123456789"  # shaped like a Fernet token


def _configure(cli: Cli, workspace: str, sandbox: JiraSandbox, *, email: str, token: str) -> None:
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", email,
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", "--issue-type", "Task",
        env={"JIRA_TOKEN": token},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _ingest(cli: Cli, workspace: str, tmp_path: Path, *titles: str) -> None:
    batch = tmp_path / "alerts.ndjson"
    records = [
        {
            "title": title,
            "severity": "high",
            "source": "EDR",
            "detected_at": "2026-11-27T08:00:00Z",
            "external_id": f"a-{i}",
        }
        for i, title in enumerate(titles)
    ]
    batch.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    done = cli("alerts", "ingest", "--workspace", workspace, str(batch))
    assert done.returncode == 0, done.stderr


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """The CLI's own database, for the test to act as a worker would (after the CLI migrated it)."""
    with Database(sqlite_url) as database:
        yield database


def _by_title(cli: Cli, workspace: str) -> dict[str, dict[str, Any]]:
    return {d["alert_title"]: d for d in cli.json("deliveries", "list", "--workspace", workspace)}


def test_show_explains_a_dead_letter_and_replay_requeues_it(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path, db: Database
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    _configure(cli, workspace, sandbox, email="sandbox@sentineliq.test", token=TOKEN)
    _ingest(cli, workspace, tmp_path, "Beacon to C2", "Phish")
    ids = {title: d["delivery_id"] for title, d in _by_title(cli, workspace).items()}

    # Act as a worker: one ticket filed without priority, one dead after two attempts.
    deliveries = ReportingRepository(db)
    now = utcnow()
    deliveries.claim_due("w-1", limit=2, lease_seconds=60, now=now)
    deliveries.mark_delivered(
        ids["Phish"],
        "w-1",
        ("10001", "SEC-1", f"{sandbox.url}/browse/SEC-1"),
        [{"field": "priority", "reason": "Field 'priority' cannot be set."}],
    )
    deliveries.mark_failed(
        ids["Beacon to C2"],
        "w-1",
        error_kind="unavailable",
        message="503 Service Unavailable",
        retry_at=now,
        http_status=503,
    )
    deliveries.claim_due("w-2", limit=1, lease_seconds=60, now=now)
    field_errors = {"customfield_10050": "Field 'customfield_10050' cannot be set."}
    deliveries.mark_failed(
        ids["Beacon to C2"],
        "w-2",
        error_kind="validation",
        message=f"400 Bad Request: customfield_10050 rejected (cache {LEAKY})",
        retry_at=None,
        http_status=400,
        details={"field_errors": field_errors},
    )

    dead = cli("deliveries", "list", "--workspace", "SOC", "--status", "dead")
    assert dead.returncode == 0, dead.stderr
    assert "Beacon to C2" in dead.stdout
    assert "Phish" not in dead.stdout
    listed = _by_title(cli, workspace)
    assert listed["Phish"]["dropped_fields"] == [
        {"field": "priority", "reason": "Field 'priority' cannot be set."}
    ]
    assert listed["Phish"]["provider_paused"] is False

    shown = cli("deliveries", "show", ids["Beacon to C2"])
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    for expected in (
        "Beacon to C2",
        "dead",
        "siq-",  # the idempotency key
        "attempt 1 · retry · unavailable · HTTP 503  by w-1",
        "503 Service Unavailable",
        "attempt 2 · dead · validation · HTTP 400  by w-2",
        "customfield_10050: Field 'customfield_10050' cannot be set.",
    ):
        assert expected in out, expected
    assert out.index("HTTP 503") < out.index("HTTP 400")  # oldest first
    assert LEAKY not in out
    assert TOKEN not in out

    # A short id works, and JSON carries the same history.
    detail = cli.json("deliveries", "show", ids["Beacon to C2"][:8])
    assert detail["delivery_id"] == ids["Beacon to C2"]
    assert detail["status"] == "dead"
    assert [(h["attempt"], h["outcome"], h["http_status"]) for h in detail["history"]] == [
        (1, "retry", 503),
        (2, "dead", 400),
    ]
    assert detail["history"][1]["details"] == {"field_errors": field_errors}
    assert detail["history"][1]["worker_id"] == "w-2"
    assert LEAKY not in json.dumps(detail)

    delivered = cli.json("deliveries", "show", ids["Phish"])
    assert (delivered["issue_key"], delivered["status"]) == ("SEC-1", "delivered")
    assert delivered["dropped_fields"][0]["field"] == "priority"
    human = cli("deliveries", "show", ids["Phish"]).stdout
    assert "priority (Field 'priority' cannot be set.)" in human

    # Replay: a delivered one is refused, the dead one is queued with a fresh budget.
    refused = cli("deliveries", "replay", ids["Phish"])
    assert refused.returncode == 2
    assert "delivered already (SEC-1)" in refused.stderr
    assert "second ticket" in refused.stderr
    replayed = cli("deliveries", "replay", ids["Beacon to C2"])
    assert replayed.returncode == 0, replayed.stderr
    assert "Replayed 1 delivery" in replayed.stdout
    assert ids["Beacon to C2"] in replayed.stdout
    after = cli.json("deliveries", "show", ids["Beacon to C2"])
    assert (after["status"], after["attempts"]) == ("pending", 0)
    assert after["idempotency_key"] == detail["idempotency_key"]
    assert after["history"][-1]["outcome"] == "replayed"
    again = cli("deliveries", "replay", ids["Beacon to C2"])
    assert again.returncode == 2
    assert "is pending" in again.stderr


def test_replay_all_dead_is_scoped_to_a_workspace(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path, db: Database
) -> None:
    first = cli.json("workspace", "create", "--name", "SOC")["id"]
    second = cli.json("workspace", "create", "--name", "CERT")["id"]
    for workspace in (first, second):
        _configure(cli, workspace, sandbox, email="sandbox@sentineliq.test", token=TOKEN)
        _ingest(cli, workspace, tmp_path, "One", "Two")
    deliveries = ReportingRepository(db)
    for claim in deliveries.claim_due("w-1", limit=10, lease_seconds=60):
        deliveries.mark_failed(
            claim.id, "w-1", error_kind="validation", message="400", retry_at=None
        )

    scoped = cli.json("deliveries", "replay", "--all-dead", "--workspace", "CERT")
    assert scoped["count"] == 2
    assert {r["workspace_id"] for r in scoped["replayed"]} == {second}
    left = cli.json("deliveries", "list", "--workspace", "SOC", "--status", "dead")
    assert len(left) == 2
    everything = cli("deliveries", "replay", "--all-dead")
    assert everything.returncode == 0, everything.stderr
    assert "Replayed 2 deliveries" in everything.stdout
    nothing = cli("deliveries", "replay", "--all-dead")
    assert nothing.returncode == 0
    assert "No dead deliveries" in nothing.stdout


def test_replay_and_show_refuse_bad_input_clearly(cli: Cli) -> None:
    cli.json("workspace", "create", "--name", "SOC")
    unknown = "00000000-0000-0000-0000-000000000000"
    for args in (("deliveries", "show", unknown), ("deliveries", "replay", unknown)):
        done = cli(*args)
        assert done.returncode == 2
        assert f"delivery {unknown} not found" in done.stderr
        assert "Traceback" not in done.stderr
    both = cli("deliveries", "replay", unknown, "--all-dead")
    assert both.returncode == 2
    assert "give a delivery id or --all-dead" in both.stderr
    neither = cli("deliveries", "replay")
    assert neither.returncode == 2
    missing = cli("provider", "resume", "jira", "--workspace", "SOC")
    assert missing.returncode == 2
    assert "no jira provider is configured" in missing.stderr


def test_auth_failure_pauses_and_resume_delivers_everything(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    """The real worker meets a 401: nothing is dead, the pause shows, and after the Jira side is
    fixed `provider resume` lets every waiting alert through."""
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    # An account the sandbox does not know (yet): every request is refused with 401.
    _configure(cli, workspace, sandbox, email="late@sentineliq.test", token="late-token")
    _ingest(cli, workspace, tmp_path, "Beacon to C2", "Phish", "Lateral movement")

    worked = cli("worker", "--until-idle")
    assert worked.returncode == 0, worked.stderr
    assert sandbox.issues() == []
    listed = cli("deliveries", "list", "--workspace", "SOC")
    assert "jira is PAUSED since" in listed.stdout
    assert "sentineliq provider resume jira --workspace SOC" in listed.stdout
    rows = cli.json("deliveries", "list", "--workspace", "SOC")
    assert len(rows) == 3
    assert all(r["provider_paused"] for r in rows)
    assert all(r["provider_paused_reason"] for r in rows)
    assert {r["status"] for r in rows} == {"pending"}  # waiting, not dead
    shown = cli.json("deliveries", "show", rows[0]["delivery_id"])
    assert shown["provider_paused"] is True
    assert [h["outcome"] for h in shown["history"]][-1] == "paused"
    assert shown["attempts"] == 0  # a pause does not use up the retry budget

    # Nothing to replay: it is waiting, and the refusal says for what.
    waiting = cli("deliveries", "replay", rows[0]["delivery_id"])
    assert waiting.returncode == 2
    assert f"sentineliq provider resume jira --workspace {workspace}" in waiting.stderr

    # A second worker run while paused does nothing.
    assert cli("worker", "--until-idle").returncode == 0
    assert sandbox.issues() == []

    # The Jira admin creates the account: the configuration was right all along.
    sandbox.add_user("late@sentineliq.test", "Late Bot", api_token="late-token")
    resumed = cli("provider", "resume", "jira", "--workspace", "SOC")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed jira for 'SOC'" in resumed.stdout
    assert "paused since" in resumed.stdout
    idle = cli.json("provider", "resume", "jira", "--workspace", "SOC")
    assert (idle["was_paused"], idle["paused"]) == (False, False)

    worked = cli("worker", "--until-idle")
    assert worked.returncode == 0, worked.stderr
    assert len(sandbox.issues()) == 3
    rows = cli.json("deliveries", "list", "--workspace", "SOC")
    assert {r["status"] for r in rows} == {"delivered"}
    assert not any(r["provider_paused"] for r in rows)
    assert "PAUSED" not in cli("deliveries", "list", "--workspace", "SOC").stdout
    for output in (listed.stdout, resumed.stdout, worked.stdout, worked.stderr):
        assert "late-token" not in output


def test_lists_are_limited_by_default_and_all_streams_every_page(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path
) -> None:
    workspace = cli.json("workspace", "create", "--name", "Lists")["id"]
    _configure(cli, workspace, sandbox, email="sandbox@sentineliq.test", token=TOKEN)
    _ingest(cli, workspace, tmp_path, *(f"Alert number {n}" for n in range(7)))
    limited = cli("deliveries", "list", "--workspace", workspace, "--limit", "3", "--json")
    assert limited.returncode == 0, limited.stderr
    assert len(json.loads(limited.stdout)) == 3
    assert "the 3 most recently updated; --limit N or --all" in limited.stderr
    every = cli("deliveries", "list", "--workspace", workspace, "--all", "--json")
    assert every.returncode == 0, every.stderr
    listed = json.loads(every.stdout)  # one JSON array, written page by page
    assert len({d["delivery_id"] for d in listed}) == 7
    assert "--all" not in every.stderr
