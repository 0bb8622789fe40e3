"""MITRE ATT&CK: names, tactics and links for the ids alerts carry."""

from sentineliq.mitre.catalog import (
    AttackCatalog,
    Resolved,
    Tactic,
    Technique,
    attack_url,
    default_catalog,
)

__all__ = ["AttackCatalog", "Resolved", "Tactic", "Technique", "attack_url", "default_catalog"]
