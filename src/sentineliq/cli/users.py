"""`sentineliq user ...`: admin-panel accounts and their workspace roles.

Passwords are read from an environment variable or stdin, never from the command line, where
they would land in shell history and in every user's `ps` output.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.services.identity import IdentityService, InvalidFieldError, Role, UserRecord

app = typer.Typer(help="Admin users: sign-in accounts for the admin panel and their roles.")

EmailOption = Annotated[str, typer.Option("--email", help="Sign-in email address.")]
RoleOption = Annotated[
    Role, typer.Option("--role", help="Role in the workspace.", case_sensitive=False)
]


def _read_password(password_env: str | None, password_stdin: bool) -> str:
    if (password_env is None) == (not password_stdin):
        fail("give exactly one of --password-env VAR or --password-stdin")
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            fail(f"environment variable {password_env} is not set")
        return value
    # Only the line ending is dropped: spaces may be part of a passphrase.
    return sys.stdin.read().removesuffix("\n").removesuffix("\r")


def _user_json(user: UserRecord) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "is_active": user.is_active,
        "created_at": user.created_at,
    }


@app.command("create")
def create(
    email: EmailOption,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", help="Read the password from this environment variable."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Also add to this workspace (id or name)."),
    ] = None,
    role: Annotated[
        Role | None,
        typer.Option("--role", help="Role in --workspace.", case_sensitive=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an admin user, optionally as a member of a workspace."""
    if (workspace is None) != (role is None):
        fail("--workspace and --role go together")
    password = _read_password(password_env, password_stdin)
    with open_app() as context:
        # Resolve the workspace first, so a typo does not leave a user without it.
        target = context.workspace(workspace) if workspace is not None else None
        identity = IdentityService(context)
        try:
            user = identity.create_user(email, password, display_name=name, actor=CLI_ACTOR)
        except InvalidFieldError as exc:
            fail(str(exc))
        if target is not None and role is not None:
            identity.add_member(target.id, user.id, role, actor=CLI_ACTOR)
    if as_json:
        payload = _user_json(user)
        if target is not None and role is not None:
            payload["workspace"] = {"id": target.id, "name": target.name, "role": role.value}
        print_json(payload)
        return
    console.print(f"Created user {user.email}: {user.id}", markup=False)
    if target is not None and role is not None:
        console.print(f"Added to workspace {target.name!r} as {role.value}", markup=False)


@app.command("add-member")
def add_member(
    email: EmailOption,
    workspace: WorkspaceOption,
    role: RoleOption,
    as_json: JsonOption = False,
) -> None:
    """Give a user a role in a workspace (or change the role they have)."""
    with open_app() as context:
        target = context.workspace(workspace)
        identity = IdentityService(context)
        user = identity.find_user(email)
        if user is None:
            fail(f"no user with email {email!r}")
        identity.add_member(target.id, user.id, role, actor=CLI_ACTOR)
    if as_json:
        print_json({"user_id": user.id, "email": user.email, "workspace_id": target.id,
                    "workspace": target.name, "role": role.value})  # fmt: skip
    else:
        console.print(f"{user.email} is {role.value} of workspace {target.name!r}", markup=False)


@app.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """List admin users and their workspaces."""
    with open_app() as context:
        identity = IdentityService(context)
        found = [(user, identity.workspaces_of(user.id)) for user in identity.list_users()]
    if as_json:
        print_json(
            [
                {
                    **_user_json(user),
                    "workspaces": [
                        {"id": ws.id, "name": ws.name, "role": role.value} for ws, role in spaces
                    ],
                }
                for user, spaces in found
            ]
        )
        return
    table = Table("id", "email", "name", "active", "workspaces")
    for user, spaces in found:
        table.add_row(
            user.id,
            user.email,
            user.display_name or "",
            "yes" if user.is_active else "no",
            ", ".join(f"{ws.name} ({role.value})" for ws, role in spaces),
        )
    console.print(table)
