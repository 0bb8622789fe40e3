"""`sentineliq`: the root command and the error boundary that keeps tracebacks from users."""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

from sentineliq.cli import (
    alerts,
    apikeys,
    assignees,
    deliveries,
    providers,
    sandbox,
    serve,
    users,
    worker,
    workspaces,
)
from sentineliq.cli.output import ExitCode, errors
from sentineliq.logs import configure_logging, scrub
from sentineliq.services.providers import ProviderConfigError
from sentineliq.settings import SettingsError
from sentineliq.storage.errors import StorageError

app = typer.Typer(
    name="sentineliq",
    help="SentinelIQ Tickets: security alerts in, well-formed Jira issues out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(workspaces.app, name="workspace")
app.add_typer(providers.app, name="provider")
app.add_typer(alerts.app, name="alerts")
app.add_typer(deliveries.app, name="deliveries")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(users.app, name="user")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(assignees.app, name="assignee")
app.command("worker")(worker.worker)
app.command("schema")(alerts.schema)
app.command("demo")(worker.demo)
app.command("serve")(serve.serve)


def main() -> None:
    configure_logging()
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except (StorageError, ProviderConfigError, SettingsError) as exc:
        # Expected refusals (unknown workspace, bad configuration, wrong secret key): no hint.
        errors.print(f"[red]error:[/red] {escape(scrub(str(exc)))}", markup=True)
        sys.exit(ExitCode.USAGE)
    except Exception as exc:
        if os.environ.get("SENTINELIQ_DEBUG"):
            raise
        # Anything reaching here is a bug or an environment problem; show one scrubbed line.
        detail = scrub(str(exc)) or type(exc).__name__
        errors.print(
            f"[red]error:[/red] {escape(detail)} ({type(exc).__name__}); "
            "set SENTINELIQ_DEBUG=1 for a traceback",
            markup=True,
        )
        sys.exit(ExitCode.FAILURE)
