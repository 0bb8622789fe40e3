"""ATT&CK in the ticket with a synced catalog (the real Enterprise excerpt, tests/mitre/data): ids
the alert sent are kept and flagged when revoked, deprecated or unknown, the ADF stays valid, and
ids become labels with the workspace's prefix."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from test_layout import alert, section, table_rows

from sentineliq.document.adf import render_adf
from sentineliq.document.schema import adf_schema
from sentineliq.mitre.stix import catalog_from_stix
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import AttackLabels, TicketContent, content_from_config
from sentineliq.tickets.layout import build_description

EXCERPT = Path(__file__).parents[1] / "mitre" / "data" / "enterprise-attack-excerpt.json"
CATALOG = catalog_from_stix(EXCERPT.read_bytes())
IDS = ["T1078", "T1086", "T1064", "T1566.002", "T1078.001"]


def _adf_texts(node: Any) -> str:
    if isinstance(node, dict):
        own = node.get("text", "") if node.get("type") == "text" else ""
        return own + "".join(_adf_texts(child) for child in node.get("content", []))
    return ""


def test_revoked_deprecated_and_unknown_ids_are_kept_and_flagged() -> None:
    doc = build_description(alert(mitre=IDS), workspace_name="w", catalog=CATALOG)
    rows = table_rows(section(doc, "MITRE ATT&CK")[0])
    assert rows[1] == [
        "T1078",
        "Valid Accounts",
        "Defense Evasion (TA0005), Persistence (TA0003), Privilege Escalation (TA0004), "
        "Initial Access (TA0001)",
    ]
    assert rows[2] == ["T1086", "PowerShell (revoked; see T1059.001)", "Execution (TA0002)"]
    assert rows[3] == [
        "T1064",
        "Scripting (deprecated in ATT&CK v11)",
        "Defense Evasion (TA0005), Execution (TA0002)",
    ]
    assert rows[4] == ["T1566.002", "unknown to ATT&CK v11", "—"]
    assert rows[5][:2] == ["T1078.001", "Default Accounts"]


def test_the_flags_render_as_valid_adf_with_links_to_the_replacement() -> None:
    adf = render_adf(build_description(alert(mitre=IDS), workspace_name="w", catalog=CATALOG))
    jsonschema.Draft4Validator(adf_schema()).validate(adf)
    text = _adf_texts(adf)
    assert "PowerShell (revoked; see T1059.001)" in text
    assert "unknown to ATT&CK v11" in text
    links = {
        node["text"]: mark["attrs"]["href"]
        for node in _walk(adf)
        if node.get("type") == "text"
        for mark in node.get("marks", [])
        if mark["type"] == "link"
    }
    assert links["T1059.001"] == "https://attack.mitre.org/techniques/T1059/001/"
    assert links["T1086"] == "https://attack.mitre.org/techniques/T1086/"  # the id as sent


def _walk(node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    return [node, *(n for child in node.get("content", []) for n in _walk(child))]


def test_the_embedded_catalog_says_unknown_to_v19() -> None:
    rows = table_rows(
        section(build_description(alert(mitre=["T9999"]), workspace_name="w"), "MITRE ATT&CK")[0]
    )
    assert rows[1] == ["T9999", "unknown to ATT&CK v19", "—"]


def test_attack_ids_become_labels_with_the_workspaces_prefix() -> None:
    source = alert(mitre=["T1566.002", "TA0001"], tags=["phishing"])
    default = build_draft(source, workspace_name="w", catalog=CATALOG)
    assert default.labels[-2:] == ("attack-T1566.002", "attack-TA0001")
    custom = TicketContent(attack=AttackLabels(label_prefix="mitre:"))
    labelled = build_draft(source, workspace_name="w", catalog=CATALOG, content=custom)
    assert labelled.labels[-2:] == ("mitre:T1566.002", "mitre:TA0001")
    bare = build_draft(
        source, workspace_name="w", content=TicketContent(attack=AttackLabels(label_prefix=""))
    )
    assert bare.labels[-2:] == ("T1566.002", "TA0001")


def test_a_prefix_jira_cannot_take_is_refused_naming_the_field() -> None:
    config = {
        "base_url": "https://acme.atlassian.net",
        "email": "bot@acme.test",
        "api_token": "token",
        "project_key": "SEC",
        "content": {"attack": {"label_prefix": "att ck "}},
    }
    with pytest.raises(ValidationError) as refused:
        JiraConfig.parse(config)
    assert refused.value.errors()[0]["loc"] == ("content", "attack", "label_prefix")
    assert json.dumps(refused.value.errors()[0]["loc"])  # plain values, fit for an API answer


def test_content_is_read_from_a_stored_config_as_storage_returns_it() -> None:
    # The provider repository hands configs back as read-only mappings, not dicts.
    stored = MappingProxyType({"content": MappingProxyType({"attack": {"label_prefix": "mitre-"}})})
    assert content_from_config(stored).attack.label_prefix == "mitre-"
    assert content_from_config({"content": {"attack": {"label_prefix": "a b"}}}) == TicketContent()
