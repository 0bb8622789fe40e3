"""`sentineliq deliveries ...`: where each alert's ticket stands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sentineliq.cli.common import JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus

app = typer.Typer(help="Deliveries: one per alert and provider, with the ticket once filed.")


@app.command("list")
def list_deliveries(
    workspace: WorkspaceOption,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, in_flight, delivered, failed, dead."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List deliveries with status, attempts, last error and the ticket key and URL."""
    wanted: DeliveryStatus | None = None
    if status is not None:
        try:
            wanted = DeliveryStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in DeliveryStatus)
            fail(f"--status: unknown status {status!r} (known: {known})")
    with open_app() as context:
        ws = context.workspace(workspace)
        views = DeliveryRepository(context.db).list_for_workspace(ws.id, status=wanted)
    if as_json:
        print_json(
            [
                {
                    "delivery_id": v.id,
                    "alert_id": v.alert_id,
                    "alert_title": v.alert_title,
                    "provider": v.provider,
                    "status": v.status.value,
                    "attempts": v.attempts,
                    "last_error": v.last_error,
                    "error_kind": v.error_kind,
                    "issue_key": v.issue_key,
                    "url": v.url,
                    "next_attempt_at": v.available_at
                    if v.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
                    else None,
                    "updated_at": v.updated_at,
                }
                for v in views
            ]
        )
        return
    table = Table("alert", "status", "attempts", "ticket", "last error")
    for view in views:
        ticket = f"{view.issue_key} {view.url}" if view.issue_key else ""
        table.add_row(
            escape(view.alert_title[:60]),
            view.status.value,
            str(view.attempts),
            escape(ticket),
            escape((view.last_error or "")[:80]),
        )
    console.print(table)
