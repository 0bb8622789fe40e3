"""`sentineliq deliveries ...`: where each alert's ticket stands, why it failed, replays, and the
tickets the storm guard held (list, release, discard)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import console, errors, fail, print_json
from sentineliq.services.context import AppContext
from sentineliq.storage.deliveries import (
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    DeliveryView,
    DroppedField,
)
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.providers import ProviderRecord, ProviderRepository

app = typer.Typer(
    help="Deliveries: the work queued for each alert at each provider (its ticket's create, "
    "comments on repeats, transitions), with the ticket once filed."
)

DeliveryArgument = Annotated[
    str, typer.Argument(help="Delivery id, or its first characters (as `deliveries list` shows).")
]
SHORT_ID = 8


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def _dropped_json(dropped: tuple[DroppedField, ...]) -> list[dict[str, str]]:
    return [{"field": d.field, "reason": d.reason} for d in dropped]


def _dropped_text(dropped: tuple[DroppedField, ...]) -> str:
    return "; ".join(f"{d.field} ({d.reason})" if d.reason else d.field for d in dropped)


def _pause_line(provider: ProviderRecord, workspace: str) -> str:
    return (
        f"[bold red]{escape(provider.provider)} is PAUSED[/bold red] since "
        f"{_when(provider.paused_at)}: {escape(provider.paused_reason or '')}\n"
        f"  its deliveries wait; fix the configuration, or run "
        f"`sentineliq provider resume {escape(provider.provider)} --workspace "
        f"{escape(workspace)}`"
    )


def _held_line(held: int, workspace: str) -> str:
    tickets = "1 new ticket is" if held == 1 else f"{held} new tickets are"
    return (
        f"[bold yellow]{tickets} HELD by the storm guard[/bold yellow]: review with "
        f"`sentineliq deliveries held --workspace {escape(workspace)}`, then release or discard"
    )


DEFAULT_LIST_LIMIT = 200


@app.command("list")
def list_deliveries(
    workspace: WorkspaceOption,
    status: Annotated[
        str | None,
        typer.Option(
            help="Only this status: pending, in_flight, delivered, failed, dead, held, discarded."
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(min=1, max=100_000, help="At most this many, most recently updated first."),
    ] = DEFAULT_LIST_LIMIT,
    every: Annotated[
        bool, typer.Option("--all", help="Every delivery, read and printed page by page.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List deliveries with status, attempts, last error and the ticket key and URL."""
    wanted: DeliveryStatus | None = None
    if status is not None:
        try:
            wanted = DeliveryStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in DeliveryStatus)
            fail(f"--status: unknown status {status!r} (known: {known})")
    with open_app() as context:
        ws = context.workspace(workspace)
        repository = DeliveryRepository(context.db)
        held = repository.count_held(ws.id)
        paused = [
            p for p in ProviderRepository(context.db, context.secrets).list(ws.id) if p.is_paused
        ]
        first: list[DeliveryView] = []
        if every:
            pages: Iterable[list[DeliveryView]] = repository.iter_for_workspace(ws.id, wanted)
        else:
            # One more than asked: tells whether the list was cut.
            first = repository.list_for_workspace(ws.id, status=wanted, limit=limit + 1)
            pages = [first[:limit]]
        if as_json:
            _stream_json(_view_json(v) for page in pages for v in page)
        else:
            for provider in paused:
                console.print(_pause_line(provider, ws.name), markup=True)
            if held and wanted is not DeliveryStatus.HELD:
                console.print(_held_line(held, ws.name), markup=True)
            for page in pages:
                console.print(_table(page))
    if not every and len(first) > limit:
        errors.print(
            f"(the {limit} most recently updated; --limit N or --all for more)", highlight=False
        )


def _view_json(v: DeliveryView) -> dict[str, Any]:
    return {
        "delivery_id": v.id,
        "alert_id": v.alert_id,
        "alert_title": v.alert_title,
        "provider": v.provider,
        "operation": v.operation,
        "status": v.status.value,
        "phase": v.phase,
        "attempts": v.attempts,
        "last_error": v.last_error,
        "error_kind": v.error_kind,
        "issue_key": v.issue_key,
        "url": v.url,
        "next_attempt_at": v.available_at
        if v.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
        else None,
        "updated_at": v.updated_at,
        "provider_paused": v.provider_paused_at is not None,
        "provider_paused_since": v.provider_paused_at,
        "provider_paused_reason": v.provider_paused_reason,
        "dropped_fields": _dropped_json(v.dropped_fields),
    }


def _stream_json(items: Iterable[dict[str, Any]]) -> None:
    """A JSON array written item by item: a listing of any size never sits in memory whole."""
    sys.stdout.write("[")
    for index, item in enumerate(items):
        text = json.dumps(item, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(("," if index else "") + "\n  " + text.replace("\n", "\n  "))
    sys.stdout.write("\n]\n")


def _table(views: Sequence[DeliveryView]) -> Table:
    table = Table("id", "alert", "operation", "status", "attempts", "ticket", "last error")
    for view in views:
        ticket = f"{view.issue_key} {view.url}" if view.issue_key else ""
        if view.dropped_fields:
            ticket += " (without " + ", ".join(d.field for d in view.dropped_fields) + ")"
        state = view.status.value
        if view.phase != state:  # e.g. "failed (reconcile)": searching before creating again
            state += f" ({view.phase})"
        if view.provider_paused_at is not None and view.status is not DeliveryStatus.DELIVERED:
            state += " (paused)"
        table.add_row(
            view.id[:SHORT_ID],
            escape(view.alert_title[:60]),
            escape(view.operation),
            state,
            str(view.attempts),
            escape(ticket),
            escape((view.last_error or "")[:80]),
        )
    return table


def _resolve(deliveries: DeliveryRepository, ref: str) -> str:
    """A full delivery id from an id or a unique prefix of one; exits 2 otherwise."""
    if deliveries.get(ref) is not None:
        return ref
    matches = deliveries.find_by_prefix(ref)
    if not matches:
        fail(f"delivery {escape(ref)} not found")
    if len(matches) > 1:
        fail(f"{escape(ref)!r} matches several deliveries; give more of the id")
    return matches[0]


def _attempt_json(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "outcome": attempt.outcome.value,
        "worker_id": attempt.worker_id,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "error_kind": attempt.error_kind,
        "http_status": attempt.http_status,
        "message": attempt.message,
        "retry_at": attempt.retry_at,
        "details": attempt.details,
    }


def _detail_json(detail: DeliveryDetail) -> dict[str, Any]:
    d = detail.delivery
    return {
        "delivery_id": d.id,
        "alert_id": d.alert_id,
        "alert_title": detail.alert_title,
        "workspace_id": d.workspace_id,
        "provider": d.provider,
        "operation": d.operation,
        "status": d.status.value,
        "phase": d.phase,
        "attempts": d.attempts,
        "idempotency_key": d.idempotency_key,
        "issue_key": detail.issue_key,
        "url": detail.url,
        "dropped_fields": _dropped_json(d.dropped_fields),
        "last_error": d.last_error,
        "error_kind": d.error_kind,
        "next_attempt_at": d.available_at
        if d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
        else None,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "delivered_at": d.delivered_at,
        "last_sent_at": d.last_sent_at,
        "reconcile_until": d.reconcile_until,
        "provider_paused": detail.provider_paused_at is not None,
        "provider_paused_since": detail.provider_paused_at,
        "provider_paused_reason": detail.provider_paused_reason,
        "history": [_attempt_json(a) for a in detail.history],
    }


def _field_messages(attempt: AttemptRecord) -> list[str]:
    """The ticket system's per-field messages, when the worker stored them structured."""
    details = attempt.details or {}
    fields = details.get("field_errors")
    if not isinstance(fields, dict):
        return []
    return [f"{name}: {message}" for name, message in fields.items()]


def _print_detail(detail: DeliveryDetail) -> None:
    d = detail.delivery
    status = d.status.value
    if d.phase != status:
        status += f" ({d.phase}: searching Jira for an earlier create before creating again)"
    if detail.provider_paused_at is not None and d.status is not DeliveryStatus.DELIVERED:
        status += f" (waiting: {d.provider} is paused)"
    rows: list[tuple[str, str]] = [
        ("alert", f"{detail.alert_title} ({d.alert_id})"),
        ("provider", d.provider),
        ("operation", d.operation),
        ("status", status),
        ("attempts", str(d.attempts)),
        ("idempotency key", d.idempotency_key),
        ("ticket", f"{detail.issue_key} {detail.url}" if detail.issue_key else "-"),
        ("dropped fields", _dropped_text(d.dropped_fields) or "-"),
        ("created", _when(d.created_at)),
        ("updated", _when(d.updated_at)),
    ]
    if d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        rows.append(("next attempt", _when(d.available_at)))
    if d.status is DeliveryStatus.HELD:
        rows.append(
            (
                "held",
                "by the storm guard: `sentineliq deliveries release` files it, "
                "`sentineliq deliveries discard` drops it",
            )
        )
    if d.last_sent_at is not None:
        rows.append(("last sent", _when(d.last_sent_at)))
    if d.reconcile_until is not None:
        rows.append(("search before create until", _when(d.reconcile_until)))
    if d.last_error:
        rows.append(("last error", f"[{d.error_kind}] {d.last_error}"))
    if detail.provider_paused_at is not None:
        rows.append(
            (
                "provider paused",
                f"since {_when(detail.provider_paused_at)}: {detail.provider_paused_reason}",
            )
        )
    console.print(f"delivery {d.id}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"  {label + ':':<{width + 1}} {escape(value)}")
    console.print(f"history ({len(detail.history)}, oldest first):")
    if not detail.history:
        console.print("  (no attempts yet)")
    for attempt in detail.history:
        facts = [f"attempt {attempt.attempt}", attempt.outcome.value]
        if attempt.error_kind:
            facts.append(attempt.error_kind)
        if attempt.http_status is not None:
            facts.append(f"HTTP {attempt.http_status}")
        console.print(
            f"  {_when(attempt.finished_at)}  {escape(' · '.join(facts))}  "
            f"by {escape(attempt.worker_id)}"
        )
        if attempt.message:
            for line in attempt.message.splitlines():
                console.print(f"      {escape(line)}")
        for field_message in _field_messages(attempt):
            console.print(f"      - {escape(field_message)}")
        if attempt.retry_at is not None:
            console.print(f"      due again at {_when(attempt.retry_at)}")


@app.command("show")
def show(delivery: DeliveryArgument, as_json: JsonOption = False) -> None:
    """One delivery and its full attempt history, with the ticket system's messages."""
    with open_app() as context:
        deliveries = DeliveryRepository(context.db)
        detail = deliveries.detail(_resolve(deliveries, delivery))
    if detail is None:  # deleted between the two reads
        fail(f"delivery {escape(delivery)} not found")
    if as_json:
        print_json(_detail_json(detail))
    else:
        _print_detail(detail)


def _replayed_json(records: list[DeliveryRecord]) -> dict[str, Any]:
    return {
        "replayed": [
            {
                "delivery_id": r.id,
                "alert_id": r.alert_id,
                "workspace_id": r.workspace_id,
                "provider": r.provider,
            }
            for r in records
        ],
        "count": len(records),
    }


def _replay_one(context: AppContext, ref: str, workspace: str | None) -> list[DeliveryRecord]:
    deliveries = DeliveryRepository(context.db)
    delivery_id = _resolve(deliveries, ref)
    detail = deliveries.detail(delivery_id)
    if detail is None:
        fail(f"delivery {escape(ref)} not found")
    if workspace is not None and context.workspace(workspace).id != detail.delivery.workspace_id:
        fail(f"delivery {delivery_id} is not in workspace {escape(workspace)!r}")
    try:
        record = deliveries.requeue(delivery_id, actor=CLI_ACTOR)
    except InvalidStateError as exc:
        hint = ""
        if detail.provider_paused_at is not None:
            hint = (
                f"; it waits for {detail.delivery.provider} to be resumed (`"
                + _resume_command(detail.delivery.provider, detail.delivery.workspace_id)
                + "`)"
            )
        fail(escape(str(exc)) + escape(hint))
    return [record]


def _resume_command(provider: str, workspace_id: str) -> str:
    return f"sentineliq provider resume {provider} --workspace {workspace_id}"


def _describe(
    context: AppContext, records: list[DeliveryRecord]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The replayed deliveries' alert titles, and which (provider, workspace id) are paused."""
    deliveries = DeliveryRepository(context.db)
    titles: dict[str, str] = {}
    paused: set[tuple[str, str]] = set()
    for record in records:
        detail = deliveries.detail(record.id)
        if detail is None:
            continue
        titles[record.id] = detail.alert_title
        if detail.provider_paused_at is not None:
            paused.add((record.provider, record.workspace_id))
    return titles, sorted(paused)


@app.command("replay")
def replay(
    delivery: Annotated[
        str | None, typer.Argument(help="Delivery id (or its first characters) to replay.")
    ] = None,
    all_dead: Annotated[
        bool, typer.Option("--all-dead", help="Replay every dead delivery.")
    ] = False,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", "-w", help="With --all-dead: only this workspace (id or name)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Queue dead (or retry-scheduled) deliveries again now, with a fresh attempt budget.

    The idempotency key is kept, so a ticket an earlier attempt did create is found, not
    duplicated. Delivered ones are refused.
    """
    if (delivery is None) == (not all_dead):
        fail("give a delivery id or --all-dead (not both)")
    with open_app() as context:
        if delivery is not None:
            records = _replay_one(context, delivery, workspace)
        else:
            workspace_id = context.workspace(workspace).id if workspace is not None else None
            records = DeliveryRepository(context.db).replay_dead(workspace_id, actor=CLI_ACTOR)
        titles, paused = _describe(context, records)
    if as_json:
        print_json(_replayed_json(records))
        return
    if not records:
        console.print("No dead deliveries to replay.")
        return
    noun = "delivery" if len(records) == 1 else "deliveries"
    console.print(f"Replayed {len(records)} {noun}; queued for the next worker run:")
    for record in records:
        console.print(
            f"  {record.id}  {escape(record.provider)}  {escape(titles.get(record.id, ''))}"
        )
    for provider, workspace_id in paused:
        errors.print(
            f"note: {escape(provider)} is paused, so these wait until it is resumed "
            f"(`{escape(_resume_command(provider, workspace_id))}`)",
            markup=True,
        )


# --- the storm guard's held tickets -------------------------------------------------------------

HeldIds = Annotated[
    list[str] | None,
    typer.Argument(help="Held delivery ids (or their first characters), as `held` shows them."),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every held delivery of the workspace.")]


@app.command("held")
def held(workspace: WorkspaceOption, as_json: JsonOption = False) -> None:
    """New tickets the storm guard held: more than the provider's threshold arrived within its
    window. Release them (file after all) or discard them (never filed)."""
    with open_app() as context:
        ws = context.workspace(workspace)
        views = DeliveryRepository(context.db).list_for_workspace(ws.id, DeliveryStatus.HELD)
    views.sort(key=lambda v: (v.updated_at, v.alert_title, v.id))  # oldest first
    if as_json:
        print_json(
            [
                {
                    "delivery_id": v.id,
                    "alert_id": v.alert_id,
                    "alert_title": v.alert_title,
                    "provider": v.provider,
                    "operation": v.operation,
                    "held_since": v.updated_at,
                }
                for v in views
            ]
        )
        return
    if not views:
        console.print("No tickets are held.")
        return
    table = Table("id", "alert", "provider", "held since")
    for view in views:
        table.add_row(
            view.id[:SHORT_ID],
            escape(view.alert_title[:80]),
            escape(view.provider),
            _when(view.updated_at),
        )
    console.print(table)
    noun = "ticket is" if len(views) == 1 else "tickets are"
    console.print(
        f"{len(views)} new {noun} held. `sentineliq deliveries release --workspace "
        f"{escape(ws.name)} --all` (or ids) files them; `deliveries discard` drops them."
    )


def _held_selection(
    deliveries: DeliveryRepository, ids: list[str] | None, every: bool
) -> list[str] | None:
    if every == bool(ids):
        fail("give held delivery ids or --all (not both)")
    if every:
        return None
    return [_resolve(deliveries, ref) for ref in ids or ()]


def _settle(
    workspace: str, ids: list[str] | None, every: bool, release: bool, as_json: bool
) -> None:
    with open_app() as context:
        ws = context.workspace(workspace)
        deliveries = DeliveryRepository(context.db)
        chosen = _held_selection(deliveries, ids, every)
        settle = deliveries.release_held if release else deliveries.discard_held
        try:
            records = settle(ws.id, chosen, actor=CLI_ACTOR)
        except NotFoundError as exc:
            fail(escape(str(exc)))
        still_held = deliveries.count_held(ws.id)
        titles, _paused = _describe(context, records)
    action = "released" if release else "discarded"
    if as_json:
        print_json(
            {
                action: [
                    {"delivery_id": r.id, "alert_id": r.alert_id, "provider": r.provider}
                    for r in records
                ],
                "count": len(records),
                "still_held": still_held,
            }
        )
        return
    if not records:
        console.print("No tickets were held.")
        return
    noun = "ticket" if len(records) == 1 else "tickets"
    after = "queued for the next worker run" if release else "they will not be filed"
    console.print(f"{action.capitalize()} {len(records)} held {noun}; {after}:")
    for record in records:
        console.print(
            f"  {record.id}  {escape(record.provider)}  {escape(titles.get(record.id, ''))}"
        )
    if still_held:
        console.print(f"{still_held} still held.")


@app.command("release")
def release(
    workspace: WorkspaceOption,
    delivery_ids: HeldIds = None,
    every: AllOption = False,
    as_json: JsonOption = False,
) -> None:
    """File held tickets after all: they become pending and the next worker run files them."""
    _settle(workspace, delivery_ids, every, release=True, as_json=as_json)


@app.command("discard")
def discard(
    workspace: WorkspaceOption,
    delivery_ids: HeldIds = None,
    every: AllOption = False,
    as_json: JsonOption = False,
) -> None:
    """Never file these held tickets. Their alerts stay, and keep counting repeats."""
    _settle(workspace, delivery_ids, every, release=False, as_json=as_json)
