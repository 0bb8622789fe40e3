"""`sentineliq evidence verify | custody | delete | upload | files`: chains of custody and
evidence files.

`verify` recomputes every chain of the workspace (deleted evidence included) or of one alert
and exits 1 when any is broken, naming the entry. Entries are recorded as the OS account and
host running the command, like every CLI audit entry; `--actor` is who handled the evidence.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.files import EvidenceFile
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, print_json
from sentineliq.services import custody, evidencefiles
from sentineliq.storage.blobs import chunks_of

app = typer.Typer(
    help="Evidence of alerts: files, and their chains of custody.", no_args_is_help=True
)

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


AlertArgument = Annotated[str, typer.Argument(help="The alert's id.", show_default=False)]


def _hash_option(name: str) -> Any:
    return typer.Option(
        f"--{name}",
        help=f"Your own {name.upper()} of the file: the upload is refused if it disagrees.",
        show_default=False,
    )


@app.command("upload")
def upload(
    alert: AlertArgument,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="The file.", show_default=False
        ),
    ],
    workspace: WorkspaceOption,
    sha256: Annotated[str | None, _hash_option("sha256")] = None,
    md5: Annotated[str | None, _hash_option("md5")] = None,
    sha1: Annotated[str | None, _hash_option("sha1")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The file's name (default: as on disk).")
    ] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="Default: guessed from the name.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Upload an evidence file for an alert: hashes computed, custody opened, ticket attached.

    Refused (exit 2, nothing stored) when a hash you give disagrees or the file is larger
    than SENTINELIQ_EVIDENCE_MAX_BYTES."""
    file_name = name or file.name
    guessed = content_type or mimetypes.guess_type(file_name)[0]
    with open_app() as context, file.open("rb") as stream:
        ws = context.workspace(workspace)
        uploaded = evidencefiles.upload(
            context,
            ws.id,
            alert,
            chunks_of(stream),
            file_name=file_name,
            content_type=guessed,
            uploaded_by=CLI_ACTOR,
            hashes={"sha256": sha256, "md5": md5, "sha1": sha1},
        )
    if as_json:
        print_json({**evidencefiles.file_view(uploaded.file), "created": uploaded.created})
        return
    done = "uploaded" if uploaded.created else "already there"
    console.print(
        f"{done}: {escape(uploaded.file.file_name)} ({uploaded.file.id})", highlight=False
    )
    _print_file(uploaded.file)


@app.command("files")
def files(alert: AlertArgument, workspace: WorkspaceOption, as_json: JsonOption = False) -> None:
    """List an alert's evidence files with their hashes and attachment status."""
    with open_app() as context:
        ws = context.workspace(workspace)
        found = evidencefiles.files_of(context, ws.id, alert)
    if as_json:
        print_json([evidencefiles.file_view(f) for f in found])
        return
    if not found:
        console.print("no evidence files")
    for file in found:
        deleted = " (deleted)" if file.deleted_at else ""
        console.print(
            f"{escape(file.file_name)}{deleted}  {file.id}  {file.size_bytes} bytes",
            highlight=False,
        )
        _print_file(file)


def _print_file(file: EvidenceFile) -> None:
    console.print(f"  MD5     {file.md5}", highlight=False)
    console.print(f"  SHA-1   {file.sha1}", highlight=False)
    console.print(f"  SHA-256 {file.sha256}", highlight=False)
    for attachment in file.attachments:
        outcome = f": {escape(attachment.outcome)}" if attachment.outcome else ""
        console.print(f"  {attachment.provider}: {attachment.status}{outcome}", highlight=False)
