"""Sample data for storage tests (a module with a unique name: tests dirs are not packages)."""

from __future__ import annotations

import json
from typing import Any

from sentineliq.alerts.model import Alert

TOKEN = "ATATT3xFfGF0-very-secret-api-token-7c1d"


def alert_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Suspicious PowerShell download cradle on FIN-WS-042",
        "description": "Encoded command fetched a second stage from a new domain.",
        "severity": "high",
        "source": "aegis-edr",
        "category": "execution",
        "detected_at": "2026-11-27T09:15:00+02:00",
        "threat_score": 87,
        "affected_assets": ["FIN-WS-042", "jdoe"],
        "tags": ["powershell", "initial-access"],
        "external_id": "EDR-1001",
        "link": "https://console.example.test/alerts/EDR-1001",
        "assignee_email": "soc.lead@example.com",
        "due_date": "2026-11-30",
        "observables": [
            {"type": "ip", "value": "203.0.113.7", "tlp": "amber"},
            {"type": "domain", "value": "cdn-update.example.net", "tlp": "white"},
            {"type": "hash_sha256", "value": "a" * 64},
        ],
        "mitre": ["T1059.001", "t1105", "TA0002"],
        "evidence": [
            {
                "name": "stage2.ps1",
                "type": "file",
                "size_bytes": 2048,
                "hashes": {"md5": "b" * 32, "sha256": "c" * 64},
                "location": "s3://evidence/EDR-1001/stage2.ps1",
                "collected_at": "2026-11-27T09:20:00Z",
                "collected_by": "edr-agent",
                "custody": [
                    {"action": "collected", "actor": "edr-agent", "at": "2026-11-27T09:20:00Z"},
                    {
                        "action": "transferred",
                        "actor": "ir-bot",
                        "at": "2026-11-27T11:21:05.250000+01:00",
                        "location": "evidence vault",
                        "notes": "sealed bag #4411",
                    },
                    {"action": "analyzed", "actor": "analyst j.doe", "at": "2026-11-27T12:00:00Z"},
                ],
            },
            {"name": "netflow.pcap", "type": "network"},
        ],
    }
    data.update(overrides)
    return data


def make_alert(**overrides: Any) -> Alert:
    return Alert.model_validate_json(json.dumps(alert_data(**overrides)))


def jira_config(token: str = TOKEN) -> dict[str, Any]:
    return {
        "base_url": "https://acme.atlassian.net",
        "email": "bot@acme.example",
        "api_token": token,
        "project_key": "SEC",
        "issue_type": "Task",
    }
