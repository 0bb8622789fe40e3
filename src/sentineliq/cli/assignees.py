"""`sentineliq assignee ...`: a workspace's email -> Jira account id mappings.

A mapping wins over Jira's user search: it is how an operator assigns people whose email Jira
hides or whose address matches several accounts (see docs/operations.md, "Assignees").
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.services import assignees
from sentineliq.services.assignees import AssigneeMappingRecord

app = typer.Typer(help="Assignees: map alert assignee emails to Jira account ids.")

EmailArgument = Annotated[
    str, typer.Argument(metavar="EMAIL", help="The assignee email as alerts carry it.")
]


def _json(record: AssigneeMappingRecord) -> dict[str, Any]:
    return {
        "email": record.email,
        "account_id": record.account_id,
        "updated_by": record.updated_by,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


@app.command("map")
def map_email(
    workspace: WorkspaceOption,
    email: EmailArgument,
    account_id: Annotated[
        str,
        typer.Argument(
            metavar="ACCOUNT_ID", help="The Jira accountId, e.g. 5b10ac8d82e05b22cc7d4ef5."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Assign tickets for EMAIL to ACCOUNT_ID (replaces an earlier mapping of EMAIL)."""
    with open_app() as context:
        target = context.workspace(workspace)
        try:
            record, created = assignees.map_assignee(
                context, target.id, email, account_id, actor=CLI_ACTOR
            )
        except ValueError as exc:
            fail(str(exc))
    if as_json:
        print_json({**_json(record), "created": created})
        return
    verb = "Mapped" if created else "Updated"
    console.print(f"{verb} {record.email} -> {record.account_id} in {target.name!r}", markup=False)


@app.command("list")
def list_mappings(workspace: WorkspaceOption, as_json: JsonOption = False) -> None:
    """List a workspace's assignee mappings."""
    with open_app() as context:
        target = context.workspace(workspace)
        records = assignees.list_mappings(context, target.id)
    if as_json:
        print_json([_json(r) for r in records])
        return
    table = Table("email", "account id", "updated by", "updated")
    for record in records:
        table.add_row(
            record.email,
            record.account_id,
            record.updated_by,
            record.updated_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@app.command("unmap")
def unmap_email(workspace: WorkspaceOption, email: EmailArgument) -> None:
    """Remove the mapping of EMAIL: its tickets are resolved by Jira's search again."""
    with open_app() as context:
        target = context.workspace(workspace)
        try:
            record = assignees.unmap_assignee(context, target.id, email, actor=CLI_ACTOR)
        except ValueError as exc:
            fail(str(exc))
    console.print(f"Removed the mapping of {record.email} in {target.name!r}", markup=False)
