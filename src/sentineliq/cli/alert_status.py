"""`sentineliq alerts resolve | dismiss | reopen`: a person at the command line closing an alert.

Recorded as the OS account and host running the command (`cli:<user>@<host>`, like every CLI
audit entry). Resolve and dismiss queue a transition of each ticket for the worker; reopen
changes the alert in SentinelIQ only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, fail, print_json
from sentineliq.services.alerttriage import REASON_MAX, TriageAction, Triaged, triage
from sentineliq.storage.errors import InvalidStateError, NotFoundError

AlertArgument = Annotated[str, typer.Argument(help="The alert's id.", show_default=False)]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        "-r",
        help=f"Why (at most {REASON_MAX} characters); written into each ticket's comment.",
        show_default=False,
    ),
]


def _run(action: TriageAction, alert_id: str, workspace: str, reason: str, as_json: bool) -> None:
    with open_app() as context:
        ws = context.workspace(workspace)
        try:
            done = triage(context, ws.id, alert_id, action, actor=CLI_ACTOR, reason=reason)
        except NotFoundError:
            fail(f"no alert {alert_id!r} in workspace {ws.name!r}")
        except InvalidStateError as exc:
            fail(str(exc))
    _report(done, as_json)


def _report(done: Triaged, as_json: bool) -> None:
    view: dict[str, Any] = {
        "alert_id": done.alert_id,
        "previous_status": done.before,
        "status": done.status,
        "actor": done.actor,
        "transitions": [
            {"provider": t.provider, "delivery_id": t.delivery_id} for t in done.transitions
        ],
    }
    if as_json:
        print_json(view)
        return
    console.print(f"alert {escape(done.alert_id)}: {escape(done.before)} -> {escape(done.status)}")
    for t in done.transitions:
        console.print(f"queued: {escape(t.provider)} ticket transition (delivery {t.delivery_id})")
    if not done.transitions:
        console.print("no ticket transition queued")


def resolve(
    alert_id: AlertArgument,
    workspace: WorkspaceOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Resolve an alert; its tickets are moved to done by the worker, with your reason."""
    _run(TriageAction.RESOLVE, alert_id, workspace, reason, as_json)


def dismiss(
    alert_id: AlertArgument,
    workspace: WorkspaceOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Dismiss an alert (not a real problem); its tickets are closed as Won't Do."""
    _run(TriageAction.DISMISS, alert_id, workspace, reason, as_json)


def reopen(
    alert_id: AlertArgument,
    workspace: WorkspaceOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Set an alert back to new, in SentinelIQ only: its tickets are left as they are."""
    _run(TriageAction.REOPEN, alert_id, workspace, reason, as_json)
