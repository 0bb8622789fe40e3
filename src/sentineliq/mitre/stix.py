"""An ATT&CK STIX bundle -> AttackCatalog.

The STIX side (bundle and object validation, STIX 2.0 and 2.1, queries by property) is the `stix2`
library's, MITRE's own reference implementation; this module only maps ATT&CK's conventions onto
the catalog:

- a technique is an `attack-pattern` whose `mitre-attack` external reference carries its id;
- its tactics are all its `mitre-attack` kill-chain phases, by the tactics' `x_mitre_shortname`;
- a revoked object (`revoked: true`) is followed along `revoked-by` relationships to the technique
  that replaces it, whatever the order of objects in the bundle;
- `x_mitre_deprecated` objects stay in the catalog, flagged;
- a sub-technique's parent comes from its id, so it may come before its parent or without it;
- the release is the `x-mitre-collection`'s `x_mitre_version`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stix2
from stix2.exceptions import STIXError

from sentineliq.errors import InputError
from sentineliq.mitre.catalog import AttackCatalog, Revoked, Tactic, attack_url, technique

_SOURCE = "mitre-attack"


class StixBundleError(InputError, ValueError):
    """The data is not an ATT&CK STIX bundle we can read; the message says what is wrong."""


def catalog_from_stix(data: str | bytes | Mapping[str, Any]) -> AttackCatalog:
    """Build the catalog from an ATT&CK bundle's JSON (text, bytes or parsed)."""
    try:
        raw = json.loads(data) if isinstance(data, str | bytes) else dict(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StixBundleError(f"bundle: not JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        raise StixBundleError('bundle: the top level must be an object with "type": "bundle"')
    try:
        bundle = stix2.parse(raw, allow_custom=True)
    except (STIXError, ValueError, KeyError, TypeError) as exc:
        raise StixBundleError(f"bundle: not valid STIX ({exc})") from None
    store = stix2.MemoryStore(stix_data=list(bundle.get("objects", [])), allow_custom=True)
    return _catalog(store)


def _query(store: stix2.MemoryStore, *filters: tuple[str, str, Any]) -> list[Any]:
    return list(store.query([stix2.Filter(*f) for f in filters]))


def _attack_id(obj: Any) -> str | None:
    for ref in obj.get("external_references", ()):
        if ref.get("source_name") == _SOURCE and ref.get("external_id"):
            return str(ref["external_id"]).strip().upper()
    return None


def _version(store: stix2.MemoryStore) -> str:
    versions = {
        str(c["x_mitre_version"])
        for c in _query(store, ("type", "=", "x-mitre-collection"))
        if c.get("x_mitre_version")
    }
    if len(versions) != 1:
        found = ", ".join(sorted(versions)) or "none"
        raise StixBundleError(
            f"bundle: expected one x-mitre-collection with x_mitre_version, found {found}"
        )
    return versions.pop()


def _catalog(store: stix2.MemoryStore) -> AttackCatalog:
    version = _version(store)
    tactics: dict[str, Tactic] = {}  # by shortname
    for obj in _query(store, ("type", "=", "x-mitre-tactic")):
        tactic_id, shortname = _attack_id(obj), obj.get("x_mitre_shortname")
        if tactic_id and shortname and not obj.get("revoked", False):
            tactics[shortname] = Tactic(tactic_id, str(obj["name"]), attack_url(tactic_id))

    patterns = {obj["id"]: obj for obj in _query(store, ("type", "=", "attack-pattern"))}
    techniques = []
    revoked_objects = []
    for obj in patterns.values():
        attack_id = _attack_id(obj)
        if attack_id is None:
            continue  # not an ATT&CK technique (another framework's pattern in the bundle)
        if obj.get("revoked", False):
            revoked_objects.append((attack_id, obj))
            continue
        phases = [
            p["phase_name"]
            for p in obj.get("kill_chain_phases", ())
            if p.get("kill_chain_name") == _SOURCE and p["phase_name"] in tactics
        ]
        techniques.append(
            technique(
                attack_id,
                str(obj["name"]),
                tuple(tactics[name] for name in dict.fromkeys(phases)),
                deprecated=bool(obj.get("x_mitre_deprecated", False)),
            )
        )

    revoked_by = {
        rel["source_ref"]: rel["target_ref"]
        for rel in _query(
            store, ("type", "=", "relationship"), ("relationship_type", "=", "revoked-by")
        )
    }
    revoked = [
        Revoked(attack_id, str(obj["name"]), _follow(obj["id"], revoked_by, patterns))
        for attack_id, obj in revoked_objects
    ]
    return AttackCatalog(
        version=version, tactics=tactics.values(), techniques=techniques, revoked=revoked
    )


def _follow(stix_id: str, revoked_by: Mapping[str, str], patterns: Mapping[str, Any]) -> str | None:
    """The ATT&CK id at the end of a revoked-by chain (A -> B -> C gives C); None when the chain
    breaks off or loops."""
    seen = {stix_id}
    current = revoked_by.get(stix_id)
    while current is not None and current not in seen:
        seen.add(current)
        obj = patterns.get(current)
        if obj is None:
            return None
        if not obj.get("revoked", False):
            return _attack_id(obj)
        current = revoked_by.get(current)
    return None
