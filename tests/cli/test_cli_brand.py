"""The brand-protection gate on the command line: set, kept when other settings are saved, and
applied to what `alerts ingest` stores (a detection below it is stored and says why)."""

from __future__ import annotations

import json

from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox

DETECTION = {
    "title": "Counterfeit Acme store",
    "severity": "critical",
    "source": "Eclipse",
    "detected_at": "2026-11-27T08:00:00Z",
    "brand_protection": {"brand": "Acme", "infringement_type": "counterfeiting"},
}


def test_the_gate_is_set_kept_and_applied(cli: Cli, sandbox: JiraSandbox) -> None:
    workspace = cli.json("workspace", "create", "--name", "Brand")["id"]
    base = [
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox.url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC",
    ]  # fmt: skip
    env = {"JIRA_TOKEN": "sandbox-token"}
    done = cli(
        *base, "--brand-gate-severity", "high,medium", "--brand-gate-infringement", "phishing",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Saving other settings keeps the gate (and the gate keeps them).
    done = cli(*base, "--no-defang", env=env)
    assert done.returncode == 0, done.stderr
    content = cli.json("provider", "show", "jira", "--workspace", workspace)["config"]["content"]
    assert content["defang"] is False
    assert content["brand_gate"] == {
        "severities": ["high", "medium"],
        "infringements": ["phishing"],
    }

    wrong = cli(*base, "--brand-gate-infringement", "piracy", env=env)
    assert wrong.returncode == 2
    assert "content.brand_gate.infringements" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    answer = cli(
        "alerts", "ingest", "--workspace", workspace, "-", "--json", input=json.dumps(DETECTION)
    )
    assert answer.returncode == 0, answer.stderr
    [record] = json.loads(answer.stdout)["records"]
    assert record["deliveries"] == 0
    assert record["not_ticketed"]["jira"].startswith(
        "below the brand-protection gate: critical counterfeiting"
    )
    [listed] = cli.json("alerts", "list", "--workspace", workspace)
    assert listed["not_ticketed"] == record["not_ticketed"]
    table = cli("alerts", "list", "--workspace", workspace)
    assert "below the brand-protection gate" in table.stdout
    shown = cli.json("alerts", "show", record["alert_id"])
    assert shown["not_ticketed"] == record["not_ticketed"]
    assert shown["alert"]["brand_protection"]["brand"] == "Acme"
