"""`sentineliq workspace ...`"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, open_app
from sentineliq.cli.output import console, print_json
from sentineliq.storage.workspaces import WorkspaceRepository

app = typer.Typer(help="Workspaces: one security team's alerts, providers and tickets.")


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A unique, human name.")],
    as_json: JsonOption = False,
) -> None:
    """Create a workspace and print its id."""
    with open_app() as context:
        workspace = WorkspaceRepository(context.db).create(name, actor=CLI_ACTOR)
    if as_json:
        print_json({"id": workspace.id, "name": workspace.name})
    else:
        console.print(f"Created workspace {workspace.name!r}: {workspace.id}")


@app.command("list")
def list_workspaces(as_json: JsonOption = False) -> None:
    """List workspaces."""
    with open_app() as context:
        found = WorkspaceRepository(context.db).list()
    if as_json:
        print_json([{"id": w.id, "name": w.name, "created_at": w.created_at} for w in found])
        return
    table = Table("id", "name", "created")
    for workspace in found:
        table.add_row(workspace.id, workspace.name, workspace.created_at.isoformat())
    console.print(table)
