"""`sentineliq workspace ...`"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, get_args

import typer
from rich.table import Table

from sentineliq.alerts.model import ObservableType
from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.lifecycle.fingerprint import DEFAULT_RECIPE, FingerprintRecipe, Part
from sentineliq.storage.workspaces import WorkspaceRepository

app = typer.Typer(help="Workspaces: one security team's alerts, providers and tickets.")

PARTS: tuple[str, ...] = get_args(Part)
TYPES: tuple[str, ...] = tuple(t.value for t in ObservableType)


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


def _names(option: str, raw: str, known: Sequence[str]) -> list[str]:
    """A comma-separated option, each name known and named once; exits 2 naming the option."""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        fail(f"{option}: give at least one of {', '.join(known)}")
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(f"{option}: unknown {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    if len(set(names)) != len(names):
        fail(f"{option}: name each one once")
    return names


def _recipe_text(recipe: FingerprintRecipe | None) -> str:
    shown = recipe or DEFAULT_RECIPE
    lines = [
        "fingerprint recipe" + (" (the default)" if recipe is None else "") + ":",
        f"  parts:            {', '.join(shown.parts)}",
    ]
    if "observables" in shown.parts:
        types = ", ".join(t.value for t in shown.observable_types)
        lines.append(f"  observable types: {types}")
    return "\n".join(lines)


@app.command("fingerprint")
def fingerprint(
    workspace: WorkspaceOption,
    parts: Annotated[
        str | None,
        typer.Option(
            "--parts",
            help="Comma-separated: what the fingerprint of an alert without its own fingerprint "
            f"or external_id is made of ({', '.join(PARTS)}).",
        ),
    ] = None,
    observable_types: Annotated[
        str | None,
        typer.Option(
            "--observable-types",
            help="Comma-separated observable types that count with the 'observables' part, "
            "e.g. hash_sha256,domain.",
        ),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the default recipe.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show or set how repeats are recognised: alerts with the same fingerprint are one problem.

    A change applies from the next ingest on; alerts stored before keep their fingerprints.
    """
    if reset and (parts is not None or observable_types is not None):
        fail("--reset: give it alone, without --parts or --observable-types")
    with open_app() as context:
        ws = context.workspace(workspace)
        workspaces = WorkspaceRepository(context.db)
        current = workspaces.fingerprint_recipe(ws.id)
        recipe = current
        changed = False
        if reset:
            recipe = None
        elif parts is not None or observable_types is not None:
            base = current or DEFAULT_RECIPE
            chosen = base.model_dump(mode="json")
            if parts is not None:
                chosen["parts"] = _names("--parts", parts, PARTS)
            if observable_types is not None:
                chosen["observable_types"] = _names("--observable-types", observable_types, TYPES)
            # From JSON, as it is stored: the names were checked, so this validates.
            recipe = FingerprintRecipe.model_validate_json(json.dumps(chosen))
        if reset or recipe is not current:
            changed = workspaces.set_fingerprint_recipe(ws.id, recipe, actor=CLI_ACTOR)
    if as_json:
        shown = recipe or DEFAULT_RECIPE
        print_json(
            {
                "parts": list(shown.parts),
                "observable_types": [t.value for t in shown.observable_types],
                "default": recipe is None,
                "changed": changed,
            }
        )
        return
    console.print(_recipe_text(recipe), markup=False)
    if changed:
        console.print(
            "Changed: it applies from the next ingest on; alerts stored before keep their "
            "fingerprints."
        )
