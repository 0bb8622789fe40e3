"""`sentineliq provider ...`: configure, test, show and enable ticket providers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sentineliq.cli.common import CLI_ACTOR, JsonOption, WorkspaceOption, open_app
from sentineliq.cli.output import ExitCode, console, fail, print_json
from sentineliq.providers import registry
from sentineliq.providers.jira.webhook import HANDLED_EVENTS
from sentineliq.services import providers as provider_service
from sentineliq.services.backfill import enable_provider
from sentineliq.services.webhooks import WEBHOOK_PATH, generate_webhook_secret
from sentineliq.storage.backfill import DEFAULT_BACKFILL_HOURS
from sentineliq.storage.crypto import MASK
from sentineliq.storage.inbound import InboundRepository
from sentineliq.storage.providers import ProviderRepository
from sentineliq.tickets.redaction import PATTERN_NAMES

app = typer.Typer(help="Ticket providers of a workspace (Jira Cloud).")

ProviderArgument = Annotated[str, typer.Argument(help="Provider name, e.g. jira.")]


def _known(provider: str) -> str:
    if provider not in registry.names():
        fail(f"unknown provider {provider!r} (known: {', '.join(registry.names())})")
    return provider


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, mapped = value.partition("=")
        if not sep or not key.strip() or not mapped.strip():
            fail(f"{option}: expected KEY=VALUE, got {value!r}")
        pairs[key.strip()] = mapped.strip()
    return pairs


def _field_values(values: list[str] | None) -> dict[str, str | list[str]]:
    """--field NAME=VALUE, repeatable; a name given twice collects a list (multi-selects)."""
    out: dict[str, str | list[str]] = {}
    for value in values or []:
        name, sep, given = value.partition("=")
        name, given = name.strip(), given.strip()
        if not sep or not name or not given:
            fail(f'--field: expected NAME=VALUE, e.g. "Team=Blue Team", got {value!r}')
        if name in out:
            before = out[name]
            out[name] = [*(before if isinstance(before, list) else [before]), given]
        else:
            out[name] = given
    return out


def _content(
    stored: Mapping[str, Any] | None,
    defang: bool | None,
    redact: list[str] | None,
    gate_severities: list[str] | None,
    gate_infringements: list[str] | None,
) -> dict[str, Any]:
    """The stored content settings with those given on the command line over them: a setting
    not given keeps what was saved (by the panel or the API), never falls back silently."""
    content: dict[str, Any] = dict(stored or {})
    if defang is not None:
        content["defang"] = defang
    switches: dict[str, bool] = dict(content.get("redaction") or {})
    for name, state in _pairs(redact, "--redact").items():
        if state.lower() not in ("on", "off"):
            fail(f"--redact: {name}: expected on or off, got {state!r}")
        switches[name] = state.lower() == "on"
    if switches:
        content["redaction"] = switches  # an unknown name is refused by the config, by name
    gate: dict[str, Any] = dict(content.get("brand_gate") or {})
    if gate_severities is not None:
        gate["severities"] = _listed(gate_severities)
    if gate_infringements is not None:
        gate["infringements"] = _listed(gate_infringements)
    if gate:
        content["brand_gate"] = gate  # unknown values are refused by the config, by name
    return content


def _listed(values: list[str]) -> list[str]:
    """Repeated or comma-separated; "none" for an empty list (a gate that files nothing)."""
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    return [] if items == ["none"] else items


@app.command("configure")
def configure(
    provider: ProviderArgument,
    workspace: WorkspaceOption,
    base_url: Annotated[str, typer.Option(help="https://your-site.atlassian.net")],
    email: Annotated[str, typer.Option(help="Email of the Jira account the token belongs to.")],
    project_key: Annotated[str, typer.Option(help="Project to file issues in, e.g. SEC.")],
    issue_type: Annotated[str, typer.Option(help="Issue type name or id.")] = "Task",
    api_token: Annotated[
        str | None,
        typer.Option(help="API token. Prefer --api-token-env: arguments show up in `ps`."),
    ] = None,
    api_token_env: Annotated[
        str | None, typer.Option(help="Read the API token from this environment variable.")
    ] = None,
    priority: Annotated[
        list[str] | None,
        typer.Option(help="Override the priority map, e.g. --priority critical=Blocker."),
    ] = None,
    custom_field: Annotated[
        list[str] | None,
        typer.Option(
            help="Map a custom field to an alert attribute: customfield_10050=threat_score."
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="Give a Jira field (name or id) a fixed value on every issue, e.g. --field "
            '"Team=Blue Team"; repeat a name for several values.',
        ),
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option(
            help="The site issue links use when --base-url is the scoped-token gateway "
            "https://api.atlassian.com/ex/jira/{cloudId} (default: Jira's server info)."
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="HTTP timeout in seconds.")] = 15.0,
    mirror_comments: Annotated[
        bool,
        typer.Option(
            "--mirror-comments",
            help="Copy comments people write on tickets into the alerts' notes.",
        ),
    ] = False,
    defang: Annotated[
        bool | None,
        typer.Option(
            "--defang/--no-defang",
            help="Write indicators (URLs, domains, IPs, emails) defanged: hxxps://evil[.]example "
            "(default on; not given: as saved).",
        ),
    ] = None,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            help="Switch a redaction pattern on or off, e.g. --redact emails=on "
            f"({', '.join(PATTERN_NAMES)}; all but emails are on by default).",
        ),
    ] = None,
    attack_label_prefix: Annotated[
        str | None,
        typer.Option(
            help="Put before each ATT&CK id to make its Jira label (default attack-, as in "
            'attack-T1566.002; "" for the bare id).'
        ),
    ] = None,
    brand_gate_severity: Annotated[
        list[str] | None,
        typer.Option(
            help="Severities of brand-protection detections that file a ticket, repeatable or "
            'comma-separated (default critical,high; "none": none).'
        ),
    ] = None,
    brand_gate_infringement: Annotated[
        list[str] | None,
        typer.Option(
            help="Infringement types of brand-protection detections that file a ticket "
            '(default counterfeiting,impersonation,domain_squatting; "none": none).'
        ),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it switched off.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Validate and store a provider configuration; the token is encrypted at rest.
    Ticket content settings not given keep what was saved."""
    _known(provider)
    if api_token and api_token_env:
        fail("give either --api-token or --api-token-env, not both")
    token = api_token
    if api_token_env:
        token = os.environ.get(api_token_env)
        if not token:
            fail(f"--api-token-env: environment variable {api_token_env} is not set or empty")
    with open_app() as context:
        ws = context.workspace(workspace)
        existing = ProviderRepository(context.db, context.secrets).get(
            ws.id, provider, decrypt=False
        )
        if token is None:
            if existing is None or not existing.has_secret:
                fail("api_token: is required (use --api-token-env VAR or --api-token)")
            token = MASK  # keep the stored token
        raw: dict[str, Any] = {
            "base_url": base_url,
            "email": email,
            "api_token": token,
            "project_key": project_key,
            "issue_type": issue_type,
            "timeout_s": timeout,
        }
        if mirror_comments:
            raw["mirror_comments"] = True
        stored = existing.config.get("content") if existing is not None else None
        content = _content(
            stored if isinstance(stored, Mapping) else None,
            defang,
            redact,
            brand_gate_severity,
            brand_gate_infringement,
        )
        if content:
            raw["content"] = content
        if priority:
            raw["priority_map"] = _pairs(priority, "--priority")
        if custom_field:
            raw["custom_fields"] = _pairs(custom_field, "--custom-field")
        if field:
            raw["field_values"] = _field_values(field)
        if site_url:
            raw["site_url"] = site_url
        if attack_label_prefix is not None:
            raw.setdefault("content", {})["attack"] = {"label_prefix": attack_label_prefix}
        if token == MASK:
            raw = _with_stored_token(context, ws.id, provider, raw)
        record = provider_service.configure(
            context, ws.id, provider, raw, enabled=not disabled, actor=CLI_ACTOR
        )
    if as_json:
        print_json({"provider": record.provider, "enabled": record.is_enabled, **record.config})
    else:
        state = "enabled" if record.is_enabled else "disabled"
        console.print(f"Saved {provider} for workspace {ws.name!r} ({state}); token encrypted.")


def _with_stored_token(
    context: Any, workspace_id: str, provider: str, raw: dict[str, Any]
) -> dict[str, Any]:
    # Validation needs the real token; it is never printed and is re-encrypted on save.
    stored = provider_service.stored_config(context, workspace_id, provider)
    secret_fields = registry.get(provider).secret_fields
    return {**raw, **{name: stored.config[name] for name in secret_fields if name in stored.config}}


@app.command("test")
def test(
    provider: ProviderArgument,
    workspace: WorkspaceOption,
    assignee_email: Annotated[
        str | None, typer.Option(help="Also check that this email resolves to a Jira user.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the connection checks. Exit 0 only if every check passes."""
    _known(provider)
    with open_app() as context:
        ws = context.workspace(workspace)
        report = provider_service.test_connection(
            context, ws.id, provider, assignee_email=assignee_email
        )
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
            }
        )
    else:
        for check in report.checks:
            mark = "[green]PASS[/green]" if check.ok else "[red]FAIL[/red]"
            console.print(f"{mark} {escape(check.name)}: {escape(check.detail)}")
    if not report.ok:
        raise typer.Exit(ExitCode.FAILURE)


@app.command("show")
def show(
    provider: ProviderArgument, workspace: WorkspaceOption, as_json: JsonOption = False
) -> None:
    """Show a provider's configuration with its secrets masked."""
    _known(provider)
    with open_app() as context:
        ws = context.workspace(workspace)
        record = ProviderRepository(context.db, context.secrets).get(ws.id, provider, decrypt=False)
    if record is None:
        fail(f"no {provider} provider is configured for workspace {ws.name!r}")
    view = {
        "provider": record.provider,
        "enabled": record.is_enabled,
        "config_version": record.config_version,
        "updated_at": record.updated_at.isoformat(),
        "config": dict(record.config),
    }
    if as_json:
        print_json(view)
        return
    table = Table("setting", "value")
    for key, value in view["config"].items():  # type: ignore[attr-defined]
        table.add_row(escape(str(key)), escape(str(value)))
    console.print(f"{provider} for {ws.name!r}: {'enabled' if record.is_enabled else 'disabled'}")
    console.print(table)


def _set_enabled(provider: str, workspace: str, enabled: bool) -> None:
    _known(provider)
    with open_app() as context:
        ws = context.workspace(workspace)
        ProviderRepository(context.db, context.secrets).set_enabled(
            ws.id, provider, enabled, actor=CLI_ACTOR
        )
    console.print(f"{provider} {'enabled' if enabled else 'disabled'} for {ws.name!r}")


@app.command("enable")
def enable(
    provider: ProviderArgument,
    workspace: WorkspaceOption,
    backfill_hours: Annotated[
        int,
        typer.Option(
            min=0,
            max=720,
            help="Queue deliveries for alerts received in this many hours that have none for "
            "this provider (e.g. stored while no provider was enabled).",
        ),
    ] = DEFAULT_BACKFILL_HOURS,
    no_backfill: Annotated[
        bool, typer.Option("--no-backfill", help="Do not backfill; only new alerts get tickets.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Switch a provider on: new alerts get tickets, and recent ones that missed it too."""
    _known(provider)
    hours = 0 if no_backfill else backfill_hours
    with open_app() as context:
        ws = context.workspace(workspace)
        result = enable_provider(context, ws.id, provider, actor=CLI_ACTOR, backfill_hours=hours)
    backfilled = result.backfill.created if result.backfill is not None else 0
    if as_json:
        print_json(
            {
                "provider": provider,
                "enabled": result.record.is_enabled,
                "backfill_hours": hours,
                "backfilled": backfilled,
            }
        )
        return
    console.print(f"{provider} enabled for {escape(ws.name)!r}")
    if hours:
        console.print(
            f"backfilled {backfilled} deliver{'y' if backfilled == 1 else 'ies'} for alerts of "
            f"the last {hours} h that had none for {provider}"
        )


@app.command("disable")
def disable(provider: ProviderArgument, workspace: WorkspaceOption) -> None:
    """Switch a provider off: its queued deliveries wait until it is enabled again."""
    _set_enabled(provider, workspace, False)


@app.command("resume")
def resume(
    provider: ProviderArgument, workspace: WorkspaceOption, as_json: JsonOption = False
) -> None:
    """Clear a pause (set after an auth failure): the provider's waiting deliveries go out."""
    _known(provider)
    with open_app() as context:
        ws = context.workspace(workspace)
        configs = ProviderRepository(context.db, context.secrets)
        before = configs.get(ws.id, provider, decrypt=False)
        if before is None:
            fail(f"no {provider} provider is configured for workspace {escape(ws.name)!r}")
        after = configs.resume(ws.id, provider, actor=CLI_ACTOR)
    if as_json:
        print_json(
            {
                "provider": provider,
                "paused": after.is_paused,
                "was_paused": before.is_paused,
                "paused_since": before.paused_at,
                "paused_reason": before.paused_reason,
            }
        )
        return
    if not before.is_paused:
        console.print(f"{provider} is not paused for {escape(ws.name)!r}; nothing to do.")
        return
    since = before.paused_at.isoformat(timespec="seconds") if before.paused_at else "?"
    console.print(
        f"Resumed {provider} for {escape(ws.name)!r} (paused since {since}: "
        f"{escape(before.paused_reason or '')}). Its waiting deliveries are due now."
    )


@app.command("webhook-secret")
def webhook_secret(
    workspace: WorkspaceOption,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The address Jira reaches this service at, e.g. https://siq.example.com; "
            "prints the full webhook URL.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate (or replace) the Jira webhook secret. It is shown ONCE: paste it into Jira."""
    with open_app() as context:
        ws = context.workspace(workspace)
        provider = InboundRepository(context.db, context.secrets).provider_of(ws.id, "jira")
        secret = generate_webhook_secret(context, provider, actor=CLI_ACTOR)
    path = WEBHOOK_PATH.format(provider_id=provider.id)
    url = public_url.rstrip("/") + path if public_url else path
    view = {"url": url, "secret": secret, "events": list(HANDLED_EVENTS)}
    if as_json:
        print_json(view)
        return
    console.print(f"Webhook URL: {escape(url)}")
    console.print(f"Secret (shown once, store it in Jira now): {escape(secret)}")
    console.print(f"Events: {', '.join(HANDLED_EVENTS)}")
