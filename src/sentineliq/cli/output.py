"""Console output shared by the commands: tables for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class ExitCode:
    OK = 0
    FAILURE = 1  # the operation ran and failed (e.g. a connection check)
    USAGE = 2  # the input or configuration was refused
    PARTIAL = 3  # some records were accepted, some refused


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)
