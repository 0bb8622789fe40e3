"""An ATT&CK STIX bundle -> catalog, on a real excerpt of Enterprise ATT&CK (data/SOURCES.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sentineliq.mitre.catalog import AttackCatalog
from sentineliq.mitre.stix import StixBundleError, catalog_from_stix

EXCERPT = Path(__file__).parent / "data" / "enterprise-attack-excerpt.json"


def bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXCERPT.read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def catalog() -> AttackCatalog:
    return catalog_from_stix(EXCERPT.read_bytes())


def test_the_release_is_the_collections_version(catalog: AttackCatalog) -> None:
    assert (catalog.version, catalog.release) == ("11.0", "v11")
    assert sorted(t.id for t in catalog.tactics) == [
        "TA0001",
        "TA0002",
        "TA0003",
        "TA0004",
        "TA0005",
    ]


def test_every_tactic_of_a_technique_is_kept_in_the_bundles_order(catalog: AttackCatalog) -> None:
    valid_accounts = catalog.resolve("T1078")
    assert valid_accounts.name == "Valid Accounts"
    assert [t.name for t in valid_accounts.tactics] == [
        "Defense Evasion",
        "Persistence",
        "Privilege Escalation",
        "Initial Access",
    ]


def test_a_sub_technique_listed_before_its_parent_is_linked_to_it(catalog: AttackCatalog) -> None:
    order = [o.get("name") for o in bundle()["objects"] if o["type"] == "attack-pattern"]
    assert order.index("Default Accounts") < order.index("Valid Accounts")  # the case under test
    default_accounts = catalog.technique("T1078.001")
    assert default_accounts is not None
    assert (default_accounts.name, default_accounts.parent_id) == ("Default Accounts", "T1078")
    assert default_accounts.url == "https://attack.mitre.org/techniques/T1078/001/"
    assert len(default_accounts.tactics) == 4


def test_a_sub_technique_without_its_parent_in_the_bundle_still_loads() -> None:
    data = bundle()
    data["objects"] = [o for o in data["objects"] if o.get("name") != "Valid Accounts"]
    catalog = catalog_from_stix(data)
    assert catalog.technique("T1078") is None
    found = catalog.technique("T1078.001")
    assert found is not None
    assert found.parent_id == "T1078"


def test_a_revoked_technique_points_to_its_replacement(catalog: AttackCatalog) -> None:
    assert catalog.technique("T1086") is None  # not offered as current
    resolved = catalog.resolve("T1086")
    assert (resolved.revoked, resolved.known, resolved.revoked_by) == (True, False, "T1059.001")
    assert resolved.name == "PowerShell"
    assert [t.id for t in resolved.tactics] == ["TA0002"]  # the replacement's
    assert resolved.note == "Revoked in ATT&CK v11; see T1059.001 “PowerShell”."


def test_revoked_by_is_followed_to_the_end_of_the_chain() -> None:
    # CONSTRUCTED from the real objects: T1059.001 revoked in turn by T1078 (not a real revocation),
    # to see T1086 -> T1059.001 -> T1078 resolve to the last one.
    data = bundle()
    objects = data["objects"]
    powershell = next(
        o for o in objects if o["id"].endswith("970a3432-3237-47ad-bcca-7d8cbb217736")
    )
    powershell["revoked"] = True
    chained = copy.deepcopy(next(o for o in objects if o.get("relationship_type") == "revoked-by"))
    chained["id"] = "relationship--0f5a8d2c-7b1e-4c3a-9e6d-5a4b3c2d1e0f"
    chained["source_ref"] = powershell["id"]
    chained["target_ref"] = "attack-pattern--b17a1a56-e99c-403c-8948-561df0cffe81"
    objects.insert(1, chained)
    catalog = catalog_from_stix(data)
    assert catalog.resolve("T1086").revoked_by == "T1078"
    assert catalog.resolve("T1059.001").revoked_by == "T1078"


def test_a_revocation_loop_or_dangling_target_gives_no_replacement() -> None:
    data = bundle()
    relation = next(o for o in data["objects"] if o.get("relationship_type") == "revoked-by")
    relation["target_ref"] = "attack-pattern--00000000-0000-4000-8000-000000000000"  # constructed
    resolved = catalog_from_stix(data).resolve("T1086")
    assert (resolved.revoked, resolved.revoked_by) == (True, None)
    assert resolved.note == "Revoked in ATT&CK v11."

    # CONSTRUCTED loop: T1086 -> T1059.001 -> T1086, both revoked.
    data = bundle()
    objects = data["objects"]
    relation = next(o for o in objects if o.get("relationship_type") == "revoked-by")
    powershell = next(o for o in objects if o["id"] == relation["target_ref"])
    powershell["revoked"] = True
    back = {**relation, "id": "relationship--6e1d2c3b-4a59-4f8e-9d7c-1b2a3c4d5e6f"}
    back["source_ref"], back["target_ref"] = relation["target_ref"], relation["source_ref"]
    objects.append(back)
    looped = catalog_from_stix(data)
    assert looped.resolve("T1086").revoked_by is None
    assert looped.resolve("T1059.001").revoked_by is None


def test_deprecated_techniques_stay_flagged(catalog: AttackCatalog) -> None:
    scripting = catalog.resolve("T1064")
    assert (scripting.known, scripting.deprecated, scripting.name) == (True, True, "Scripting")
    assert [t.id for t in scripting.tactics] == ["TA0005", "TA0002"]
    assert not catalog.resolve("T1078").deprecated


def test_unknown_ids_are_named_with_the_synced_release(catalog: AttackCatalog) -> None:
    resolved = catalog.resolve("T1566.002")
    assert (resolved.known, resolved.name) == (False, None)
    assert resolved.note == "Not in the ATT&CK v11 catalog."


def test_the_catalog_survives_storage_as_plain_json(catalog: AttackCatalog) -> None:
    stored = json.loads(json.dumps(catalog.to_json()))
    again = AttackCatalog.from_json(stored)
    assert again.to_json() == catalog.to_json()
    assert again.resolve("T1086") == catalog.resolve("T1086")
    assert again.resolve("T1064") == catalog.resolve("T1064")
    assert again.resolve("T1078") == catalog.resolve("T1078")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>rate limited</html>", "bundle: not JSON"),
        (b'{"type": "indicator"}', 'bundle: the top level must be an object with "type": "bundle"'),
        (b"[1, 2]", "the top level must be an object"),
        (
            b'{"type": "bundle", "id": "nope", "objects": []}',
            "bundle: not valid STIX",
        ),
    ],
)
def test_what_is_not_an_attack_bundle_is_refused_saying_why(data: bytes, message: str) -> None:
    with pytest.raises(StixBundleError, match=message.replace("(", r"\(")):
        catalog_from_stix(data)


def test_a_bundle_without_its_release_is_refused() -> None:
    data = bundle()
    data["objects"] = [o for o in data["objects"] if o["type"] != "x-mitre-collection"]
    with pytest.raises(StixBundleError, match="expected one x-mitre-collection with x_mitre_"):
        catalog_from_stix(data)


def test_the_stix_2_1_form_of_the_default_source_reads_the_same() -> None:
    # CONSTRUCTED conversion of the real excerpt to the form of mitre-attack/attack-stix-data (the
    # default URL): STIX 2.1, `spec_version` on every object and none on the bundle.
    data = bundle()
    del data["spec_version"]
    for obj in data["objects"]:
        obj["spec_version"] = "2.1"
    assert catalog_from_stix(data).to_json() == catalog_from_stix(bundle()).to_json()
