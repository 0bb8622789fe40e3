"""Options and helpers that several commands share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from sentineliq.services.context import AppContext

WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace id (or name).", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@contextmanager
def open_app() -> Iterator[AppContext]:
    with AppContext.open() as app:
        yield app
