"""The alert: what sources send us, validated strictly."""

from sentineliq.alerts.model import (
    Alert,
    BrandProtection,
    CustodyAction,
    CustodyEntry,
    DetectionType,
    Evidence,
    EvidenceHashes,
    EvidenceType,
    InfringementType,
    Module,
    Observable,
    ObservableType,
    Severity,
    Tlp,
)

__all__ = [
    "Alert",
    "BrandProtection",
    "CustodyAction",
    "CustodyEntry",
    "DetectionType",
    "Evidence",
    "EvidenceHashes",
    "EvidenceType",
    "InfringementType",
    "Module",
    "Observable",
    "ObservableType",
    "Severity",
    "Tlp",
]
