"""`sentineliq alerts show`: one alert's status, resolution, tickets and notes."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from sentineliq.cli.common import JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.storage.errors import NotFoundError


def show(
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    workspace: WorkspaceOption,
    as_json: JsonOption = False,
) -> None:
    """Show an alert: title, status (with the ticket's resolution), tickets and notes."""
    with open_app() as context:
        ws = context.workspace(workspace)
        try:
            stored = AlertRepository(context.db).get(alert_id)
        except NotFoundError:
            stored = None
        if stored is None or stored.workspace_id != ws.id:
            fail(f"no alert {alert_id!r} in workspace {ws.name!r}")
        lifecycle = AlertStateRepository(context.db)
        state = lifecycle.state(alert_id)
        notes = lifecycle.notes(alert_id)
    view: dict[str, Any] = {
        "id": stored.id,
        "title": stored.alert.title,
        "status": state.status,
        "resolution": state.resolution,
        "status_changed_at": state.status_changed_at.isoformat()
        if state.status_changed_at
        else None,
        "status_changed_by": state.status_changed_by,
        "tickets": [
            {"provider": t.provider, "key": t.issue_key, "url": t.url} for t in stored.tickets
        ],
        "notes": [
            {"at": n.at.isoformat(), "author": n.author, "body": n.body, "source": n.source}
            for n in notes
        ],
    }
    if as_json:
        print_json(view)
        return
    console.print(f"{escape(stored.alert.title)}  [{escape(state.status)}]")
    if state.resolution:
        console.print(
            f"resolution: {escape(state.resolution)} by {escape(state.status_changed_by or '?')}"
        )
    for t in stored.tickets:
        console.print(f"ticket: {escape(t.issue_key)} {escape(t.url)}")
    for n in notes:
        console.print(f"note {n.at:%Y-%m-%d %H:%M} {escape(n.author)}: {escape(n.body)}")
