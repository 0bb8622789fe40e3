"""`sentineliq alerts ...` and `sentineliq schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sentineliq.alerts import Alert
from sentineliq.alerts.jsonread import decode
from sentineliq.alerts.parse import MAX_DEPTH
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, errors, fail, print_json
from sentineliq.inputs.base import InputError
from sentineliq.inputs.registry import ADAPTERS
from sentineliq.services.ingest import (
    IngestReport,
    held_warnings,
    ingest_text,
    no_delivery_warning,
)
from sentineliq.services.inputs import ingest_payload
from sentineliq.services.mappings import UnknownMapping, find_mapping
from sentineliq.storage.alerts import AlertRepository, StoredAlert
from sentineliq.storage.alertstate import AlertNote, AlertState, AlertStateRepository
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryView
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.occurrence_reads import OccurrenceSummary, occurrence_summary
from sentineliq.storage.occurrences import OccurrenceRecord

app = typer.Typer(help="Alerts: ingest them (queued for delivery), and show one.")

_SCHEMAS = {"alert": Alert}


def schema(
    name: Annotated[str, typer.Argument(help="Which schema: alert.")] = "alert",
) -> None:
    """Print the JSON Schema of an input format."""
    model = _SCHEMAS.get(name)
    if model is None:
        fail(f"unknown schema {name!r} (known: {', '.join(_SCHEMAS)})")
    print_json(model.model_json_schema())


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{source}: no such file")
    except UnicodeDecodeError as exc:
        fail(f"{source}: not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        fail(f"{source}: cannot read ({exc.strerror})")


@app.command("ingest")
def ingest(
    source: Annotated[str, typer.Argument(help="A JSON, JSON-array or NDJSON file; - for stdin.")],
    workspace: WorkspaceOption,
    as_json: JsonOption = False,
    input_name: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="Read SOURCE as one payload of this input format (alertmanager: a webhook "
            "notification; ocsf: an OCSF finding or a JSON array of them; or a webhook "
            "mapping's name, e.g. splunk) instead of SentinelIQ's own alerts.",
        ),
    ] = None,
) -> None:
    """Accept alerts. Exit 0: all accepted; 3: some refused; 2: none accepted."""
    text = _read(source)
    if input_name is not None:
        _ingest_input(source, text, workspace, input_name, as_json)
        return
    with open_app() as context:
        ws = context.workspace(workspace)
        if errors.is_terminal and not as_json:
            with Progress(
                TextColumn("storing alerts"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=errors,
                transient=True,
            ) as progress:
                task = progress.add_task("ingest", total=None)
                report = ingest_text(
                    context,
                    ws.id,
                    text,
                    actor=CLI_ACTOR,
                    on_progress=lambda done, total: progress.update(
                        task, completed=done, total=total
                    ),
                )
        else:
            report = ingest_text(context, ws.id, text, actor=CLI_ACTOR)
    _report(report, as_json)
    _exit_for(report)


def _exit_for(report: IngestReport) -> None:
    if report.refused and not report.outcomes:
        raise typer.Exit(ExitCode.USAGE)
    if report.refused:
        raise typer.Exit(ExitCode.PARTIAL)


def _ingest_input(source: str, text: str, workspace: str, name: str, as_json: bool) -> None:
    """One payload of input `name`: adapted, stored, and the source's resolves applied."""
    if name not in ADAPTERS and not _is_mapping(workspace, name):
        fail(
            f"unknown input {name!r} (known: {', '.join(sorted(ADAPTERS))}), and no webhook "
            "mapping has that name (sentineliq inputs list)"
        )
    decoded, problem = decode(text.encode("utf-8", "surrogatepass"), MAX_DEPTH)
    if decoded is None or decoded.problem is not None:
        where = f"{decoded.field}: " if decoded is not None and decoded.field else ""
        fail(f"{source}: {where}{decoded.problem if decoded is not None else problem}")
    with open_app() as context:
        ws = context.workspace(workspace)
        try:
            done = ingest_payload(context, ws.id, name, decoded.value, actor=CLI_ACTOR)
        except InputError as exc:
            fail(f"{source}: {exc}")
    changes = [
        {
            "record": c.record,
            "alert_id": c.alert_id,
            "status": c.status,
            "transitions": [t.delivery_id for t in c.transitions],
        }
        for c in done.changes
    ]
    _report(done.report, as_json, {"source_changes": changes, "input_warnings": done.warnings})
    if not as_json:
        for warning in done.warnings:
            errors.print(f"[yellow]warning:[/yellow] {escape(warning)}", markup=True)
        for change in done.changes:
            console.print(
                f"record {change.record}: alert {change.alert_id} resolved at the source, "
                f"{len(change.transitions)} ticket transition(s) queued"
                if change.status == "resolved"
                else f"record {change.record}: alert {change.alert_id} fires again at the "
                "source: set back to new"
            )
    _exit_for(done.report)


def _is_mapping(workspace: str, name: str) -> bool:
    """Whether `name` is a webhook mapping (saved, or a preset) of the workspace."""
    with open_app() as context:
        try:
            find_mapping(context, context.workspace(workspace).id, name)
        except UnknownMapping:
            return False
    return True


def _report(report: IngestReport, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    stranded = no_delivery_warning(report.without_delivery)
    held = report.held
    if as_json:
        print_json(
            {
                "accepted": report.accepted,
                "occurrences": report.occurrences,
                "duplicates": report.duplicates,
                "refused": report.refused,
                "held": held,
                "without_delivery": report.without_delivery,
                "warnings": ([stranded] if stranded else []) + held_warnings(held),
                "records": [
                    {
                        "record": o.record,
                        "status": o.outcome.status,
                        "alert_id": o.outcome.alert_id,
                        "occurrence": o.outcome.occurrence,
                        "deliveries": o.outcome.deliveries,
                        "held": list(o.outcome.held),
                        "without_delivery": o.without_delivery,
                        "not_ticketed": dict(o.outcome.not_ticketed),
                        "warnings": [w.to_json() for w in o.warnings],
                    }
                    for o in report.outcomes
                ],
                "errors": [
                    {"record": e.record, "line": e.line, "field": e.field, "problem": e.problem}
                    for e in report.errors
                ],
                **(extra or {}),
            }
        )
        return
    for error in report.errors:
        errors.print(f"[red]refused[/red] {escape(str(error))}", markup=True)
    for outcome in report.outcomes:
        where = f"record {outcome.record}" + (
            f" (line {outcome.line})" if outcome.line is not None else ""
        )
        for warning in outcome.warnings:
            errors.print(f"[yellow]repaired[/yellow] {escape(f'{where}: {warning}')}", markup=True)
        for provider, reason in outcome.outcome.not_ticketed:
            line = f"{where}: no {provider} ticket: {reason}"
            errors.print(f"[yellow]not ticketed[/yellow] {escape(line)}", markup=True)
    if stranded:
        errors.print(
            f"[yellow]warning:[/yellow] {escape(stranded)}: sentineliq provider configure jira "
            "..., or sentineliq provider enable jira --workspace ...",
            markup=True,
        )
    for held_warning in held_warnings(held):
        errors.print(f"[yellow]warning:[/yellow] {escape(held_warning)}", markup=True)
    held_total = sum(held.values())
    queued = sum(o.outcome.deliveries for o in report.outcomes) - held_total
    warned = sum(1 for o in report.outcomes if o.warnings)
    console.print(
        f"accepted {report.accepted}, occurrences {report.occurrences}, "
        f"duplicates {report.duplicates}, refused {report.refused}; "
        f"{queued} deliveries queued"
        + (f", {held_total} held by the storm guard" if held_total else "")
        + (f"; {warned} repaired with warnings" if warned else "")
        + (f"; {report.without_delivery} without a delivery" if report.without_delivery else "")
    )


def _occurrence_json(o: OccurrenceRecord) -> dict[str, Any]:
    return {
        "seq": o.seq,
        "received_at": o.received_at,
        "detected_at": o.detected_at,
        "source_id": o.source_id,
        "severity": o.severity,
        "raised_from": o.raised_from,
        "new_observables": list(o.new_observables),
        "new_assets": list(o.new_assets),
    }


def _show_json(
    stored: StoredAlert,
    repeats: OccurrenceSummary,
    deliveries: list[DeliveryView],
    state: AlertState,
    notes: list[AlertNote],
) -> dict[str, Any]:
    return {
        "id": stored.id,
        "title": stored.alert.title,
        "status": state.status,
        "resolution": state.resolution,
        "status_changed_at": state.status_changed_at,
        "status_changed_by": state.status_changed_by,
        "notes": [
            {"at": n.at, "author": n.author, "body": n.body, "source": n.source} for n in notes
        ],
        "workspace_id": stored.workspace_id,
        "workspace": stored.workspace_name,
        "fingerprint": stored.fingerprint,
        "created_at": stored.created_at,
        "occurrence_count": repeats.count,
        "last_seen_at": repeats.last_seen_at,
        "peak_severity": repeats.peak_severity,
        "occurrences": [_occurrence_json(o) for o in repeats.latest],
        "alert": stored.alert.model_dump(mode="json"),
        "warnings": [w.to_json() for w in stored.warnings],
        "not_ticketed": stored.not_ticketed or {},  # provider -> why it files no ticket
        "source_payload": stored.source_payload,  # what an input was sent, verbatim
        "tickets": [
            {"provider": t.provider, "issue_key": t.issue_key, "url": t.url} for t in stored.tickets
        ],
        "deliveries": [
            {
                "delivery_id": d.id,
                "provider": d.provider,
                "operation": d.operation,
                "status": d.status.value,
                "phase": d.phase,
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in deliveries
        ],
    }


def _new_text(o: OccurrenceRecord) -> str:
    new = [f"{k['type']} {k['value']}" for k in o.new_observables] + list(o.new_assets)
    return ", ".join(new) or "-"


def _print_alert(
    stored: StoredAlert,
    repeats: OccurrenceSummary,
    deliveries: list[DeliveryView],
    state: AlertState,
    notes: list[AlertNote],
) -> None:
    alert = stored.alert
    peak = repeats.peak_severity
    rows = [
        ("title", alert.title),
        ("workspace", f"{stored.workspace_name} ({stored.workspace_id})"),
        ("severity", alert.severity.value + (f" (peak {peak})" if peak != alert.severity else "")),
        ("status", state.status + (f" ({state.resolution})" if state.resolution else "")),
        ("source", alert.source + (f" ({alert.external_id})" if alert.external_id else "")),
        ("detected", alert.detected_at.isoformat(timespec="seconds")),
        ("received", stored.created_at.isoformat(timespec="seconds")),
        ("fingerprint", stored.fingerprint),
        ("repeats", str(repeats.count)),
        ("last seen", repeats.last_seen_at.isoformat(timespec="seconds")),
    ]
    console.print(f"alert {stored.id}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"  {label + ':':<{width + 1}} {escape(value)}")
    if state.status_changed_by:
        changed = (
            state.status_changed_at.isoformat(timespec="seconds")
            if state.status_changed_at
            else "?"
        )
        console.print(f"  status changed by {escape(state.status_changed_by)} at {changed}")
    console.print(f"tickets ({len(stored.tickets)}):")
    for provider, reason in (stored.not_ticketed or {}).items():
        console.print(f"  {escape(provider)}  not ticketed: {escape(reason)}")
    for ticket in stored.tickets:
        console.print(
            f"  {escape(ticket.provider)}  {escape(ticket.issue_key)}  {escape(ticket.url)}"
        )
    console.print(f"deliveries ({len(deliveries)}):")
    for d in deliveries:
        console.print(
            f"  {d.id[:8]}  {escape(d.provider)}  {escape(d.operation)}  {d.phase}"
            + (f"  {escape((d.last_error or '')[:80])}" if d.last_error else "")
        )
    for n in notes:
        console.print(f"note {n.at:%Y-%m-%d %H:%M} {escape(n.author)}: {escape(n.body)}")
    if repeats.count:
        shown = len(repeats.latest)
        console.print(f"latest repeats ({shown} of {repeats.count}, newest first):")
        table = Table("#", "detected", "source id", "severity", "new")
        for o in repeats.latest:
            severity = o.severity + (f" (up from {o.raised_from})" if o.raised_from else "")
            table.add_row(
                str(o.seq),
                o.detected_at.isoformat(timespec="seconds"),
                escape(o.source_id or "-"),
                severity,
                escape(_new_text(o)[:100]),
            )
        console.print(table)


@app.command("show")
def show(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (as ingest or the API gave it).")],
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Only show it if it belongs to this workspace."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """One alert: its fields and status (with the ticket's resolution), how often it came back
    (the latest 20 repeats), tickets, notes and deliveries (the ticket's create, comments about
    repeats, transitions)."""
    with open_app() as context:
        try:
            stored = AlertRepository(context.db).get(alert_id.strip())
        except NotFoundError:
            stored = None
        if workspace is not None:
            ws = context.workspace(workspace)
            if stored is not None and stored.workspace_id != ws.id:
                stored = None  # another workspace's alert reads as missing
        if stored is None:
            fail(f"alert {escape(alert_id)} not found")
        repeats = occurrence_summary(context.db, stored.id)
        deliveries = DeliveryRepository(context.db).list_for_workspace(
            stored.workspace_id, alert_id=stored.id
        )
        lifecycle = AlertStateRepository(context.db)
        state, notes = lifecycle.state(stored.id), lifecycle.notes(stored.id)
    deliveries.sort(key=lambda d: (d.provider, d.operation, d.updated_at))
    if as_json:
        print_json(_show_json(stored, repeats, deliveries, state, notes))
    else:
        _print_alert(stored, repeats, deliveries, state, notes)


@app.command("list")
def list_alerts(
    workspace: WorkspaceOption,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """The workspace's newest alerts, each with the providers that file no ticket for it and
    why (brand-protection detections below the gate)."""
    with open_app() as context:
        ws = context.workspace(workspace)
        rows = AlertRepository(context.db).list_for_workspace(ws.id, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "id": row.id,
                    "title": row.title,
                    "severity": row.severity,
                    "status": row.status,
                    "detected_at": row.detected_at,
                    "created_at": row.created_at,
                    "not_ticketed": row.not_ticketed or {},
                }
                for row in rows
            ]
        )
        return
    table = Table("id", "severity", "status", "detected", "title", "not ticketed")
    for row in rows:
        reasons = "; ".join(f"{p}: {r}" for p, r in (row.not_ticketed or {}).items())
        table.add_row(
            row.id,
            row.severity,
            row.status,
            row.detected_at.isoformat(timespec="seconds"),
            escape(row.title[:80]),
            escape(reasons) or "-",
        )
    console.print(table)
