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


def warned(record: dict[str, Any]) -> list[str]:
    """The warnings of one record that must be accepted."""
    result = parse_alerts(json.dumps(record, ensure_ascii=False))
    assert result.errors == [], [str(e) for e in result.errors]
    [parsed] = result.accepted
    return [str(w) for w in parsed.warnings]


def accepted(record: dict[str, Any]) -> Alert:
    [parsed] = parse_alerts(json.dumps(record, ensure_ascii=False)).accepted
    return parsed.alert


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"title": ""}, "record 1 (line 1): title: String should have at least 1 character"),
        (
            {"title": " \u0000\t "},
            "record 1 (line 1): title: String should have at least 1 character",
        ),
        ({"title": None}, "record 1 (line 1): title: Field required"),
        ({"title": 42}, "record 1 (line 1): title: Input should be a valid string"),
        (
            {"severity": "extreme"},
            "record 1 (line 1): severity: Input should be 'critical', 'high', 'medium', 'low' "
            "or 'info'",
        ),
        ({"severity": None}, "record 1 (line 1): severity: Field required"),
        (
            {"detected_at": "2026-11-27T08:00:00"},
            "record 1 (line 1): detected_at: timestamp must include a timezone, "
            "e.g. 2026-11-27T08:00:00Z",
        ),
        (
            {"detected_at": "yesterday"},
            "record 1 (line 1): detected_at: Input should be a valid datetime, input is too short",
        ),
        (
            {"due_date": "2026-13-45"},
            "record 1 (line 1): due_date: Input should be a valid date in the format YYYY-MM-DD, "
            "month value is outside expected range of 1-12",
        ),
        (
            {"evidence": [{"name": "x", "type": "file", "collected_at": "soon"}]},
            "record 1 (line 1): evidence[0].collected_at: Input should be a valid datetime, "
            "input is too short",
        ),
        (
            {"link": "javascript:alert(1)"},
            "record 1 (line 1): link: the javascript: scheme is not allowed (use http or https)",
        ),
        (
            {"link": " Java\tScript:alert(1)"},
            "record 1 (line 1): link: the javascript: scheme is not allowed (use http or https)",
        ),
        (
            {"link": "data:text/html,<script>alert(1)</script>"},
            "record 1 (line 1): link: the data: scheme is not allowed (use http or https)",
        ),
    ],
)
def test_records_that_cannot_become_a_ticket_are_refused_naming_the_field(
    override: dict[str, Any], expected: str
) -> None:
    assert messages(json.dumps(minimal(**override))) == [expected]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"threat_score": "50"},
            ["threat_score: Input should be a valid integer (got '50'); ignored"],
        ),
        (
            {"threat_score": 101},
            ["threat_score: Input should be less than or equal to 100 (got 101); ignored"],
        ),
        ({"colour": "red"}, ["colour: unknown field; ignored"]),
        (
            {"mitre": ["T1059.001", "X99"]},
            [
                "mitre[1]: 'X99' is not a MITRE ATT&CK id (expected T1234, T1234.001 or TA0001) "
                "(got 'X99'); dropped"
            ],
        ),
        (
            {"evidence": [{"name": "x", "type": "file", "hashes": {"sha1": "zz"}}]},
            ["evidence[0].hashes.sha1: must be 40 hexadecimal characters; ignored"],
        ),
        (
            {"link": "/relative/path"},
            [
                "link: Input should be a valid URL, relative URL without a base "
                "(got '/relative/path'); ignored"
            ],
        ),
        (
            {"assignee_email": "bob"},
            [
                "assignee_email: not a valid email address: An email address must have an "
                "@-sign. (got 'bob'); ignored"
            ],
        ),
        (
            {"module": "apollo"},
            ["module: Input should be 'aegis' or 'eclipse' (got 'apollo'); ignored"],
        ),
        (
            {"source": ""},
            ["source: String should have at least 1 character (got ''); set to 'unknown'"],
        ),
        (
            {"source": None},
            ["source: null; treated as absent", "source: missing; set to 'unknown'"],
        ),
        ({"severity": " HIGH"}, ["severity: read ' HIGH' as 'high'"]),
    ],
)
def test_cosmetic_problems_are_repaired_with_a_warning_naming_the_field(
    override: dict[str, Any], expected: list[str]
) -> None:
    assert warned(minimal(**override)) == expected


def test_null_fields_mean_absent() -> None:
    record = minimal(
        category=None, link=None, assignee_email=None, threat_score=None, description=None
    )
    alert = accepted(record)
    assert (alert.category, alert.link, alert.assignee_email, alert.threat_score) == (
        None,
        None,
        None,
        None,
    )
    assert alert.description == ""
    assert warned(record) == [
        "category: null; treated as absent",
        "link: null; treated as absent",
        "assignee_email: null; treated as absent",
        "threat_score: null; treated as absent",
        "description: null; treated as absent",
    ]


def test_empty_strings_are_dropped_from_lists_and_empty_optional_strings_are_absent() -> None:
    record = minimal(
        tags=["phishing", "", "  ", None, "finance"],
        affected_assets=["", "FIN-LT-0142"],
        category="",
        external_id="   ",
    )
    alert = accepted(record)
    assert alert.tags == ["phishing", "finance"]
    assert alert.affected_assets == ["FIN-LT-0142"]
    assert (alert.category, alert.external_id) == (None, None)
    assert warned(record) == [
        "category: empty; treated as absent",
        "affected_assets[0]: empty string dropped",
        "tags[1]: empty string dropped",
        "tags[2]: empty string dropped",
        "tags[3]: null; dropped",
        "external_id: empty; treated as absent",
    ]


def test_an_empty_evidence_location_is_absent_and_the_evidence_kept() -> None:
    evidence = {"name": "mail.eml", "type": "email", "location": "", "collected_by": None}
    record = minimal(evidence=[evidence])
    [kept] = accepted(record).evidence
    assert (kept.name, kept.location, kept.collected_by) == ("mail.eml", None, None)
    assert warned(record) == [
        "evidence[0].collected_by: null; treated as absent",
        "evidence[0].location: empty; treated as absent",
    ]


@pytest.mark.parametrize(
    "email", ["analyst@corp.local", "soc@localhost", "Bob@intranet", "x@b.invalid"]
)
def test_any_syntactically_valid_assignee_email_is_kept(email: str) -> None:
    record = minimal(assignee_email=email)
    assert (
        accepted(record).assignee_email == email.split("@")[0] + "@" + email.split("@")[1].lower()
    )
    assert warned(record) == []


def test_over_long_values_are_cut_with_a_note() -> None:
    record = minimal(title="t" * 2500, tags=[f"tag{n}" for n in range(150)], fingerprint="f" * 300)
    alert = accepted(record)
    assert len(alert.title) == 2000
    assert alert.title.endswith("…")
    assert len(alert.tags) == 100
    # A cut identity could merge two problems; a digest of the whole one cannot.
    assert alert.fingerprint is not None
    assert alert.fingerprint.startswith("sha256:")
    assert warned(record) == [
        "title: cut from 2500 to 2000 characters",
        "tags: cut from 150 to 100 items",
        "fingerprint: longer than 200 characters; replaced by its SHA-256",
    ]


def test_control_characters_are_normalized_not_refused() -> None:
    record = minimal(
        title="Login\nfrom\u0085new\u2028host\u0000",
        description="line one\nline two\u0000\tend\u2028",
        tags=["a\u0007b"],
    )
    alert = accepted(record)
    assert alert.title == "Login from new host"
    assert alert.description == "line one\nline two \tend\u2028"
    assert alert.tags == ["a b"]
    assert warned(record) == [
        "title: 4 control characters replaced by spaces",
        "description: 1 control character replaced by spaces",
        "tags[0]: 1 control character replaced by spaces",
    ]


def test_unpaired_surrogates_are_replaced_not_refused() -> None:
    # The JSON reader (yajl) writes an escaped lone surrogate as "?"; normalize never sees it.
    text = json.dumps(minimal(title="x\ud800y"))
    [parsed] = parse_alerts(text).accepted
    assert parsed.alert.title == "x?y"
    assert parsed.warnings == ()


def test_bad_list_items_are_dropped_and_the_rest_kept() -> None:
    record = minimal(
        observables=[
            {"type": "ip", "value": "203.0.113.5"},
            {"type": "hash_md5", "value": "not-a-hash"},
            {"type": "asn", "value": "AS64500", "tlp": "TLP:RED"},
            {"value": ""},
        ],
        evidence=[
            {"type": "file"},
            {
                "name": "disk",
                "type": "disk_image",
                "custody": [
                    {"action": "borrowed", "actor": "x", "at": "2026-11-27T08:00:00Z"},
                    {"action": "collected", "actor": "y", "at": "2026-11-27T09:00:00Z"},
                ],
            },
        ],
    )
    alert = accepted(record)
    assert [(o.type.value, o.value, o.tlp.value) for o in alert.observables] == [
        ("ip", "203.0.113.5", "amber"),
        ("other", "not-a-hash", "amber"),
        ("other", "AS64500", "red"),
    ]
    [disk] = alert.evidence
    assert [c.actor for c in disk.custody] == ["y"]
    assert warned(record) == [
        "observables[1].type: value is not 32 hexadecimal characters; kept as type 'other'",
        "observables[2].tlp: read 'TLP:RED' as 'red'",
        "observables[2].type: Input should be 'ip', 'domain', 'url', 'hash_md5', 'hash_sha1', "
        "'hash_sha256', 'email', 'file', 'registry', 'user_agent' or 'other' (got 'asn'); "
        "set to 'other'",
        "observables[3]: dropped: value: String should have at least 1 character (got '')",
        "evidence[0]: dropped: name: Field required",
        "evidence[1].custody[0]: dropped: action: Input should be 'collected', 'transferred', "
        "'analyzed', 'stored', 'returned', 'accessed', 'modified', 'deleted', 'preserved' or "
        "'quarantined' (got 'borrowed')",
    ]


def test_unreadable_input_is_reported_not_raised() -> None:
    assert messages("") == ["input: no alerts in input (empty)"]
    assert messages("[]") == ["input: no alerts in input (empty array)"]
    assert messages("[1, 2") == ["input: invalid JSON array: parse error: premature EOF"]
    ndjson = json.dumps(minimal()) + "\n{broken\n42\n"
    assert messages(ndjson) == [
        "record 2 (line 2): invalid JSON: lexical error: invalid char in json text.",
        "record 3 (line 3): must be a JSON object, not int",
    ]


def test_tlp_white_is_read_as_clear() -> None:
    record = minimal(observables=[{"type": "ip", "value": "203.0.113.5", "tlp": "white"}])
    [parsed] = parse_alerts(json.dumps(record)).accepted
    assert parsed.alert.observables[0].tlp is Tlp.CLEAR


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
    assert [str(e) for e in result.errors] == [
        "record 2 (line 2): nested too deeply (more than 32 levels)"
    ]
    nan = json.dumps(minimal()).replace("}", ', "threat_score": NaN}')
    # One line that is not JSON is an unreadable input, not a refused record.
    assert messages(nan) == ["input: invalid JSON: lexical error: invalid char in json text."]
    assert messages(good + "\n" + nan + "\n") == [
        "record 2 (line 2): invalid JSON: lexical error: invalid char in json text."
    ]


def test_a_broken_pretty_printed_object_is_one_error_not_ndjson_noise() -> None:
    assert messages('{\n  "title": "x",\n}\n') == [
        "input: invalid JSON: parse error: invalid object key (must be a string)"
    ]


def test_byte_order_mark_is_ignored() -> None:
    assert len(parse_alerts("\ufeff" + json.dumps(minimal())).accepted) == 1
    array = "\ufeff[\n" + json.dumps(minimal()) + ",\n" + json.dumps(minimal(title="b")) + "\n]"
    assert [r.record for r in parse_alerts(array).accepted] == [1, 2]


@pytest.mark.parametrize("depth", [40, 600, 990])
def test_deep_nesting_in_an_unknown_field_is_refused_not_raised(depth: int) -> None:
    record = json.dumps(minimal()).replace("}", ', "x": ' + "[" * depth + "]" * depth + "}")
    [message] = messages(record)  # the JSON reader itself refuses the deepest
    assert message.startswith("record 1 (line 1): ")
    assert "nested too deeply" in message
