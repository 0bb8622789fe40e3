"""The alert: what sources send us, validated strictly."""

from sentineliq.alerts.model import (
    Alert,
    CustodyAction,
    CustodyEntry,
    Evidence,
    EvidenceHashes,
    EvidenceType,
    Module,
    Observable,
    ObservableType,
    Severity,
    Tlp,
)

__all__ = [
    "Alert",
    "CustodyAction",
    "CustodyEntry",
    "Evidence",
    "EvidenceHashes",
    "EvidenceType",
    "Module",
    "Observable",
    "ObservableType",
    "Severity",
    "Tlp",
]
