"""The issue bodies the peer clients send: exactly what the product filed for the demo samples.

The product files the ten sample alerts once into an in-process sandbox; the fields it set (our
ADF description, labels, priority, custom fields, assignee) are read back and become templates,
so every peer sends the same body as the product, not a lighter one. Our per-alert id label
(`siq-...`) is replaced by a per-issue one of the same shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchconfig import unthrottled_bench
from pipeline import batch

from sentineliq.delivery.worker import Worker
from sentineliq.services.ingest import ingest_text

# Fields the product sets on create; the sandbox answers every other field too (status, ...).
SENT_FIELDS = ("summary", "description", "labels", "customfield_10050", "customfield_10051")


def capture_templates() -> list[dict[str, Any]]:
    """The create fields of the ten demo samples as the product sends them (ids, not names)."""
    with unthrottled_bench() as bench:
        ingest_text(bench.app, bench.workspace_id, batch(10), actor="bench")
        Worker(bench.app, batch_size=50).run(until_idle=True)
        issues = bench.sandbox.issues()
    templates = []
    for issue in issues:
        fields = issue["fields"]
        template = {name: fields[name] for name in SENT_FIELDS if fields.get(name) is not None}
        template["project"] = {k: fields["project"][k] for k in ("id", "key")}
        template["issuetype"] = {k: fields["issuetype"][k] for k in ("id", "name")}
        template["priority"] = {k: fields["priority"][k] for k in ("id", "name")}
        if fields.get("assignee"):
            template["assignee"] = {"accountId": fields["assignee"]["accountId"]}
        if fields.get("duedate"):
            template["duedate"] = fields["duedate"]
        templates.append(template)
    if len(templates) != 10:
        raise RuntimeError(f"expected 10 sample issues, the product filed {len(templates)}")
    return templates


def save_templates(path: Path) -> None:
    path.write_text(json.dumps(capture_templates()))


def load_templates(path: Path) -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = json.loads(path.read_text())
    return templates


def fields_for(templates: list[dict[str, Any]], number: int, *, names: bool) -> dict[str, Any]:
    """Issue `number`'s fields: by names (`{"key": "SEC"}`, `{"name": "Task"}`) as the
    libraries' docs show them, or by ids as the product and a tuned caller send them."""
    template = templates[number % len(templates)]
    fields = {k: v for k, v in template.items() if k not in ("project", "issuetype", "priority")}
    fields["labels"] = [
        f"siq-peer{number:019d}" if label.startswith("siq-") else label
        for label in template.get("labels", [])
    ]
    if names:
        fields["project"] = {"key": template["project"]["key"]}
        fields["issuetype"] = {"name": template["issuetype"]["name"]}
        fields["priority"] = {"name": template["priority"]["name"]}
    else:
        fields["project"] = {"id": template["project"]["id"]}
        fields["issuetype"] = {"id": template["issuetype"]["id"]}
        fields["priority"] = {"id": template["priority"]["id"]}
    return fields
