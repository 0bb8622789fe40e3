"""`sentineliq evidence verify | custody | delete`: check and extend chains of custody.

`verify` recomputes every chain of the workspace (deleted evidence included) or of one alert
and exits 1 when any is broken, naming the entry. Entries are recorded as the OS account and
host running the command, like every CLI audit entry; `--actor` is who handled the evidence.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, print_json
from sentineliq.services import custody

app = typer.Typer(help="Evidence of alerts: its chain of custody.", no_args_is_help=True)

EvidenceArgument = Annotated[
    str,
    typer.Argument(help="The evidence's id (`evidence verify` lists them).", show_default=False),
]
ActorOption = Annotated[
    str,
    typer.Option("--actor", help="Who handled the evidence (default: you, as user@host)."),
]


@app.command("verify")
def verify(
    workspace: WorkspaceOption,
    alert: Annotated[
        str | None, typer.Option("--alert", help="Only this alert's evidence.", show_default=False)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute each chain of custody; exit 1 if any entry was altered, removed or added."""
    with open_app() as context:
        ws = context.workspace(workspace)
        checks = custody.verify(context, ws.id, alert)
    if as_json:
        print_json([custody.check_view(check) for check in checks])
    else:
        for check in checks:
            _print(check)
        if not checks:
            console.print("no evidence to verify")
    if any(not check.ok for check in checks):
        raise typer.Exit(ExitCode.FAILURE)


def _print(check: CustodyCheck) -> None:
    deleted = " (deleted)" if check.deleted else ""
    evidence = f"evidence {check.evidence_id}" if check.evidence_id else "evidence removed"
    ids = f"({evidence} of alert {check.alert_id})"
    where = f"{escape(check.name)}{deleted} {ids}"
    if check.ok:
        console.print(f"intact  {where}: {len(check.lines)} entries", highlight=False)
    else:
        console.print(
            f"[red]BROKEN[/red]  {where}: {escape(check.problem)}", markup=True, highlight=False
        )


@app.command("custody")
def append(
    evidence_id: EvidenceArgument,
    workspace: WorkspaceOption,
    action: Annotated[
        str, typer.Option("--action", help="collected, transferred, analyzed, stored, ...")
    ],
    actor: ActorOption = CLI_ACTOR,
    at: Annotated[
        str | None, typer.Option("--at", help="When (ISO 8601 with timezone; default: now).")
    ] = None,
    location: Annotated[str | None, typer.Option("--location", help="Where it is now.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an entry to an evidence's chain of custody."""
    entry = custody.new_entry(
        action, actor, at=custody.parse_at(at), location=location, notes=notes
    )
    with open_app() as context:
        ws = context.workspace(workspace)
        check = custody.append(context, ws.id, evidence_id, entry, recorded_by=CLI_ACTOR)
    _done(check, as_json)


@app.command("delete")
def delete(
    evidence_id: EvidenceArgument,
    workspace: WorkspaceOption,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is deleted.")],
    actor: ActorOption = CLI_ACTOR,
    as_json: JsonOption = False,
) -> None:
    """Delete evidence: its record and chain stay, closed by a `deleted` entry."""
    with open_app() as context:
        ws = context.workspace(workspace)
        check = custody.delete_evidence(
            context, ws.id, evidence_id, actor=actor, reason=reason, recorded_by=CLI_ACTOR
        )
    _done(check, as_json)


def _done(check: CustodyCheck, as_json: bool) -> None:
    if as_json:
        print_json(custody.check_view(check))
        return
    line = check.lines[-1]
    console.print(
        f"entry #{line.number} ({escape(line.action)} by {escape(line.actor)}) added to "
        f"{escape(check.name)}",
        highlight=False,
    )
    if not check.ok:
        _print(check)
