"""`sentineliq`: the root command and the error boundary that keeps tracebacks from users."""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

from sentineliq.cli import (
    alert_status,
    alerts,
    apikeys,
    assignees,
    deliveries,
    evidence,
    inputs,
    mitre,
    providers,
    sandbox,
    serve,
    sync,
    users,
    worker,
    workspaces,
)
from sentineliq.cli.output import ExitCode, errors
from sentineliq.errors import (
    AccessError,
    ConfigurationError,
    InputError,
    SentinelIQError,
    TicketSystemError,
)
from sentineliq.logs import configure_logging, scrub
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
app.add_typer(providers.app, name="providers", hidden=True)  # the plural reads naturally too
app.add_typer(sync.app, name="sync")
app.add_typer(alerts.app, name="alerts")
alerts.app.command("resolve")(alert_status.resolve)
alerts.app.command("dismiss")(alert_status.dismiss)
alerts.app.command("reopen")(alert_status.reopen)
app.add_typer(deliveries.app, name="deliveries")
app.add_typer(evidence.app, name="evidence")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(users.app, name="user")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(assignees.app, name="assignee")
app.add_typer(mitre.app, name="mitre")
app.add_typer(inputs.app, name="inputs")
app.command("worker")(worker.worker)
app.command("schema")(alerts.schema)
app.command("demo")(worker.demo)
app.command("serve")(serve.serve)

# The error hierarchy's branches -> exit codes: expected refusals and failures, each shown as one
# scrubbed line without the debug hint. The first branch the error descends from wins; anything
# else is a bug or an environment problem (ExitCode.FAILURE with the hint).
EXIT_CODES: tuple[tuple[type[SentinelIQError], int], ...] = (
    (InputError, ExitCode.USAGE),  # e.g. an invalid email address
    (ConfigurationError, ExitCode.USAGE),  # settings, a provider's configuration
    (StorageError, ExitCode.USAGE),  # unknown workspace, wrong secret key
    (AccessError, ExitCode.USAGE),
    (TicketSystemError, ExitCode.FAILURE),  # the ticket system refused or could not be reached
)


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code of an expected error, or None for one the table does not know."""
    return next((code for branch, code in EXIT_CODES if isinstance(exc, branch)), None)


def main() -> None:
    configure_logging()
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        code = exit_code_for(exc)
        if code is not None:  # expected (unknown workspace, bad configuration): no hint
            errors.print(f"[red]error:[/red] {escape(scrub(str(exc)))}", markup=True)
            sys.exit(code)
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
