"""A CLI command shows the startup warning about a database file other users can read."""

from __future__ import annotations

import os
from pathlib import Path

from cli_runner import Cli
from sqlalchemy.engine import make_url


def test_cli_warns_on_stderr_about_readable_database(cli: Cli) -> None:
    database = Path(str(make_url(cli.env["SENTINELIQ_DATABASE_URL"]).database))
    assert cli("workspace", "list").returncode == 0
    assert "accessible by other users" not in cli("workspace", "list").stderr

    os.chmod(database, 0o644)
    done = cli("workspace", "list")
    assert done.returncode == 0, done.stderr
    assert f"{database} is accessible by other users (mode 0644)" in done.stderr
