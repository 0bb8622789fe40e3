"""`sentineliq sandbox jira`: a local Jira Cloud stand-in to try the product without Jira."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Local stand-ins for ticket systems.")


@app.command("jira")
def jira(
    port: Annotated[int, typer.Option(min=0, max=65535, help="0 picks a free port.")] = 8089,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the Jira Cloud sandbox until interrupted."""
    from sentineliq.sandbox.jira import run_sandbox

    run_sandbox(host, port)
