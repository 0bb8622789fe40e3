"""`sentineliq alerts ...` and `sentineliq schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sentineliq.alerts import Alert
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, errors, fail, print_json
from sentineliq.services.ingest import IngestReport, ingest_text, no_delivery_warning

app = typer.Typer(help="Alerts: ingest them, and they are queued for delivery.")

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
) -> None:
    """Accept alerts. Exit 0: all accepted; 3: some refused; 2: none accepted."""
    text = _read(source)
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
    if report.refused and not report.outcomes:
        raise typer.Exit(ExitCode.USAGE)
    if report.refused:
        raise typer.Exit(ExitCode.PARTIAL)


def _report(report: IngestReport, as_json: bool) -> None:
    stranded = no_delivery_warning(report.without_delivery)
    if as_json:
        print_json(
            {
                "accepted": report.accepted,
                "duplicates": report.duplicates,
                "refused": report.refused,
                "without_delivery": report.without_delivery,
                "warnings": [stranded] if stranded else [],
                "records": [
                    {
                        "record": o.record,
                        "status": o.outcome.status,
                        "alert_id": o.outcome.alert_id,
                        "deliveries": o.outcome.deliveries,
                        "without_delivery": o.without_delivery,
                        "warnings": [w.to_json() for w in o.warnings],
                    }
                    for o in report.outcomes
                ],
                "errors": [
                    {"record": e.record, "line": e.line, "field": e.field, "problem": e.problem}
                    for e in report.errors
                ],
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
    if stranded:
        errors.print(
            f"[yellow]warning:[/yellow] {escape(stranded)}: sentineliq provider configure jira "
            "..., or sentineliq provider enable jira --workspace ...",
            markup=True,
        )
    queued = sum(o.outcome.deliveries for o in report.outcomes)
    warned = sum(1 for o in report.outcomes if o.warnings)
    console.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, refused {report.refused}; "
        f"{queued} deliveries queued"
        + (f"; {warned} repaired with warnings" if warned else "")
        + (f"; {report.without_delivery} without a delivery" if report.without_delivery else "")
    )
