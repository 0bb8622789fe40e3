"""`sentineliq provider configure jira --field NAME=VALUE` and `--site-url`, end to end."""

from __future__ import annotations

import json

from cli_runner import Cli

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.sandbox.jira.seed import AFFECTED_SYSTEMS_FIELD, TEAM_FIELD

TOKEN = "sandbox-token"


def configure(cli: Cli, workspace: str, base_url: str, *extra: str) -> tuple[int, str, str]:
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", base_url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", *extra,
        env={"JIRA_TOKEN": TOKEN},
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_field_option_fills_required_fields(cli: Cli, sandbox: JiraSandbox) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    sandbox.require_field("SEC", AFFECTED_SYSTEMS_FIELD)
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(cli, workspace, sandbox.url)
    assert code == 0, err
    tested = cli("provider", "test", "jira", "--workspace", workspace, "--json")
    assert tested.returncode != 0
    checks = {c["name"]: c for c in json.loads(tested.stdout)["checks"]}
    assert not checks["required fields"]["ok"]
    assert (
        "Team (customfield_10060), allowed: Blue Team, Red Team"
        in (checks["required fields"]["detail"])
    )

    code, _, err = configure(
        cli, workspace, sandbox.url,
        "--field", "Team=Blue Team",
        "--field", "Affected systems=Network", "--field", "Affected systems=Cloud",
    )  # fmt: skip
    assert code == 0, err
    shown = cli.json("provider", "show", "jira", "--workspace", workspace, "--json")
    assert shown["config"]["field_values"] == {
        "Team": "Blue Team",
        "Affected systems": ["Network", "Cloud"],
    }
    assert cli("provider", "test", "jira", "--workspace", workspace).returncode == 0


def test_field_option_errors_name_the_field(cli: Cli, sandbox: JiraSandbox) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(cli, workspace, sandbox.url, "--field", "Team")
    assert code != 0
    assert "--field: expected NAME=VALUE" in err
    code, _, err = configure(cli, workspace, sandbox.url, "--field", "summary=x")
    assert code != 0
    assert "field_values: 'summary' is filled by SentinelIQ" in err


def test_gateway_base_url_and_site_url(cli: Cli, sandbox: JiraSandbox) -> None:
    sandbox.set_gateway()
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    code, _, err = configure(
        cli, workspace, sandbox.gateway_url, "--site-url", "https://soc.atlassian.net"
    )
    assert code == 0, err
    tested = cli("provider", "test", "jira", "--workspace", workspace)
    assert tested.returncode == 0, tested.stdout
    assert "issue links use https://soc.atlassian.net (from site_url)" in tested.stdout
