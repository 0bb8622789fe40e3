"""`sentineliq inputs ...`: the generic webhook's mappings (list, show, save, delete) and the
dry run of a sample payload through a mapping, saved or from a file (nothing is stored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from sentineliq.alerts.jsonread import decode
from sentineliq.alerts.parse import MAX_DEPTH
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, errors, fail, print_json
from sentineliq.inputs.base import InputError
from sentineliq.inputs.registry import ADAPTERS
from sentineliq.inputs.webhook import WebhookMapping
from sentineliq.services.inputs import adapt
from sentineliq.services.mappings import (
    DryRun,
    MappingError,
    adapt_with,
    delete_mapping,
    dry_run,
    find_mapping,
    list_mappings,
    parse_mapping,
    save_mapping,
)
from sentineliq.services.urltokens import UrlTokens
from sentineliq.storage.urltokens import UrlTokenRecord

app = typer.Typer(
    help="Inputs: the generic webhook's mappings (JMESPath to alert fields), and dry runs.",
    no_args_is_help=True,
)

MappingFileArgument = Annotated[
    Path, typer.Argument(help="The mapping as YAML or JSON (see docs/inputs.md).", dir_okay=False)
]


def _load(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read {what} ({exc})")
    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        fail(f"{path}: not YAML or JSON ({' '.join(str(exc).split())})")


def mapping_from_file(path: Path) -> WebhookMapping:
    try:
        return parse_mapping(_load(path, "the mapping"))
    except MappingError as exc:
        fail(f"{path}: {exc}")


@app.command("list")
def list_command(workspace: WorkspaceOption, as_json: JsonOption = False) -> None:
    """The workspace's mappings, then the presets it has not replaced."""
    with open_app() as context:
        views = list_mappings(context, context.workspace(workspace).id)
    if as_json:
        print_json(
            [
                {"name": v.name, "origin": v.origin, "description": v.mapping.description}
                for v in views
            ]
        )
        return
    table = Table("name", "origin", "source", "description")
    for view in views:
        table.add_row(view.name, view.origin, view.mapping.source, view.mapping.description)
    console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A saved mapping's or a preset's name.")],
    workspace: WorkspaceOption,
    as_json: JsonOption = False,
) -> None:
    """Print a mapping as YAML (--json: JSON): the start of a copy to adjust and save."""
    with open_app() as context:
        view = find_mapping(context, context.workspace(workspace).id, name)
    document = view.mapping.model_dump(mode="json", exclude_none=True)
    if as_json:
        print_json(document)
    else:
        typer.echo(f"# {view.name}: {view.origin}")
        typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True).rstrip())


@app.command("save")
def save(
    name: Annotated[str, typer.Argument(help="The mapping's name (a slug): .../inputs/NAME.")],
    mapping_file: MappingFileArgument,
    workspace: WorkspaceOption,
) -> None:
    """Save (create or replace) a mapping, checked first: every expression must compile, and
    fields.title and fields.fingerprint are required."""
    mapping = mapping_from_file(mapping_file)
    with open_app() as context:
        ws = context.workspace(workspace)
        changed = save_mapping(context, ws.id, name, mapping, actor=CLI_ACTOR)
    console.print(
        f"mapping {name} {'saved' if changed else 'unchanged'}: "
        f"POST /api/v1/workspaces/{ws.id}/inputs/{name}"
    )


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="A saved mapping's name.")],
    workspace: WorkspaceOption,
) -> None:
    """Delete a saved mapping (a preset it replaced comes back)."""
    with open_app() as context:
        removed = delete_mapping(context, context.workspace(workspace).id, name, actor=CLI_ACTOR)
    if not removed:
        fail(f"no saved mapping is named {name!r}")
    console.print(f"mapping {name} deleted")


@app.command("dry-run")
def dry_run_command(
    sample: Annotated[Path, typer.Argument(help="A payload as the tool sends it (JSON).")],
    workspace: WorkspaceOption,
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", help="A saved mapping's or a preset's name (or alertmanager)."),
    ] = None,
    mapping_file: Annotated[
        Path | None,
        typer.Option("--mapping-file", help="An unsaved mapping, YAML or JSON.", dir_okay=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the alerts SAMPLE would become, and why any record would be refused; nothing is
    stored. Exit 0: every record accepted; 3: some refused; 2: none, or unreadable."""
    if (mapping is None) == (mapping_file is None):
        fail("give --mapping NAME or --mapping-file FILE")
    try:
        raw = sample.read_bytes()
    except OSError as exc:
        fail(f"{sample}: cannot read ({exc.strerror})")
    decoded, problem = decode(raw, MAX_DEPTH)
    if decoded is None or decoded.problem is not None:
        where = f"{decoded.field}: " if decoded is not None and decoded.field else ""
        fail(f"{sample}: {where}{decoded.problem if decoded is not None else problem}")
    try:
        if mapping_file is not None:
            run = dry_run(
                adapt_with("unsaved", mapping_from_file(mapping_file), decoded.value), "unsaved"
            )
        else:
            assert mapping is not None
            with open_app() as context:
                ws = context.workspace(workspace)
                if mapping not in ADAPTERS:
                    find_mapping(context, ws.id, mapping)  # unknown: named, exit 2
                run = dry_run(adapt(context, ws.id, mapping, decoded.value), mapping)
    except InputError as exc:
        fail(f"{sample}: {exc}")
    _show_run(run, as_json)
    accepted = sum(1 for r in run.records if r.alert is not None)
    if accepted == 0:
        raise typer.Exit(ExitCode.USAGE)
    if accepted < len(run.records):
        raise typer.Exit(ExitCode.PARTIAL)


def _show_run(run: DryRun, as_json: bool) -> None:
    if as_json:
        print_json(run.as_json())
        return
    for warning in run.warnings:
        errors.print(f"[yellow]warning:[/yellow] {escape(warning)}", markup=True)
    for record in run.records:
        if record.alert is None:
            for error in record.errors:
                line = f"record {record.record}: {error.field}: {error.problem}"
                errors.print(f"[red]refused[/red] {escape(line)}", markup=True)
            continue
        console.print(
            f"[bold]record {record.record}[/bold]" + (" (resolves)" if record.resolved else "")
        )
        shown = record.alert.model_dump(mode="json", exclude_defaults=True)
        console.print_json(json.dumps(shown, ensure_ascii=False))
        for said in record.warnings:
            line = f"record {record.record}: {said['field']}: {said['message']}"
            errors.print(f"[yellow]warning[/yellow] {escape(line)}", markup=True)
    accepted = sum(1 for r in run.records if r.alert is not None)
    console.print(
        f"dry run with {run.mapping}: {accepted} would be accepted, "
        f"{len(run.records) - accepted} refused; nothing stored"
    )


url_token_app = typer.Typer(
    help="Sender URLs: a per-input URL (/api/v1/hooks/<token>) for tools that can only be given "
    "a URL, no header (Splunk's webhook alert action). Shown once; rotate by revoke + create.",
    no_args_is_help=True,
)
app.add_typer(url_token_app, name="url-token")

URL_ONCE_NOTE = (
    "Store this URL now: it cannot be shown again. It is a secret: anyone who has it can post "
    "alerts to this input."
)
InputArgument = Annotated[
    str, typer.Argument(help="The input (a saved mapping or a preset, e.g. splunk).")
]


def _token_json(record: UrlTokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "input": record.input_name,
        "prefix": record.prefix,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
    }


@url_token_app.command("create")
def url_token_create(
    name: InputArgument,
    workspace: WorkspaceOption,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The service's address as the sender reaches it, e.g. https://siq.example.org "
            "(default: SENTINELIQ_PUBLIC_URL; without either, only the path is printed).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a sender URL for input NAME and print it once."""
    with open_app() as context:
        ws = context.workspace(workspace)
        try:
            created = UrlTokens(context).create(ws.id, name, actor=CLI_ACTOR)
        except MappingError as exc:
            fail(str(exc))
        base = public_url or context.settings.evidence.public_url or ""
    url = base.rstrip("/") + created.path
    if as_json:
        print_json({**_token_json(created.record), "url": url, "note": URL_ONCE_NOTE})
        return
    console.print(
        f"Created sender URL {created.record.prefix} for input {name!r} in {ws.name!r}:",
        markup=False,
    )
    typer.echo(url)
    errors.print(URL_ONCE_NOTE, markup=False)


@url_token_app.command("list")
def url_token_list(
    name: InputArgument, workspace: WorkspaceOption, as_json: JsonOption = False
) -> None:
    """List input NAME's sender URLs by id and prefix (never the token)."""
    with open_app() as context:
        records = UrlTokens(context).list(context.workspace(workspace).id, name)
    if as_json:
        print_json([_token_json(record) for record in records])
        return
    table = Table("id", "prefix", "created", "by", "last used", "revoked")
    for record in records:
        table.add_row(
            record.id,
            record.prefix,
            record.created_at.isoformat(timespec="seconds"),
            escape(record.created_by),
            record.last_used_at.isoformat(timespec="seconds") if record.last_used_at else "never",
            record.revoked_at.isoformat(timespec="seconds") if record.revoked_at else "",
        )
    console.print(table)


@url_token_app.command("revoke")
def url_token_revoke(
    name: InputArgument,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id or prefix.")],
    workspace: WorkspaceOption,
) -> None:
    """Revoke a sender URL: it stops working at once (401)."""
    with open_app() as context:
        ws = context.workspace(workspace)
        tokens = UrlTokens(context)
        record = next((r for r in tokens.list(ws.id, name) if token_id in (r.id, r.prefix)), None)
        if record is None:
            fail(f"no sender URL {token_id!r} for input {name!r} in workspace {ws.name!r}")
        revoked = tokens.revoke(ws.id, name, record.id, actor=CLI_ACTOR)
    state = "revoked" if revoked else "was already revoked"
    console.print(f"sender URL {record.prefix} for input {name} {state}", markup=False)
