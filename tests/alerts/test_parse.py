"""The alert input format: every refusal names the record, the field and the problem."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from sentineliq.alerts import Alert, Tlp
from sentineliq.alerts.parse import parse_alerts


def minimal(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "title": "Suspicious login",
        "severity": "high",
        "source": "SIEM",
        "detected_at": "2026-11-27T08:00:00Z",
    }
    record.update(overrides)
    return record


def messages(text: str) -> list[str]:
    return [str(error) for error in parse_alerts(text).errors]


def test_single_object_array_and_ndjson_are_all_read() -> None:
    one = json.dumps(minimal())
    assert len(parse_alerts(one).accepted) == 1
    assert len(parse_alerts(json.dumps([minimal(), minimal(title="b")])).accepted) == 2
    ndjson = "\n".join([one, "", json.dumps(minimal(title="b")), ""])
    result = parse_alerts(ndjson)
    assert [r.alert.title for r in result.accepted] == ["Suspicious login", "b"]
    assert [r.record for r in result.accepted] == [1, 2]


def test_pretty_printed_single_object_is_one_record() -> None:
    assert len(parse_alerts(json.dumps(minimal(), indent=2)).accepted) == 1


def test_valid_records_survive_a_bad_neighbour() -> None:
    batch = [minimal(title="ok-1"), minimal(severity="extreme"), minimal(title="ok-2")]
    result = parse_alerts(json.dumps(batch))
    assert [r.alert.title for r in result.accepted] == ["ok-1", "ok-2"]
    assert [str(e) for e in result.errors] == [
        "record 2: severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'"
    ]
    assert result.refused_records == 1
    assert result.total == 3


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"title": ""}, "record 1 (line 1): title: String should have at least 1 character"),
        (
            {"threat_score": "50"},
            "record 1 (line 1): threat_score: Input should be a valid integer",
        ),
        (
            {"threat_score": 101},
            "record 1 (line 1): threat_score: Input should be less than or equal to 100",
        ),
        (
            {"detected_at": "2026-11-27T08:00:00"},
            "record 1 (line 1): detected_at: timestamp must include a timezone, "
            "e.g. 2026-11-27T08:00:00Z",
        ),
        ({"colour": "red"}, "record 1 (line 1): colour: unknown field"),
        (
            {"mitre": ["T1059.001", "X99"]},
            "record 1 (line 1): mitre[1]: 'X99' is not a MITRE ATT&CK id "
            "(expected T1234, T1234.001 or TA0001)",
        ),
        (
            {"observables": [{"type": "hash_sha256", "value": "abc"}]},
            "record 1 (line 1): observables[0].value: a hash_sha256 must be 64 hexadecimal "
            "characters",
        ),
        (
            {"evidence": [{"name": "x", "type": "file", "hashes": {"sha1": "zz"}}]},
            "record 1 (line 1): evidence[0].hashes.sha1: must be 40 hexadecimal characters",
        ),
        (
            {"link": "/relative/path"},
            "record 1 (line 1): link: Input should be a valid URL, relative URL without a base",
        ),
        (
            {"assignee_email": "bob"},
            "record 1 (line 1): assignee_email: not a valid email address: "
            "An email address must have an @-sign.",
        ),
        (
            {"module": "apollo"},
            "record 1 (line 1): module: Input should be 'aegis' or 'eclipse'",
        ),
    ],
)
def test_field_errors_are_named(override: dict[str, Any], expected: str) -> None:
    assert messages(json.dumps(minimal(**override))) == [expected]


def test_custody_action_must_be_known() -> None:
    evidence = {
        "name": "disk",
        "type": "disk_image",
        "custody": [{"action": "borrowed", "actor": "x", "at": "2026-11-27T08:00:00Z"}],
    }
    [message] = messages(json.dumps(minimal(evidence=[evidence])))
    assert message.startswith("record 1 (line 1): evidence[0].custody[0].action: Input should be")


def test_unreadable_input_is_reported_not_raised() -> None:
    assert messages("") == ["input: no alerts in input (empty)"]
    assert messages("[]") == ["input: no alerts in input (empty array)"]
    assert messages("[1, 2") == [
        "input (line 1): invalid JSON array: Expecting ',' delimiter at column 6"
    ]
    ndjson = json.dumps(minimal()) + "\n{broken\n42\n"
    assert messages(ndjson) == [
        "record 2 (line 2): invalid JSON: Expecting property name enclosed in double quotes "
        "at column 2",
        "record 3 (line 3): must be a JSON object, not int",
    ]


def test_tlp_white_is_read_as_clear() -> None:
    record = minimal(observables=[{"type": "ip", "value": "203.0.113.5", "tlp": "white"}])
    [parsed] = parse_alerts(json.dumps(record)).accepted
    assert parsed.alert.observables[0].tlp is Tlp.CLEAR


def test_fingerprint_prefers_source_values() -> None:
    given = Alert.model_validate_json(json.dumps(minimal(fingerprint="abc")))
    assert given.effective_fingerprint == "abc"
    by_id = Alert.model_validate_json(json.dumps(minimal(external_id="E-1")))
    retitled = Alert.model_validate_json(json.dumps(minimal(external_id="E-1", title="other")))
    assert by_id.effective_fingerprint == retitled.effective_fingerprint
    plain = Alert.model_validate_json(json.dumps(minimal()))
    assert plain.effective_fingerprint != by_id.effective_fingerprint
    # Without ids, only an identical re-send is the same alert.
    same = Alert.model_validate_json(json.dumps(minimal()))
    other_host = Alert.model_validate_json(json.dumps(minimal(affected_assets=["host-b"])))
    assert plain.effective_fingerprint == same.effective_fingerprint
    assert plain.effective_fingerprint != other_host.effective_fingerprint


def test_shipped_samples_are_valid_and_cover_both_modules() -> None:
    text = files("sentineliq.demo").joinpath("samples.json").read_text("utf-8")
    result = parse_alerts(text)
    assert result.errors == []
    assert {r.alert.module.value for r in result.accepted} == {"aegis", "eclipse"}
    assert len(result.accepted) >= 10


def test_hostile_input_is_refused_per_record_never_raised() -> None:
    good = json.dumps(minimal())
    deep = "[" * 100_000 + "]" * 100_000
    result = parse_alerts(good + "\n" + deep + "\n")
    assert len(result.accepted) == 1
    assert [str(e) for e in result.errors] == ["record 2 (line 2): invalid JSON: nested too deeply"]
    nan = json.dumps(minimal()).replace("}", ', "threat_score": NaN}')
    assert messages(nan) == ["record 1 (line 1): invalid JSON: NaN is not valid JSON"]
    surrogate = json.dumps(minimal(title="x\ud800y"))
    assert messages(surrogate) == [
        "record 1 (line 1): title: contains an unpaired unicode surrogate escape (not valid text)"
    ]


def test_a_broken_pretty_printed_object_is_one_error_not_ndjson_noise() -> None:
    assert messages('{\n  "title": "x",\n}\n') == [
        "record 1 (line 3): invalid JSON: Expecting property name enclosed in double quotes "
        "at column 1"
    ]


def test_byte_order_mark_is_ignored() -> None:
    assert len(parse_alerts("\ufeff" + json.dumps(minimal())).accepted) == 1
    array = "\ufeff[\n" + json.dumps(minimal()) + ",\n" + json.dumps(minimal(title="b")) + "\n]"
    assert [r.record for r in parse_alerts(array).accepted] == [1, 2]
