"""The OCSF adapter on findings in their published shapes (fixtures/README.md): what a finding
becomes, the severity and observable tables, what resolves, what is ignored, what refuses one
finding, and what refuses the body."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sentineliq.alerts.model import EvidenceType, Module, ObservableType, Severity
from sentineliq.inputs.base import InputError
from sentineliq.inputs.ocsf import OcsfAdapter, OcsfSettings
from sentineliq.inputs.registry import ADAPTERS, adapter
from sentineliq.web.api.ocsf import OCSF_EXAMPLE

FIXTURES = Path(__file__).parent / "fixtures"
ADAPTER = OcsfAdapter()
SETTINGS = OcsfSettings()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"ocsf_{name}.json").read_text())


def one(payload: object, settings: OcsfSettings = SETTINGS) -> Any:
    result = ADAPTER.adapt(payload, settings)
    assert result.errors == []
    (record,) = result.accepted
    return record


def test_it_is_registered_by_name() -> None:
    assert adapter("ocsf") is ADAPTERS["ocsf"]
    assert isinstance(adapter("ocsf"), OcsfAdapter)


def test_a_detection_finding_becomes_an_alert_with_the_findings_identity() -> None:
    finding = fixture("guardduty_detection_finding")
    record = one(finding)
    alert = record.alert
    uid = finding["finding_info"]["uid"]
    assert alert.title == "Backdoor:EC2/C&CActivity.B!DNS"
    assert alert.severity is Severity.HIGH  # severity_id 4
    assert alert.source == "AWS Guardduty"  # metadata.product: the vendor, then the name
    assert alert.module is Module.AEGIS
    assert alert.external_id == uid
    assert alert.fingerprint == f"ocsf:AWS Guardduty:{uid}"
    # When the finding was created, not when this report of it was sent.
    assert alert.detected_at.isoformat() == "2025-12-04T08:23:13+00:00"
    assert str(alert.link) == finding["finding_info"]["src_url"]
    assert alert.category == "Backdoor:EC2/C&CActivity.B!DNS"
    # Every attack entry: tactic, technique and sub-technique, each once.
    assert alert.mitre == ["TA0011", "T1071", "T1071.004", "T1568"]
    assert [(o.type, o.value) for o in alert.observables] == [
        (ObservableType.DOMAIN, "GuardDutyC2ActivityB.com"),  # 1 Hostname
        (ObservableType.OTHER, "arn:aws:ec2:us-east-1:123456789012:instance/i-99999999"),
        (ObservableType.IP, "10.0.0.23"),  # also the evidence's src_endpoint: once
    ]
    assert alert.affected_assets == [
        "i-99999999 (arn:aws:ec2:us-east-1:123456789012:instance/i-99999999)"
    ]
    (evidence,) = alert.evidence
    assert (evidence.name, evidence.type) == (
        "DNS query GuardDutyC2ActivityB.com",
        EvidenceType.NETWORK,
    )
    assert alert.tags == ["ocsf-detection-finding"]
    assert alert.description.startswith(finding["finding_info"]["desc"])
    assert "Class: Detection Finding (2004)\nProduct: AWS Guardduty" in alert.description
    assert "Remediation\nIsolate the instance" in alert.description
    assert record.raw == finding  # kept verbatim
    assert record.resolved is False
    assert record.warnings == ()


def test_ocsf_1_0_security_findings_are_read_from_finding_and_state_id() -> None:
    # AWS Security Hub's example in the OCSF project's examples: suppressed, so resolved.
    record = one(fixture("security_hub_security_finding"))
    alert = record.alert
    assert alert.title.startswith("EC2.19 Security groups should not allow unrestricted")
    assert alert.severity is Severity.INFO
    assert alert.source == "AWS Security Hub"
    assert alert.detected_at.isoformat() == "2021-10-28T19:33:39.417000+00:00"  # created_time
    assert alert.affected_assets == [
        "arn:aws:ec2:us-east-1:123456789100:security-group/sg-1234567899900"
    ]
    assert "https://docs.aws.amazon.com/console/securityhub/EC2.19/remediation" in (
        alert.description
    )
    assert "CVE-2020-12345 (CVSS 4.7) in openssl 1.0.2k, yaml 4.3.2" in alert.description
    assert alert.tags == ["ocsf-security-finding", "CVE-2020-12345"]
    assert record.resolved is True

    qradar = one(fixture("qradar_offense"))
    assert qradar.alert.title == "BLEEDING-EDGE DOS -ISC- ICMP blind TCP reset DoS guessing attempt"
    assert qradar.alert.source == "IBM QRadar SIEM"
    assert qradar.alert.fingerprint == "ocsf:QRadar SIEM:591"
    ips = [o.value for o in qradar.alert.observables if o.type is ObservableType.IP]
    assert ips == ["99.99.99.99", "88.88.88.88", "77.77.77.77"]
    assert qradar.resolved is False  # state_id 2: In Progress
    # The published offense has no severity_id: the default, said.
    assert qradar.alert.severity is Severity.MEDIUM
    assert [w.field for w in qradar.warnings] == ["severity_id"]


def test_a_vulnerability_finding_names_its_cves() -> None:
    alert = one(fixture("vulnerability_finding")).alert
    assert alert.severity is Severity.CRITICAL
    assert alert.source == "AWS Inspector"
    assert alert.tags == ["ocsf-vulnerability-finding", "CVE-2021-44228"]
    assert (
        "CVE-2021-44228 (CVSS 10): Apache Log4j2 JNDI remote code execution (Log4Shell) "
        "in log4j-core 2.14.1"
    ) in alert.description
    assert alert.category == "Software and Configuration Checks/Vulnerabilities/CVE"


def test_an_array_is_one_alert_per_finding_and_an_eventbridge_event_is_unwrapped() -> None:
    findings = fixture("securityscorecard_findings")
    result = ADAPTER.adapt(findings, SETTINGS)
    assert result.errors == []
    first, second = result.accepted
    assert first.alert.title == "Infection found on 1.183.190.110"
    assert (
        str(first.alert.link) == "https://platform.securityscorecard.io/#/asi/details/1.183.190.110"
    )
    assert first.raw == findings[0]
    assert second.alert.external_id == "45521c66-6498-442d-ad9b-40da9f0e9236"
    # An observable without a value (null) pivots on nothing: left out.
    assert "open-internet.nl" not in [o.value for o in second.alert.observables]

    event = {
        "version": "0",
        "id": "CWE-event-id",
        "detail-type": "Findings Imported V2",
        "source": "aws.securityhub",
        "account": "111122223333",
        "time": "2019-04-11T21:52:17Z",
        "region": "us-west-2",
        "resources": [],
        "detail": {"findings": [fixture("guardduty_detection_finding")]},
    }
    assert one(event).alert.title == "Backdoor:EC2/C&CActivity.B!DNS"


@pytest.mark.parametrize(
    ("severity_id", "caption", "expected"),
    [
        (1, "Informational", Severity.INFO),
        (2, "Low", Severity.LOW),
        (3, "Medium", Severity.MEDIUM),
        (4, "High", Severity.HIGH),
        (5, "Critical", Severity.CRITICAL),
        (6, "Fatal", Severity.CRITICAL),
        (99, "High", Severity.HIGH),  # Other: the source's caption, when it is one of ours
    ],
)
def test_the_severity_table(severity_id: int, caption: str, expected: Severity) -> None:
    finding = fixture("guardduty_detection_finding")
    finding.update(severity_id=severity_id, severity=caption)
    record = one(finding)
    assert record.alert.severity is expected
    assert record.warnings == ()


@pytest.mark.parametrize(("severity_id", "shown"), [(0, "0"), (99, "99"), (None, "absent")])
def test_an_unknown_severity_takes_the_workspaces_default_with_a_warning(
    severity_id: int | None, shown: str
) -> None:
    finding = fixture("guardduty_detection_finding")
    finding.update(severity_id=severity_id, severity="Sev-2")
    settings = OcsfSettings(default_severity=Severity.LOW, module=Module.ECLIPSE)
    record = one(finding, settings)
    assert record.alert.severity is Severity.LOW
    assert record.alert.module is Module.ECLIPSE
    (warning,) = record.warnings
    assert warning.field == "severity_id"
    assert warning.message.startswith(f"{shown} names no severity")


@pytest.mark.parametrize(
    ("status_id", "status", "resolved"),
    [
        (1, "New", False),
        (2, "In Progress", False),
        (3, "Suppressed", True),
        (4, "Resolved", True),
        (5, "Archived", False),
        (99, "Closed", True),  # Other, captioned by the source
        (99, "Triaged", False),
        (0, "Unknown", False),
    ],
)
def test_suppressed_and_resolved_findings_resolve_the_alert(
    status_id: int, status: str, resolved: bool
) -> None:
    finding = fixture("guardduty_detection_finding")
    finding.update(status_id=status_id, status=status)
    assert one(finding).resolved is resolved


def test_unknown_fields_never_fail_a_finding() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["x_vendor"] = {"anything": [1, 2, {"deep": None}]}
    finding["finding_info"]["x_score"] = 97
    finding["finding_info"]["created_time"] = "yesterday"  # refused by the library: next time
    finding["finding_info"]["attacks"].append({"technique": {"uid": "T1059"}})  # no name
    finding["finding_info"]["attacks"].append({"tactic": "TA0002", "mitigation": {}})
    finding["finding_info"]["attacks"].append("T1105")
    finding["observables"] += [
        {"name": "ua", "type_id": 16, "value": "curl/8.4.0"},  # past the library's list
        {"name": "category", "type_id": -1, "value": "Potentially vulnerable application"},
        {"name": "sha256", "type_id": 8, "value": "a" * 64},
        {"name": "no type", "value": "x"},
        {"name": "no value", "type_id": 2},
    ]
    finding["resources"].append({"owner": "chinatelecom.cn", "uid": "1.183.190.110"})
    finding["evidences"].append(
        {
            "file": {
                "name": "dropper.sh",
                "path": "/tmp/dropper.sh",
                "hashes": [{"algorithm_id": 3, "value": "b" * 64}],
            }
        }
    )
    record = one(finding)
    alert = record.alert
    assert "T1059" in alert.mitre
    assert alert.detected_at.isoformat() == "2025-12-04T08:15:10+00:00"  # first_seen_time
    observed = {(o.type, o.value) for o in alert.observables}
    assert {
        (ObservableType.USER_AGENT, "curl/8.4.0"),
        (ObservableType.OTHER, "Potentially vulnerable application"),
        (ObservableType.HASH_SHA256, "a" * 64),
        (ObservableType.HASH_SHA256, "b" * 64),  # from the evidence's file
    } <= observed
    assert "1.183.190.110" in alert.affected_assets
    file_evidence = alert.evidence[1]
    assert (file_evidence.name, file_evidence.type, file_evidence.hashes.sha256) == (
        "dropper.sh",
        EvidenceType.FILE,
        "b" * 64,
    )
    assert record.raw["x_vendor"] == finding["x_vendor"]
    fields = [w.field for w in record.warnings]
    assert "finding_info.created_time" in fields
    assert "observables[6].type_id" in fields  # the one without a type


def test_a_finding_without_its_identity_or_title_is_refused_naming_the_field() -> None:
    no_uid = fixture("guardduty_detection_finding")
    del no_uid["finding_info"]["uid"]
    no_title = fixture("guardduty_detection_finding")
    no_title["finding_info"]["title"] = "  "
    old = fixture("qradar_offense")
    del old["finding"]["uid"]
    compliance = fixture("guardduty_detection_finding")
    compliance["class_uid"] = 2003
    no_time = fixture("guardduty_detection_finding")
    for key in ("created_time", "first_seen_time", "created_time_dt"):
        del no_time["finding_info"][key]
    del no_time["time"], no_time["time_dt"]
    good = fixture("guardduty_detection_finding")
    result = ADAPTER.adapt(
        [no_uid, no_title, old, compliance, "not a finding", no_time, {"severity_id": 3}, good],
        SETTINGS,
    )
    assert [(e.record, e.field) for e in result.errors] == [
        (1, "finding_info.uid"),
        (2, "finding_info.title"),
        (3, "finding.uid"),
        (4, "class_uid"),
        (5, ""),
        (6, "time"),
        (7, "class_uid"),
    ]
    assert "2003 is not a finding read here" in result.errors[3].problem
    assert [r.record for r in result.accepted] == [8]


def test_a_link_that_is_not_a_web_address_is_a_fact_not_the_link() -> None:
    finding = fixture("guardduty_detection_finding")
    arn = "arn:aws:guardduty:us-east-1:123456789012:detector/x/finding/y"
    finding["finding_info"]["src_url"] = arn
    alert = one(finding).alert
    assert alert.link is None
    assert f"Source: {arn}" in alert.description


def test_times_in_microseconds_are_read_as_such_with_a_warning() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["finding_info"]["created_time"] = 1764836593000000
    record = one(finding)
    assert record.alert.detected_at.isoformat() == "2025-12-04T08:23:13+00:00"
    assert [w.field for w in record.warnings] == ["finding_info.created_time"]


def test_a_long_identity_is_hashed_into_the_fingerprint() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["finding_info"]["uid"] = "u" * 300
    alert = one(finding).alert
    assert alert.fingerprint is not None
    assert alert.fingerprint.startswith("ocsf:sha256:")
    assert alert.external_id == "u" * 300


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], ""),
        ("finding", ""),
        ({"detail": {"findings": []}}, "detail.findings"),
    ],
)
def test_a_body_that_holds_no_finding_is_refused_whole(payload: object, field: str) -> None:
    with pytest.raises(InputError) as refused:
        ADAPTER.adapt(payload, SETTINGS)
    assert refused.value.field == field


def test_the_openapi_example_is_the_fixture_and_is_read() -> None:
    assert fixture("guardduty_detection_finding") == OCSF_EXAMPLE
    assert one(copy.deepcopy(OCSF_EXAMPLE)).alert.mitre[:2] == ["TA0011", "T1071"]


def test_stored_settings_that_no_longer_validate_fall_back_to_the_defaults() -> None:
    assert ADAPTER.settings({"default_severity": "urgent"}) == OcsfSettings()
    assert ADAPTER.settings({"module": "eclipse"}).module is Module.ECLIPSE


def test_times_in_seconds_and_datetime_strings_are_read() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["finding_info"]["created_time"] = 1764836593  # seconds
    record = one(finding)
    assert record.alert.detected_at.isoformat() == "2025-12-04T08:23:13+00:00"
    assert [(w.field, w.message) for w in record.warnings] == [
        ("finding_info.created_time", "read as seconds (OCSF says milliseconds)")
    ]
    for key in ("created_time", "first_seen_time"):
        del finding["finding_info"][key]
    finding["time"] = "not a number"
    alert = one(finding).alert  # the datetime profile's created_time_dt
    assert alert.detected_at.isoformat() == "2025-12-04T08:23:13+00:00"


def test_odd_values_in_mapped_attributes_are_left_out_not_fatal() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["finding_info"]["uid"] = 591  # a number where OCSF says string
    finding["finding_info"]["types"] = "Backdoor"  # not a list
    finding["remediation"]["references"] = "https://example.org/fix"  # not a list
    finding["metadata"] = ["not", "an", "object"]
    finding["resources"] = [{"uid": 42, "name": "db-1"}, "res", None]
    finding["vulnerabilities"] = [
        {"cve": {"uid": "not a cve id"}},
        {"cve": {"uid": "CVE-2024-3094"}},
    ]
    finding["finding_info"]["attacks"] = [
        {"technique": {"uid": f"T{1000 + n}", "name": "x"}} for n in range(120)
    ]
    record = one(finding)
    alert = record.alert
    assert alert.external_id == "591"
    assert alert.source == "OCSF"
    assert alert.fingerprint == "ocsf:591"
    assert alert.category == "Detection Finding"
    assert alert.affected_assets == ["db-1"]
    assert alert.tags == ["ocsf-detection-finding", "CVE-2024-3094"]
    assert len(alert.mitre) == 100
    assert "Remediation\nIsolate the instance" in alert.description
    assert {"finding_info.types", "resources[0].uid"} <= {w.field for w in record.warnings}


def test_a_finding_info_that_is_not_an_object_is_named() -> None:
    finding = fixture("guardduty_detection_finding")
    finding["finding_info"]["title"] = ["a", "list"]
    result = ADAPTER.adapt(finding, SETTINGS)
    assert [(e.field, e.problem) for e in result.errors] == [
        ("finding_info.title", "is required: its summary")
    ]
