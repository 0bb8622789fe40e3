"""Runs the real `sentineliq` executable in a subprocess, as scripts and people do."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXECUTABLE = str(Path(sys.executable).with_name("sentineliq"))


@dataclass
class Cli:
    env: dict[str, str]
    data_dir: Path

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXECUTABLE, *args],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def configure_sandbox_jira(cli: Cli, workspace: str, sandbox_url: str) -> None:
    """Configure (and so enable) the Jira provider on the seeded sandbox, through the CLI."""
    done = cli(
        "provider", "configure", "jira", "--workspace", workspace,
        "--base-url", sandbox_url, "--email", "sandbox@sentineliq.test",
        "--api-token-env", "JIRA_TOKEN", "--project-key", "SEC", "--issue-type", "Task",
        env={"JIRA_TOKEN": "sandbox-token"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
