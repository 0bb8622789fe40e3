"""`sentineliq sync ...`: bring alerts in line with their tickets."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from sentineliq.cli.common import JsonOption, open_app
from sentineliq.cli.output import ExitCode, console, print_json
from sentineliq.services.reconcile import reconcile_all

app = typer.Typer(help="Bring alerts in line with their tickets (what webhooks missed).")


@app.command("reconcile")
def reconcile(
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Workspace id (or name); default: all."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Search each enabled Jira provider for recently updated issues and apply their status."""
    with open_app() as context:
        workspace_id = context.workspace(workspace).id if workspace else None
        reports = reconcile_all(context, workspace_id)
    failed = [r for r in reports if r.error]
    if as_json:
        print_json([r.to_json() for r in reports])
    else:
        if not reports:
            console.print("no enabled Jira provider")
        for r in reports:
            outcome = f"error: {escape(r.error)}" if r.error else "ok"
            console.print(
                f"workspace {r.workspace_id}: {r.issues} issue(s) read, {r.resolved} alert(s) "
                f"resolved, {r.reopened} reopened; {outcome}"
            )
    if failed:
        raise typer.Exit(ExitCode.FAILURE)
