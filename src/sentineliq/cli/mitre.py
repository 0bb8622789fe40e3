"""`sentineliq mitre ...`: keep the MITRE ATT&CK catalog current."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sentineliq.cli.common import JsonOption, open_app
from sentineliq.cli.output import ExitCode, console, fail, print_json
from sentineliq.mitre.catalog import default_catalog, release_name
from sentineliq.services.attack import AttackSourceError, sync_catalog, sync_status

app = typer.Typer(help="The MITRE ATT&CK catalog tickets are enriched from.", no_args_is_help=True)


@app.command("sync")
def sync(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read the STIX bundle from this file instead of the URL."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Fetch from this URL (default: SENTINELIQ_MITRE_URL)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Load an ATT&CK STIX bundle and make it the catalog of this installation."""
    if file is not None and url is not None:
        fail("--file and --url: give one of them")
    if url is not None and not url.startswith(("https://", "http://")):
        fail("--url: must be an http(s) URL")
    with open_app() as app_context:
        try:
            result = sync_catalog(app_context, file=file, url=url)
        except AttackSourceError as exc:
            fail(escape(str(exc)), ExitCode.FAILURE)
    if as_json:
        print_json(
            {
                "version": result.version,
                "source": result.source,
                "synced_at": result.synced_at.isoformat(),
                "techniques": result.techniques,
                "revoked": result.revoked,
                "deprecated": result.deprecated,
            }
        )
        return
    console.print(
        f"ATT&CK {escape(result.release)} synced from {escape(result.source)}: "
        f"{result.techniques} techniques ({result.deprecated} deprecated), "
        f"{result.revoked} revoked ids"
    )


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Which catalog tickets use, when it was synced, and whether the last sync failed."""
    with open_app() as app_context:
        record = sync_status(app_context)
        schedule = "daily" if app_context.settings.mitre.interval_s > 0 else "off"
    embedded = default_catalog()
    value: dict[str, Any] = {
        "catalog": "synced" if record.version else "embedded",
        "version": record.version or embedded.version,
        "release": release_name(record.version) if record.version else embedded.release,
        "source": record.source,
        "synced_at": record.synced_at.isoformat() if record.synced_at else None,
        "last_attempt_at": record.attempted_at.isoformat() if record.attempted_at else None,
        "last_error": record.error,
        "schedule": schedule,
    }
    if as_json:
        print_json(value)
    else:
        for key, item in value.items():
            console.print(f"{key}: {escape(str(item)) if item is not None else '—'}")
    if record.error:
        raise typer.Exit(ExitCode.FAILURE)
