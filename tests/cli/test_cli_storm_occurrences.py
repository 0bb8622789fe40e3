"""The storm guard, repeats and the fingerprint recipe from the command line: `alerts ingest`
says what was held and what repeated, `deliveries held/release/discard` settle held tickets,
`alerts show` lists the repeats and `workspace fingerprint` shows and sets the recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_runner import Cli

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.context import AppContext
from sentineliq.services.providers import configure
from sentineliq.settings import Settings


def _alert(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": f"Ransomware note dropped on host {n}",
        "severity": "high",
        "source": "EDR",
        "detected_at": f"2026-11-27T08:{n:02d}:00Z",
        "external_id": f"edr-{n}",
        **extra,
    }


def _batch(tmp_path: Path, name: str, *records: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return str(path)


def _with_storm_threshold(cli: Cli, sqlite_url: str, workspace: str, sandbox: JiraSandbox) -> None:
    """Jira enabled with a storm threshold of 1 (the CLI's configure has no lifecycle options):
    the same database and key file the CLI uses."""
    settings = Settings(
        data_dir=cli.data_dir,
        database_url=sqlite_url,
        secret_key=None,
        allow_private_targets=True,
    )
    with AppContext.open(settings) as app:
        config = {**sandbox_provider_config(sandbox.url), "lifecycle": {"storm_threshold": 1}}
        configure(app, workspace, "jira", config, actor="test")


def test_held_tickets_are_reported_listed_released_and_discarded(
    cli: Cli, sandbox: JiraSandbox, tmp_path: Path, sqlite_url: str
) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    _with_storm_threshold(cli, sqlite_url, workspace, sandbox)

    batch = _batch(tmp_path, "storm.ndjson", *(_alert(n) for n in range(1, 4)))
    ingested = cli("alerts", "ingest", "--workspace", workspace, batch)
    assert ingested.returncode == 0, ingested.stderr
    assert (
        "accepted 3, occurrences 0, duplicates 0, refused 0; 1 deliveries queued, "
        "2 held by the storm guard" in ingested.stdout
    )
    stderr = " ".join(ingested.stderr.split())
    assert "warning: 2 new tickets were held by the storm guard for jira" in stderr
    assert '"event": "ingest.storm_held"' in stderr  # the structured log line, for collectors

    listed = cli("deliveries", "list", "--workspace", workspace)
    assert "2 new tickets are HELD by the storm guard" in listed.stdout
    assert listed.stdout.count("create_issue") == 3
    rows = cli.json("deliveries", "list", "--workspace", workspace)
    assert sorted((d["status"], d["operation"]) for d in rows) == [
        ("held", "create_issue"),
        ("held", "create_issue"),
        ("pending", "create_issue"),
    ]

    # Held in one ingest, so at one moment: ordered by title here.
    held = sorted(
        cli.json("deliveries", "held", "--workspace", workspace), key=lambda h: h["alert_title"]
    )
    assert [h["alert_title"] for h in held] == [
        "Ransomware note dropped on host 2",
        "Ransomware note dropped on host 3",
    ]
    first, second = (h["delivery_id"] for h in held)

    for args, message in (
        ((), "give held delivery ids or --all (not both)"),
        (("--all", first), "give held delivery ids or --all (not both)"),
        (("nosuchid",), "delivery nosuchid not found"),
    ):
        refused = cli("deliveries", "release", "--workspace", workspace, *args)
        assert refused.returncode == 2, refused.stdout
        assert message in refused.stderr
    assert len(cli.json("deliveries", "held", "--workspace", workspace)) == 2

    released = cli("deliveries", "release", "--workspace", workspace, first[:8])
    assert released.returncode == 0, released.stderr
    assert "Released 1 held ticket; queued for the next worker run:" in released.stdout
    assert first in released.stdout
    assert "1 still held." in released.stdout
    again = cli("deliveries", "release", "--workspace", workspace, first)
    assert again.returncode == 2
    assert f"not held in this workspace (unknown, or released or discarded already): {first}" in (
        " ".join(again.stderr.split())
    )

    discarded = cli.json("deliveries", "discard", "--workspace", workspace, "--all")
    assert discarded == {
        "discarded": [{"delivery_id": second, "alert_id": held[1]["alert_id"], "provider": "jira"}],
        "count": 1,
        "still_held": 0,
    }
    shown = cli("deliveries", "show", first)
    assert "operation:" in shown.stdout
    assert "create_issue" in shown.stdout
    assert "unheld" in shown.stdout
    assert cli("deliveries", "held", "--workspace", workspace).stdout.strip() == (
        "No tickets are held."
    )


def test_repeats_are_counted_and_shown(cli: Cli, sandbox: JiraSandbox, tmp_path: Path) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    first = _alert(1, fingerprint="ransom-note")
    repeat = {
        **first,
        "external_id": "edr-9",
        "detected_at": "2026-11-27T10:00:00Z",
        "severity": "critical",
        "observables": [{"type": "hash_sha256", "value": "ab" * 32}],
    }
    ingested = cli("alerts", "ingest", "--workspace", workspace, _batch(tmp_path, "a", first))
    assert ingested.returncode == 0, ingested.stderr
    report = cli.json(
        "alerts", "ingest", "--workspace", workspace, _batch(tmp_path, "b", repeat, repeat)
    )
    assert (report["accepted"], report["occurrences"], report["duplicates"]) == (0, 1, 1)
    assert [(r["status"], r["occurrence"]) for r in report["records"]] == [
        ("occurrence", 1),
        ("duplicate", None),
    ]
    alert_id = report["records"][0]["alert_id"]

    shown = cli.json("alerts", "show", alert_id)
    assert (shown["occurrence_count"], shown["peak_severity"]) == (1, "critical")
    assert shown["last_seen_at"].startswith("2026-11-27 10:00:00")
    [occurrence] = shown["occurrences"]
    assert (occurrence["seq"], occurrence["source_id"], occurrence["raised_from"]) == (
        1,
        "edr-9",
        "high",
    )
    assert occurrence["new_observables"] == [{"type": "hash_sha256", "value": "ab" * 32}]

    text = cli("alerts", "show", alert_id)
    assert text.returncode == 0, text.stderr
    assert "severity:    high (peak critical)" in text.stdout
    assert "repeats:     1" in text.stdout
    assert "latest repeats (1 of 1, newest first):" in text.stdout
    assert "critical (up from high)" in text.stdout
    missing = cli("alerts", "show", "no-such-alert")
    assert missing.returncode == 2
    assert "alert no-such-alert not found" in missing.stderr


def test_the_fingerprint_recipe_is_shown_set_refused_and_reset(cli: Cli) -> None:
    workspace = cli.json("workspace", "create", "--name", "SOC")["id"]
    shown = cli("workspace", "fingerprint", "--workspace", "SOC")
    assert shown.returncode == 0, shown.stderr
    assert "fingerprint recipe (the default):" in shown.stdout
    assert "parts:            module, source, title, observables" in shown.stdout

    for args, message in (
        (("--parts", "title,colour"), "--parts: unknown 'colour' (known: module, source, title"),
        (("--parts", " , "), "--parts: give at least one of module"),
        (("--parts", "title,title"), "--parts: name each one once"),
        (("--observable-types", "dns"), "--observable-types: unknown 'dns'"),
        (("--reset", "--parts", "title"), "--reset: give it alone"),
    ):
        refused = cli("workspace", "fingerprint", "--workspace", workspace, *args)
        assert refused.returncode == 2, (args, refused.stdout)
        assert message in " ".join(refused.stderr.split()), refused.stderr

    changed = cli.json(
        "workspace", "fingerprint", "--workspace", workspace,
        "--parts", "title,observables", "--observable-types", "domain,hash_sha256",
    )  # fmt: skip
    assert changed == {
        "parts": ["title", "observables"],
        "observable_types": ["domain", "hash_sha256"],
        "default": False,
        "changed": True,
    }
    # Only the types: the parts stay.
    types_only = cli.json(
        "workspace", "fingerprint", "--workspace", workspace, "--observable-types", "url"
    )
    assert (types_only["parts"], types_only["observable_types"]) == (
        ["title", "observables"],
        ["url"],
    )
    same = cli.json(
        "workspace", "fingerprint", "--workspace", workspace, "--observable-types", "url"
    )
    assert same["changed"] is False
    reset = cli("workspace", "fingerprint", "--workspace", workspace, "--reset")
    assert "fingerprint recipe (the default):" in reset.stdout
    assert "Changed: it applies from the next ingest on" in reset.stdout
