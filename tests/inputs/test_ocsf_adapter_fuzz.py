"""Whatever JSON a sender puts in a finding's attributes, mapped or not, the OCSF adapter
answers with an alert or errors naming fields: it never raises (hypothesis over the published
Detection Finding's shape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentineliq.inputs.ocsf import OcsfAdapter, OcsfSettings

FINDING = json.loads(
    (Path(__file__).parent / "fixtures" / "ocsf_guardduty_detection_finding.json").read_text()
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
# The attributes the adapter reads, where a sender may put anything.
PLACES = [
    (),
    ("finding_info",),
    ("metadata",),
    ("metadata", "product"),
]
KEYS = st.sampled_from(
    [
        "uid",
        "title",
        "desc",
        "src_url",
        "created_time",
        "first_seen_time",
        "types",
        "attacks",
        "observables",
        "resources",
        "resource",
        "evidences",
        "vulnerabilities",
        "remediation",
        "severity_id",
        "severity",
        "status_id",
        "status",
        "state_id",
        "time",
        "time_dt",
        "message",
        "device",
        "name",
        "vendor_name",
        "x_unknown",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLACES), KEYS, JSON), max_size=6))
def test_no_finding_makes_the_adapter_raise(
    changes: list[tuple[tuple[str, ...], str, Any]],
) -> None:
    finding = json.loads(json.dumps(FINDING))
    for place, key, value in changes:
        target = finding
        for step in place:
            target = target.get(step) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[key] = value
    result = OcsfAdapter().adapt(finding, OcsfSettings())
    assert len(result.accepted) + len({e.record for e in result.errors}) == 1
    for record in result.accepted:
        assert record.raw == finding


# Entries shaped like OCSF objects (the keys the adapter reads), with anything as values.
_NESTED = st.dictionaries(
    st.sampled_from(["uid", "name", "ip", "hostname", "hashes", "value", "algorithm_id", "path"]),
    JSON | st.lists(st.dictionaries(st.sampled_from(["algorithm_id", "value"]), JSON), max_size=3),
    max_size=4,
)
ENTRY = st.dictionaries(
    st.sampled_from(
        [
            "type_id",
            "value",
            "name",
            "uid",
            "tactic",
            "technique",
            "sub_technique",
            "tactics",
            "file",
            "query",
            "url",
            "src_endpoint",
            "dst_endpoint",
            "process",
            "api",
            "cve",
            "affected_packages",
            "packages",
            "title",
        ]
    ),
    JSON | _NESTED,
    max_size=5,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["observables", "evidences", "resources", "vulnerabilities", "attacks"]),
    st.lists(ENTRY, max_size=4),
    st.booleans(),
)
def test_no_list_of_odd_objects_makes_the_adapter_raise(
    key: str, entries: list[Any], in_finding_info: bool
) -> None:
    finding = json.loads(json.dumps(FINDING))
    (finding["finding_info"] if in_finding_info else finding)[key] = entries
    result = OcsfAdapter().adapt(finding, OcsfSettings())
    assert len(result.accepted) + len({e.record for e in result.errors}) == 1
