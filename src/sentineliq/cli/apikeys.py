"""`sentineliq apikey ...`: a workspace's ingestion keys. A key is shown once, when created."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, errors, fail, print_json
from sentineliq.services.identity import ApiKeyRecord, IdentityService, InvalidFieldError

app = typer.Typer(help="API keys: per-workspace keys for sending alerts to the HTTP API.")

ONCE_NOTE = "Store this key now: it cannot be shown again."


def _key_json(key: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "workspace_id": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@app.command("create")
def create(
    workspace: WorkspaceOption,
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. the SIEM.")],
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it once."""
    with open_app() as context:
        target = context.workspace(workspace)
        try:
            key, plaintext = IdentityService(context).create_api_key(
                target.id, name, actor=CLI_ACTOR
            )
        except InvalidFieldError as exc:
            fail(str(exc))
    if as_json:
        print_json({**_key_json(key), "key": plaintext, "note": ONCE_NOTE})
        return
    console.print(f"Created API key {key.name!r} ({key.prefix}) in {target.name!r}:", markup=False)
    typer.echo(plaintext)
    # On stderr, so stdout holds only the key and its description (scripts prefer --json).
    errors.print(ONCE_NOTE, markup=False)


@app.command("list")
def list_keys(workspace: WorkspaceOption, as_json: JsonOption = False) -> None:
    """List a workspace's keys (never their secrets)."""
    with open_app() as context:
        target = context.workspace(workspace)
        keys = IdentityService(context).list_api_keys(target.id)
    if as_json:
        print_json([_key_json(key) for key in keys])
        return
    table = Table("id", "prefix", "name", "created", "last used", "revoked")
    for key in keys:
        table.add_row(
            key.id,
            key.prefix,
            key.name,
            key.created_at.isoformat(timespec="seconds"),
            key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never",
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    workspace: WorkspaceOption,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (or its prefix).")],
) -> None:
    """Revoke a key: it stops working at once."""
    with open_app() as context:
        target = context.workspace(workspace)
        identity = IdentityService(context)
        keys = identity.list_api_keys(target.id)
        key = next((k for k in keys if key_id in (k.id, k.prefix)), None)
        if key is None:
            fail(f"no API key {key_id!r} in workspace {target.name!r}")
        if key.revoked_at is not None:
            console.print(f"API key {key.name!r} ({key.prefix}) was already revoked", markup=False)
            return
        identity.revoke_api_key(target.id, key.id, actor=CLI_ACTOR)
    console.print(f"Revoked API key {key.name!r} ({key.prefix})", markup=False)
