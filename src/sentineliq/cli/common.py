"""Options and helpers that several commands share."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from sentineliq.services.context import AppContext


def _cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


# Audit entries from the command line name the OS account and host: who, and from where.
CLI_ACTOR = _cli_actor()

WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace id (or name).", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@contextmanager
def open_app() -> Iterator[AppContext]:
    with AppContext.open() as app:
        yield app
