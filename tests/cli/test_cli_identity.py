"""`sentineliq user ...` and `sentineliq apikey ...` through the real executable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Cli

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.settings import Settings
from sentineliq.storage import Database, SecretBox

PASSWORD = "a long enough passphrase"


@pytest.fixture
def identity(cli: Cli, sqlite_url: str, tmp_path: Path) -> Iterator[IdentityService]:
    """The service on the CLI's own database (the CLI migrates it on its first command)."""
    key = SecretBox.generate_key()
    settings = Settings(
        data_dir=tmp_path, database_url=sqlite_url, secret_key=key, allow_private_targets=True
    )
    with Database(sqlite_url) as db:
        yield IdentityService(AppContext(settings, db, SecretBox([key])))


def test_user_commands(cli: Cli, identity: IdentityService) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")
    created = cli(
        "user", "create", "--email", "Owner@Example.test", "--name", "Olive",
        "--password-env", "SIQ_PW", "--workspace", "SOC", "--role", "owner", "--json",
        env={"SIQ_PW": PASSWORD},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert PASSWORD not in created.stdout + created.stderr
    owner = json.loads(created.stdout)
    assert owner["email"] == "owner@example.test"
    assert owner["workspace"] == {"id": workspace["id"], "name": "SOC", "role": "owner"}

    piped = cli("user", "create", "--email", "m@example.test", "--password-stdin",
                input=PASSWORD + "\n")  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    added = cli("user", "add-member", "--email", "M@example.test", "--workspace", "SOC",
                "--role", "member")  # fmt: skip
    assert added.returncode == 0, added.stderr

    users = {u["email"]: u for u in cli.json("user", "list")}
    assert users["owner@example.test"]["workspaces"] == [
        {"id": workspace["id"], "name": "SOC", "role": "owner"}
    ]
    assert users["m@example.test"]["workspaces"][0]["role"] == "member"

    again = cli("user", "create", "--email", "OWNER@example.test", "--password-env", "SIQ_PW",
                "--workspace", "nope", "--role", "admin", env={"SIQ_PW": PASSWORD})  # fmt: skip
    assert again.returncode == 2
    assert "'nope' not found" in again.stderr  # the workspace is checked before the user
    again = cli("user", "create", "--email", "OWNER@example.test", "--password-env", "SIQ_PW",
                env={"SIQ_PW": PASSWORD})  # fmt: skip
    assert again.returncode == 2
    assert "already exists" in again.stderr
    missing = cli("user", "add-member", "--email", "b@example.test", "-w", "SOC", "--role", "admin")
    assert missing.returncode == 2
    assert "no user" in missing.stderr

    # The password given through stdin works without its line ending.
    assert identity.authenticate("m@example.test", PASSWORD) is not None
    assert identity.authenticate("owner@example.test", PASSWORD) is not None


# Parsing refusals (no database involved) are few on purpose: each run starts a process.
REFUSALS: list[tuple[list[str], dict[str, str], str]] = [
    (["--password-env", "SIQ_PW"], {"SIQ_PW": "short pw"}, "password: must be at least"),
    (["--password-env", "SIQ_PW"], {"SIQ_PW": "Qwerty123456"}, "password: is one of the most"),
    (["--password-env", "NOPE"], {}, "NOPE is not set"),
    ([], {}, "exactly one of --password-env"),
    (["--password-env", "SIQ_PW", "--workspace", "SOC"], {"SIQ_PW": PASSWORD}, "go together"),
    (["--password", PASSWORD], {}, "No such option"),  # never on the command line
]


def test_user_create_refusals(cli: Cli, identity: IdentityService) -> None:
    for args, env, message in REFUSALS:
        done = cli("user", "create", "--email", "x@example.test", *args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, args
        assert "short pw" not in done.stderr
        assert "Qwerty123456" not in done.stderr
    assert identity.list_users() == []


def test_apikey_commands(cli: Cli, identity: IdentityService) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")
    created = cli.json("apikey", "create", "--workspace", "SOC", "--name", "SIEM")
    plaintext = created["key"]
    assert plaintext.startswith(f"siq_{created['prefix']}_")
    assert "cannot be shown again" in created["note"]

    human = cli("apikey", "create", "--workspace", workspace["id"], "--name", "EDR")
    assert human.returncode == 0, human.stderr
    assert "cannot be shown again" in human.stderr
    (human_key,) = [line for line in human.stdout.splitlines() if line.startswith("siq_")]

    listed = cli.json("apikey", "list", "--workspace", "SOC")
    assert {k["name"] for k in listed} == {"SIEM", "EDR"}
    assert plaintext not in str(listed)
    assert human_key not in str(listed)
    table = cli("apikey", "list", "--workspace", "SOC")
    assert created["prefix"] in table.stdout
    assert plaintext.split("_", 2)[2] not in table.stdout

    principal = identity.api_key_principal(plaintext)
    assert principal is not None
    assert principal.workspace_id == workspace["id"]

    revoked = cli("apikey", "revoke", "--workspace", "SOC", created["id"])
    assert revoked.returncode == 0, revoked.stderr
    assert identity.api_key_principal(plaintext) is None
    assert identity.api_key_principal(human_key) is not None
    by_id = {k["id"]: k for k in cli.json("apikey", "list", "--workspace", "SOC")}
    assert by_id[created["id"]]["revoked_at"] is not None

    unknown = cli("apikey", "revoke", "--workspace", "SOC", "no-such-key")
    assert unknown.returncode == 2
    assert "no API key" in unknown.stderr
