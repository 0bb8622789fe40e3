"""`sentineliq assignee map|list|unmap` through the real executable, and the mapping winning in
`provider test --assignee-email`."""

from __future__ import annotations

from cli_runner import Cli
from test_cli_flow import configure

from sentineliq.sandbox.jira import PRIVATE_EMAIL, JiraSandbox
from sentineliq.sandbox.jira.model import account_id_for

SHARED = "soc@corp.test"
ACCOUNT = account_id_for(PRIVATE_EMAIL)


def test_map_list_unmap(cli: Cli) -> None:
    cli.json("workspace", "create", "--name", "SOC")
    mapped = cli.json("assignee", "map", "-w", "SOC", " SOC@Corp.test ", ACCOUNT)
    assert (mapped["email"], mapped["account_id"], mapped["created"]) == (SHARED, ACCOUNT, True)
    assert mapped["updated_by"].startswith("cli:")
    again = cli("assignee", "map", "-w", "SOC", SHARED, "5b10ac8d82e05b22cc7d4ef5")
    assert again.returncode == 0, again.stderr
    assert f"Updated {SHARED} -> 5b10ac8d82e05b22cc7d4ef5 in 'SOC'" in again.stdout
    listed = cli("assignee", "list", "-w", "SOC")
    assert SHARED in listed.stdout
    assert "5b10ac8d82e05b22cc7d4ef5" in listed.stdout
    assert [m["email"] for m in cli.json("assignee", "list", "-w", "SOC")] == [SHARED]

    removed = cli("assignee", "unmap", "-w", "SOC", SHARED.upper())
    assert removed.returncode == 0, removed.stderr
    assert f"Removed the mapping of {SHARED}" in removed.stdout
    assert cli.json("assignee", "list", "-w", "SOC") == []
    missing = cli("assignee", "unmap", "-w", "SOC", SHARED)
    assert missing.returncode == 2
    assert f"no assignee mapping for {SHARED}" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_bad_input_is_refused_naming_the_field(cli: Cli) -> None:
    cli.json("workspace", "create", "--name", "SOC")
    bad_email = cli("assignee", "map", "-w", "SOC", "not-an-email", ACCOUNT)
    assert bad_email.returncode == 2
    assert "email: not an email address" in bad_email.stderr
    bad_id = cli("assignee", "map", "-w", "SOC", SHARED, "acc id;drop")
    assert bad_id.returncode == 2
    assert "account_id: only letters" in bad_id.stderr
    unknown = cli("assignee", "list", "-w", "nope")
    assert unknown.returncode == 2
    assert "'nope' not found" in unknown.stderr


def test_provider_test_uses_the_mapping(cli: Cli, sandbox: JiraSandbox) -> None:
    sandbox.add_user(SHARED, "SOC Shared Mailbox", email_visible=False)
    sandbox.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    configure(cli, workspace, sandbox)
    test = ("provider", "test", "jira", "-w", "SOC", "--assignee-email", SHARED)
    before = cli(*test)
    assert before.returncode == 1
    assert "2 accounts with hidden email addresses match" in before.stdout
    assert cli("assignee", "map", "-w", "SOC", SHARED, ACCOUNT).returncode == 0
    after = cli(*test)
    assert after.returncode == 0, after.stdout
    assert "(workspace mapping)" in after.stdout
