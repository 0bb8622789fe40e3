"""OCSF findings (Open Cybersecurity Schema Framework 1.x): Detection Finding (2004), Security
Finding (2001) and Vulnerability Finding (2002), one finding or a JSON array of them per POST, or
the EventBridge event AWS Security Hub sends (`detail.findings`).

Read through py-ocsf-models (Prowler's maintained pydantic v2 models of the schema), leniently:
only the attributes we map are validated through its models, one object at a time, and an
attribute the library refuses is left out with a warning naming it, never failing the finding
(the library is stricter than OCSF in places: it requires `technique.name` and knows observable
type ids up to 30 only). The finding itself is kept verbatim as the alert's source payload.

Identity is the finding's: `finding_info.uid` (OCSF 1.0's `finding.uid`) is the source id, and
with the product's name the fingerprint. The detection time is when the finding was created
(`finding_info.created_time`, else `first_seen_time`, else the event's `time`), so the same
finding re-sent on each update is a duplicate, not a repeat. A finding the source calls
Suppressed (3) or Resolved (4) resolves the alert: OCSF 1.1+'s `status_id`, OCSF 1.0's
`state_id` for Security Finding. Schema: https://schema.ocsf.io/1.1.0/classes/detection_finding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.mitre_attack import SubTechnique, Tactic, Technique
from py_ocsf_models.objects.observable import Observable, TypeID
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.resource_details import ResourceDetails
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sentineliq.alerts.model import HASH_OBSERVABLE_LENGTH, Module, ObservableType, Severity
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.alerts.parse import RecordError
from sentineliq.inputs.base import InputAdapter, InputError, InputResult, Json

SOURCE = "OCSF"  # without metadata.product
FINGERPRINT_PREFIX = "ocsf:"
MAX_FINGERPRINT = 200  # the alert model's
CLASSES: dict[int, str] = {
    2001: "Security Finding",
    2002: "Vulnerability Finding",
    2004: "Detection Finding",
}

# OCSF severity_id to ours. 0 Unknown and 99 Other (without a `severity` caption of ours) take
# the workspace's default severity, with a warning.
SEVERITIES: dict[int, Severity] = {
    SeverityID.Informational: Severity.INFO,
    SeverityID.Low: Severity.LOW,
    SeverityID.Medium: Severity.MEDIUM,
    SeverityID.High: Severity.HIGH,
    SeverityID.Critical: Severity.CRITICAL,
    SeverityID.Fatal: Severity.CRITICAL,
}
CAPTIONS: dict[str, Severity] = {
    "informational": Severity.INFO,
    "info": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
}
# The finding's status at its source that means it needs nothing more from anyone.
CLOSED_STATUS = frozenset({StatusID.Suppressed, StatusID.Resolved})
CLOSED_CAPTIONS = frozenset({"suppressed", "resolved", "closed"})

# OCSF observable type_id (1.x) to ours; absent ids are `other`. 8 (Hash) and 30 (Fingerprint)
# become the hash type their length says.
OBSERVABLE_TYPES: dict[int, ObservableType] = {
    1: ObservableType.DOMAIN,  # Hostname
    2: ObservableType.IP,  # IP Address
    5: ObservableType.EMAIL,  # Email Address
    6: ObservableType.URL,  # URL String
    7: ObservableType.FILE,  # File Name
    16: ObservableType.USER_AGENT,  # HTTP User-Agent
    23: ObservableType.URL,  # URL (object)
    24: ObservableType.FILE,  # File (object)
    28: ObservableType.REGISTRY,  # Registry Key
    29: ObservableType.REGISTRY,  # Registry Value
}
LIBRARY_TYPE_IDS = frozenset(int(member) for member in TypeID)
HASH_TYPES = {length: kind for kind, length in HASH_OBSERVABLE_LENGTH.items()}
# OCSF fingerprint algorithm_id to our evidence hash name.
HASH_ALGORITHMS = {1: "md5", 2: "sha1", 3: "sha256"}
# Timestamps are epoch milliseconds; senders that write micro- or nanoseconds are read as such.
_MAX_MS = 10**14  # the year 5138
_MIN_MS = 10**11  # 1973-03-03: a smaller number is seconds
MAX_ATTACK_IDS = 100  # the alert model's
CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
MAX_ASSETS = 1000
MAX_OBSERVABLES = 1000
MAX_EVIDENCE = 100


class OcsfSettings(BaseModel):
    """A workspace's reading of OCSF findings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_severity: Severity = Field(
        default=Severity.MEDIUM,
        description="For a finding whose severity_id is absent, 0 (Unknown) or 99 (Other).",
    )
    module: Module = Field(default=Module.AEGIS, description="The module the alerts belong to.")


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _objects(value: object) -> Iterator[tuple[int, Json]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


class _Reader:
    """One finding's attributes through the library's models, leniently, with what was left."""

    def __init__(self) -> None:
        self.warnings: list[IngestWarning] = []

    def model(self, model: type[BaseModel], value: Json, fields: tuple[str, ...], path: str) -> Any:
        """`model` over `fields` of `value`; an attribute it refuses is left out with a warning.
        None when what it requires is missing or refused."""
        data = {key: value[key] for key in fields if key in value and value[key] is not None}
        while True:
            try:
                return model.model_validate(data)
            except ValidationError as exc:
                bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
                required = {k for k in bad if model.model_fields[k].is_required()}
                if required or not bad & data.keys():
                    return None
                for key in sorted(bad & data.keys()):
                    problem = next(e["msg"] for e in exc.errors() if e["loc"][:1] == (key,))
                    self.warnings.append(IngestWarning(f"{path}.{key}", f"ignored: {problem}"))
                    del data[key]

    def time(self, value: object, path: str) -> str | None:
        number = _int(value)
        if number is None or number <= 0:
            return None
        divisor = 1 if number < _MIN_MS else 1000
        while number // divisor * 1000 >= _MAX_MS and divisor < 10**9:
            divisor *= 1000
        if divisor != 1000:
            unit = {1: "seconds", 10**6: "microseconds"}.get(divisor, "nanoseconds")
            self.warnings.append(IngestWarning(path, f"read as {unit} (OCSF says milliseconds)"))
        try:
            return datetime.fromtimestamp(number / divisor, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None


def _findings(payload: object) -> list[object]:
    if isinstance(payload, list):
        if not payload:
            raise InputError("", "an empty list: send one OCSF finding or a list of them")
        return payload
    if not isinstance(payload, dict):
        raise InputError("", "must be a JSON object or array: OCSF findings")
    detail = payload.get("detail")
    if "class_uid" not in payload and isinstance(detail, dict) and "findings" in detail:
        # An EventBridge event from AWS Security Hub ("Findings Imported V2").
        found = detail["findings"]
        if not isinstance(found, list) or not found:
            raise InputError("detail.findings", "is required: a non-empty list of OCSF findings")
        return found
    return [payload]


def _source(product: Any) -> str:
    if product is None:
        return SOURCE
    name, vendor = _text(product.name), _text(product.vendor_name)
    if name and vendor and not name.casefold().startswith(vendor.casefold()):
        return f"{vendor} {name}"
    return name or vendor or SOURCE


def _fingerprint(product: Any, uid: str) -> str:
    scope = (_text(product.uid) or _text(product.name) or "") if product is not None else ""
    readable = f"{FINGERPRINT_PREFIX}{scope}:{uid}" if scope else f"{FINGERPRINT_PREFIX}{uid}"
    if len(readable) <= MAX_FINGERPRINT:
        return readable
    digest = hashlib.sha256(f"{scope}\x1f{uid}".encode()).hexdigest()
    return f"{FINGERPRINT_PREFIX}sha256:{digest}"


def _observable_type(type_id: int, value: str) -> ObservableType:
    if type_id in (TypeID.Hash, TypeID.Fingerprint):
        return HASH_TYPES.get(len(value), ObservableType.OTHER)
    return OBSERVABLE_TYPES.get(type_id, ObservableType.OTHER)


def _lines(heading: str, facts: list[tuple[str, str]]) -> str:
    return heading + "\n" + "\n".join(f"{key}: {value}" for key, value in facts) if facts else ""


class OcsfAdapter(InputAdapter[OcsfSettings]):
    name = "ocsf"
    settings_model = OcsfSettings
    field_sources: ClassVar[Mapping[str, str]] = {
        "title": "finding_info.title",
        "description": "finding_info.desc",
        "detected_at": "finding_info.created_time",
        "link": "finding_info.src_url",
        "external_id": "finding_info.uid",
        "fingerprint": "finding_info.uid",
        "observables": "observables",
        "mitre": "finding_info.attacks",
        "affected_assets": "resources",
        "evidence": "evidences",
        "category": "finding_info.types",
    }

    def adapt(self, payload: object, settings: OcsfSettings) -> InputResult:
        result = InputResult()
        for number, item in enumerate(_findings(payload), start=1):
            if not isinstance(item, dict):
                result.errors.append(RecordError(number, "", "must be a JSON object: a finding"))
                continue
            self._one(result, number, item, settings)
        return result

    def _one(self, result: InputResult, number: int, item: Json, settings: OcsfSettings) -> None:
        class_uid = _int(item.get("class_uid"))
        if class_uid not in CLASSES:
            known = ", ".join(f"{uid} ({name})" for uid, name in sorted(CLASSES.items()))
            problem = f"{item.get('class_uid')!r} is not a finding read here (read: {known})"
            if item.get("class_uid") is None:
                problem = f"is required: the OCSF class ({known})"
            result.errors.append(RecordError(number, "class_uid", problem))
            return
        # OCSF 1.0 names the finding's information `finding`; 1.1 and later `finding_info`.
        key = "finding" if "finding_info" not in item and "finding" in item else "finding_info"
        raw_info = _object(item.get(key))
        if _int(raw_info.get("uid")) is not None:  # a number where OCSF says string: kept
            raw_info = {**raw_info, "uid": str(raw_info["uid"])}
        read = _Reader()
        fields = ("uid", "title", "desc", "src_url", "created_time", "first_seen_time", "types")
        info = read.model(FindingInformation, raw_info, fields, key)
        missing = [
            RecordError(number, f"{key}.{name}", f"is required: {why}")
            for name, why in (("uid", "the finding's identity"), ("title", "its summary"))
            if _text(raw_info.get(name)) is None
        ]
        if missing or info is None:
            refused = RecordError(number, key, "must be an object with uid and title as text")
            result.errors.extend(missing or [refused])
            return
        detected = (
            read.time(info.created_time, f"{key}.created_time")
            or read.time(info.first_seen_time, f"{key}.first_seen_time")
            or read.time(item.get("time"), "time")
            # The datetime profile's strings, read like native detected_at values.
            or _text(raw_info.get("created_time_dt"))
            or _text(item.get("time_dt"))
        )
        if detected is None:
            result.errors.append(
                RecordError(number, "time", "is required: when the finding was made (epoch ms)")
            )
            return
        product = read.model(
            Product,
            _object(_object(item.get("metadata")).get("product")),
            ("name", "vendor_name", "uid"),
            "metadata.product",
        )
        severity, severity_warning = self._severity(item, settings)
        uid, title = info.uid.strip(), info.title.strip()
        source = _source(product)
        src_url = _text(info.src_url)
        link = src_url if src_url and src_url.lower().startswith(("https://", "http://")) else None
        observables = self._observables(read, item)
        facts: list[tuple[str, str]] = [
            ("Class", f"{CLASSES[class_uid]} ({class_uid})"),
            ("Product", source),
            ("Finding", uid),
        ]
        if src_url and link is None:
            facts.append(("Source", src_url))
        status = _text(item.get("status")) or _text(item.get("state"))
        if status:
            facts.append(("Status", status))
        types = [t for t in info.types or [] if _text(t)]
        if types:
            facts.append(("Types", ", ".join(types)))
        parts = [
            _text(info.desc) or _text(item.get("message")) or "",
            _lines("OCSF", facts),
            self._remediation(raw_info, item),
            self._vulnerabilities(item),
        ]
        fields_out: dict[str, Any] = {
            "title": title,
            "description": "\n\n".join(part for part in parts if part),
            "severity": severity.value,
            "source": source,
            "category": types[0] if types else CLASSES[class_uid],
            "detected_at": detected,
            "affected_assets": self._assets(read, item)[:MAX_ASSETS],
            "tags": self._tags(class_uid, item),
            "external_id": uid,
            "fingerprint": _fingerprint(product, uid),
            "link": link,
            "module": settings.module.value,
            "observables": observables[:MAX_OBSERVABLES],
            "mitre": self._attacks(read, raw_info, item)[:MAX_ATTACK_IDS],
            "evidence": self._evidence(item)[:MAX_EVIDENCE],
        }
        warnings = [*read.warnings] + ([severity_warning] if severity_warning else [])
        self.record(
            result,
            number,
            {key: value for key, value in fields_out.items() if value is not None},
            raw=item,
            resolved=self._closed(class_uid, item),
            warnings=tuple(warnings),
        )

    @staticmethod
    def _severity(item: Json, settings: OcsfSettings) -> tuple[Severity, IngestWarning | None]:
        given = item.get("severity_id")
        number = _int(given)
        found = SEVERITIES.get(number) if number is not None else None
        if found is not None:
            return found, None
        caption = _text(item.get("severity"))
        if given == SeverityID.Other and caption and caption.casefold() in CAPTIONS:
            return CAPTIONS[caption.casefold()], None
        shown = "absent" if given is None else f"{given!r}"
        return settings.default_severity, IngestWarning(
            "severity_id",
            f"{shown} names no severity: the workspace's default "
            f"{settings.default_severity.value} was used",
        )

    @staticmethod
    def _closed(class_uid: int, item: Json) -> bool:
        # OCSF 1.0's Security Finding keeps its workflow state in state_id (its status_id is
        # the event's outcome); later versions and the other classes in status_id.
        key = "state_id" if class_uid == 2001 and "state_id" in item else "status_id"
        caption_key = "state" if key == "state_id" else "status"
        given = _int(item.get(key))
        if given in CLOSED_STATUS:
            return True
        caption = _text(item.get(caption_key))
        return (
            given == StatusID.Other
            and caption is not None
            and (caption.casefold() in CLOSED_CAPTIONS)
        )

    @staticmethod
    def _observables(read: _Reader, item: Json) -> list[Json]:
        out: list[Json] = []
        for index, raw in _objects(item.get("observables")):
            type_id = _int(raw.get("type_id"))
            if type_id is None:
                read.warnings.append(
                    IngestWarning(f"observables[{index}].type_id", "absent: observable ignored")
                )
                continue
            # The library's list stops at 30 and lacks 11-19 (Port ... User Credential ID):
            # those are validated as Other and mapped by their own id.
            known = type_id in LIBRARY_TYPE_IDS
            path = f"observables[{index}]"
            shaped = read.model(
                Observable,
                {**raw, "type_id": type_id if known else TypeID.Other},
                ("name", "type_id", "value"),
                path,
            )
            value = _text(shaped.value) if shaped is not None else None
            if value is None:
                continue  # nothing to pivot on (OCSF allows an observable without a value)
            out.append({"type": _observable_type(type_id, value).value, "value": value})
        for _index, evidence in _objects(item.get("evidences")):
            out.extend(_evidence_observables(evidence))
        unique: dict[tuple[str, str], Json] = {}
        for observable in out:
            unique.setdefault((observable["type"], observable["value"].casefold()), observable)
        return list(unique.values())

    @staticmethod
    def _attacks(read: _Reader, info: Json, item: Json) -> list[str]:
        ids: list[str] = []
        # OCSF 1.1+ in finding_info; OCSF 1.0's Security Finding at the top.
        entries = [
            *(("finding_info.attacks", e) for e in _objects(info.get("attacks"))),
            *(("attacks", e) for e in _objects(item.get("attacks"))),
        ]
        for where, (index, attack) in entries:
            path = f"{where}[{index}]"
            tactics = [
                _object(attack.get("tactic")),
                *(t for _i, t in _objects(attack.get("tactics"))),
            ]
            parts: list[tuple[type[BaseModel], Json, str]] = [
                (Tactic, tactic, f"{path}.tactic") for tactic in tactics if tactic
            ]
            technique = _object(attack.get("technique"))
            # py-ocsf-models requires a technique's name; OCSF only recommends it.
            parts.append(
                (Technique if "name" in technique else SubTechnique, technique, f"{path}.technique")
            )
            parts.append(
                (SubTechnique, _object(attack.get("sub_technique")), f"{path}.sub_technique")
            )
            for model, value, at in parts:
                shaped = read.model(model, value, ("uid", "name"), at) if value else None
                uid = _text(shaped.uid) if shaped is not None else None
                if uid and uid.upper() not in ids:
                    ids.append(uid.upper())
        return ids

    @staticmethod
    def _assets(read: _Reader, item: Json) -> list[str]:
        assets: list[str] = []
        # Vulnerability Finding 1.0 has one `resource`; the other classes `resources[]`.
        entries = [*_objects(item.get("resources"))]
        if isinstance(item.get("resource"), dict):
            entries.append((0, item["resource"]))
        for index, raw in entries:
            shaped = read.model(
                ResourceDetails, raw, ("uid", "name", "type"), f"resources[{index}]"
            )
            if shaped is None:
                continue
            uid, name = _text(shaped.uid), _text(shaped.name)
            asset = f"{name} ({uid})" if name and uid and name != uid else (uid or name)
            if asset and asset not in assets:
                assets.append(asset)
        device = _object(item.get("device"))
        for key in ("hostname", "name", "ip"):
            value = _text(device.get(key))
            if value and value not in assets:
                assets.append(value)
                break
        return assets

    @staticmethod
    def _evidence(item: Json) -> list[Json]:
        out: list[Json] = []
        for index, raw in _objects(item.get("evidences")):
            file = _object(raw.get("file"))
            query, url = _object(raw.get("query")), _object(raw.get("url"))
            src, dst = _object(raw.get("src_endpoint")), _object(raw.get("dst_endpoint"))
            process, api = _object(raw.get("process")), _object(raw.get("api"))
            evidence: Json
            if file:
                name = _text(file.get("name")) or _text(file.get("path")) or f"file {index + 1}"
                hashes = {
                    HASH_ALGORITHMS[algorithm]: _text(h.get("value"))
                    for _i, h in _objects(file.get("hashes"))
                    if (algorithm := _int(h.get("algorithm_id"))) in HASH_ALGORITHMS
                }
                evidence = {"name": name, "type": "file", "location": _text(file.get("path"))}
                evidence["hashes"] = {k: v for k, v in hashes.items() if v}
                size = _int(file.get("size"))
                if size is not None:
                    evidence["size_bytes"] = size
            elif query or url or src or dst or raw.get("connection_info"):
                seen = _text(query.get("hostname")) or _text(url.get("url_string"))
                ends = [_text(e.get("ip")) or _text(e.get("hostname")) for e in (src, dst)]
                path = " -> ".join(end for end in ends if end)
                name = f"DNS query {seen}" if query and seen else (seen or path or "connection")
                evidence = {"name": name, "type": "network"}
            elif process:
                shown = _text(process.get("name")) or _text(process.get("cmd_line")) or "process"
                pid = _int(process.get("pid"))
                evidence = {"name": f"process {shown}" + (f" (pid {pid})" if pid else "")}
                evidence |= {
                    "type": "other",
                    "location": _text(_object(process.get("file")).get("path")),
                }
            elif api:
                service = _text(_object(api.get("service")).get("name"))
                operation = _text(api.get("operation")) or "API call"
                evidence = {"name": " ".join(p for p in (service, operation) if p), "type": "log"}
            else:
                evidence = {
                    "name": _text(raw.get("name")) or f"evidence {index + 1}",
                    "type": "other",
                }
            out.append({key: value for key, value in evidence.items() if value not in (None, {})})
        return out

    @staticmethod
    def _tags(class_uid: int, item: Json) -> list[str]:
        tags = [f"ocsf-{CLASSES[class_uid].lower().replace(' ', '-')}"]
        for _index, vulnerability in _objects(item.get("vulnerabilities")):
            cve = _text(_object(vulnerability.get("cve")).get("uid"))
            if cve and CVE.match(cve) and cve not in tags:
                tags.append(cve)
        return tags[:100]

    @staticmethod
    def _remediation(info: Json, item: Json) -> str:
        remediation = _object(item.get("remediation")) or _object(info.get("remediation"))
        desc = _text(remediation.get("desc"))
        links = [
            ref
            for key in ("references", "kb_articles")
            for ref in _list(remediation.get(key))
            if isinstance(ref, str)
        ]
        body = "\n".join([*([desc] if desc else []), *links])
        return f"Remediation\n{body}" if body else ""

    @staticmethod
    def _vulnerabilities(item: Json) -> str:
        lines: list[str] = []
        for _index, raw in _objects(item.get("vulnerabilities")):
            cve = _object(raw.get("cve"))
            name = _text(cve.get("uid")) or _text(raw.get("title")) or "vulnerability"
            score = _object(cve.get("cvss")).get("base_score")
            if score is None:
                scores = [c.get("base_score") for _i, c in _objects(cve.get("cvss"))]
                score = next((s for s in scores if isinstance(s, int | float)), None)
            packages = [
                f"{p.get('name')} {p.get('version')}".strip()
                for _i, p in _objects(raw.get("affected_packages") or raw.get("packages"))
                if _text(p.get("name"))
            ]
            line = name + (f" (CVSS {score:g})" if isinstance(score, int | float) else "")
            title = _text(raw.get("title")) or _text(cve.get("title"))
            if title and title != name:
                line += f": {title}"
            if packages:
                line += f" in {', '.join(packages)}"
            lines.append(line)
        return "Vulnerabilities\n" + "\n".join(lines) if lines else ""


def _evidence_observables(evidence: Json) -> list[Json]:
    """What an evidence artifact shows that can be pivoted on: addresses, names, hashes."""
    out: list[Json] = []
    for key in ("src_endpoint", "dst_endpoint"):
        endpoint = _object(evidence.get(key))
        ip, hostname = _text(endpoint.get("ip")), _text(endpoint.get("hostname"))
        out += [{"type": "ip", "value": ip}] if ip else []
        out += [{"type": "domain", "value": hostname}] if hostname else []
    hostname = _text(_object(evidence.get("query")).get("hostname"))
    out += [{"type": "domain", "value": hostname}] if hostname else []
    url = _text(_object(evidence.get("url")).get("url_string"))
    out += [{"type": "url", "value": url}] if url else []
    for _index, digest in _objects(_object(evidence.get("file")).get("hashes")):
        value = _text(digest.get("value"))
        kind = HASH_TYPES.get(len(value)) if value else None
        if value and kind is not None:
            out.append({"type": kind.value, "value": value})
    return out
