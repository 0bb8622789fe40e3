"""The rendered ticket as a whole, checked against the analyst's rubric (issue 12, part 6).

One alert with every kind of context goes through ingest, the outbox and the worker to the Jira
sandbox over HTTP; the issue Jira stored is read back and judged as an analyst would read it:
decision-relevant facts first, then the context, each item where the rubric expects it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from delivery_harness import Pipeline

from sentineliq.services.ingest import ingest_text

# Shared with the browser test that photographs the same ticket (tests/e2e/test_rubric_browser.py).
ALERT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "rubric-alert.json").read_text()
)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for child in node.get("content", []):
            yield from _walk(child)


def _texts(node: Any) -> list[str]:
    return [n["text"] for n in _walk(node) if n.get("type") == "text"]


def _links(node: Any) -> list[str]:
    return [
        mark["attrs"]["href"]
        for n in _walk(node)
        for mark in n.get("marks", [])
        if mark["type"] == "link"
    ]


def _section(description: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The blocks under the level-2 heading `title`, up to the next level-2 heading."""
    blocks: list[dict[str, Any]] = []
    inside = False
    for block in description["content"]:
        if block["type"] == "heading" and block["attrs"]["level"] == 2:
            inside = _texts(block) == [title]
            continue
        if inside:
            blocks.append(block)
    assert blocks, f"no section {title!r}"
    return blocks


def test_the_ticket_meets_the_analysts_rubric(pipeline: Pipeline) -> None:
    report = ingest_text(pipeline.app, pipeline.workspace_id, json.dumps(ALERT), actor="t")
    assert report.accepted == 1
    stats = pipeline.worker().run(until_idle=True, poll_interval=0.1)
    assert stats.dead == 0
    [issue] = pipeline.sandbox.issues()
    fields = issue["fields"]
    description = fields["description"]
    text = " ".join(_texts(description))

    # Severity and priority: the Jira priority, and the first things the description says.
    assert fields["priority"]["name"] == "Highest"
    assert description["content"][0]["type"] == "panel"
    assert "Critical severity" in _texts(description["content"][0])
    facts = description["content"][1]
    assert facts["type"] == "table"
    rows = {
        _texts(row["content"][0])[0]: " ".join(_texts(row["content"][1]))
        for row in facts["content"]
    }
    assert rows["Severity"] == "Critical"
    # Source and time.
    assert rows["Source"] == "Secure Web Gateway"
    assert rows["Detected at"] == "2026-11-30T07:45:00Z"

    # Decision-relevant first: what happened and what is hit, then the context.
    headings = [
        _texts(block)[0]
        for block in description["content"]
        if block["type"] == "heading" and block["attrs"]["level"] == 2
    ]
    assert headings == [
        "Alert",
        "Affected assets",
        "MITRE ATT&CK",
        "Observables",
        "Evidence",
        "Link to alert",
    ]

    # The alert text.
    assert fields["summary"] == ALERT["title"]
    alert_text = " ".join(_texts(_section(description, "Alert")))
    assert "Proxy logs show 4 finance users" in alert_text
    assert "logged in to the VPN from a new country" in alert_text

    # Affected assets.
    assert _texts(_section(description, "Affected assets")) == ["FIN-LT-0142", "vpn-gw-01"]

    # ATT&CK tactic and technique, each with its link.
    attack = _section(description, "MITRE ATT&CK")
    attack_text = " ".join(_texts(attack))
    assert "T1566.002" in attack_text
    assert "Spearphishing Link" in attack_text
    assert "TA0001" in attack_text
    assert "Initial Access" in attack_text
    assert "https://attack.mitre.org/techniques/T1566/002/" in _links(attack)
    assert "https://attack.mitre.org/tactics/TA0001/" in _links(attack)

    # Observables with their TLP; indicators are code, never links.
    observables = _section(description, "Observables")
    observable_text = _texts(observables)
    for tlp in ("TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"):
        assert tlp in observable_text
    assert _links(observables) == []
    assert "login-sentineliq" not in " ".join(_links(description))
    assert "203.0.113.77" not in " ".join(_links(description))
    # Defanged indicators: no live address anywhere in the section.
    assert "hxxps://login-sentineliq[.]example/auth" in observable_text
    assert "203[.]0[.]113[.]77" in observable_text
    assert "ab" * 32 in observable_text  # a hash is no address: as it was
    assert "login-sentineliq.example" not in " ".join(observable_text)

    # Evidence hashes, and custody.
    evidence_text = " ".join(_texts(_section(description, "Evidence")))
    assert "5d41402abc4b2a76b9719d911017c592" in evidence_text
    assert "cd" * 32 in evidence_text
    assert "analyst-kim" in evidence_text
    assert "swg-export" in evidence_text
    # Custody with its integrity status, checked when the ticket was rendered.
    assert "Chain of custody verified at" in evidence_text

    # The link back, at the end (and in the facts, so truncation cannot take it).
    assert _links(_section(description, "Link to alert")) == [ALERT["link"]]
    assert rows["Alert link"] == ALERT["link"]
    assert text.count(ALERT["link"]) == 2
