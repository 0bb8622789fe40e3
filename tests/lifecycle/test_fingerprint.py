"""Which alerts are the same problem: the fingerprint and a workspace's recipe (issue 10)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentineliq.alerts.model import Alert, ObservableType
from sentineliq.lifecycle.fingerprint import FingerprintRecipe, fingerprint_of, normalize_title


def _alert(**fields: Any) -> Alert:
    base = {
        "title": "Login failure for 10.0.0.5 at 12:01",
        "severity": "high",
        "source": "EDR",
        "detected_at": "2026-12-01T08:00:00Z",
    }
    return Alert.model_validate_json(json.dumps({**base, **fields}))


def test_the_source_fingerprint_wins_then_its_id() -> None:
    assert fingerprint_of(_alert(fingerprint="abc", external_id="E-1")) == "abc"
    by_id = fingerprint_of(_alert(external_id="E-1"))
    assert by_id == fingerprint_of(_alert(external_id="E-1", title="retitled"))
    assert by_id != fingerprint_of(_alert(external_id="E-2"))
    assert by_id != fingerprint_of(_alert())


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Login failure for 10.0.0.5 at 12:01", "Login failure for 10.0.0.9 at 12:07:33"),
        ("Malware deadbeef42 on WS-0042", "Malware 0badc0de99 on WS-0077"),
        (
            "Job 123e4567-e89b-12d3-a456-426614174000 failed",
            "Job 00000000-0000-0000-0000-0000000000ff failed",
        ),
        ("Beacon at 2026-12-01T08:00:00Z", "Beacon  at 2026-12-02 09:30:00+01:00"),
        ("PHISHING kit found", "phishing   kit found"),
    ],
)
def test_variable_parts_of_a_title_do_not_make_a_new_problem(one: str, other: str) -> None:
    assert normalize_title(one) == normalize_title(other)
    assert fingerprint_of(_alert(title=one)) == fingerprint_of(_alert(title=other))


def test_words_that_look_like_hex_are_kept() -> None:
    assert normalize_title("cafe face added") == "cafe face added"
    assert fingerprint_of(_alert(title="Bad cafe")) != fingerprint_of(_alert(title="Bad face"))


def test_key_observables_split_problems_and_rotating_ips_do_not() -> None:
    sample = [{"type": "hash_sha256", "value": "a" * 64}]
    other_sample = [{"type": "hash_sha256", "value": "b" * 64}]
    assert fingerprint_of(_alert(observables=sample)) != fingerprint_of(
        _alert(observables=other_sample)
    )
    one_ip = [*sample, {"type": "ip", "value": "203.0.113.7"}]
    other_ip = [*sample, {"type": "ip", "value": "198.51.100.4"}]
    assert fingerprint_of(_alert(observables=one_ip)) == fingerprint_of(
        _alert(observables=other_ip)
    )


def test_a_workspace_recipe_chooses_the_parts() -> None:
    by_asset = FingerprintRecipe(parts=["source", "assets"])
    a = _alert(title="One thing", affected_assets=["WS-1"])
    b = _alert(title="Something else entirely", affected_assets=["ws-1"])
    assert fingerprint_of(a, by_asset) == fingerprint_of(b, by_asset)
    assert fingerprint_of(a) != fingerprint_of(b)
    by_ip = FingerprintRecipe(observable_types=[ObservableType.IP])
    one = _alert(observables=[{"type": "ip", "value": "203.0.113.7"}])
    two = _alert(observables=[{"type": "ip", "value": "198.51.100.4"}])
    assert fingerprint_of(one, by_ip) != fingerprint_of(two, by_ip)


def test_a_recipe_refuses_unknown_parts_naming_them() -> None:
    with pytest.raises(ValueError, match="parts"):
        FingerprintRecipe.model_validate({"parts": ["title", "colour"]})
    with pytest.raises(ValueError, match="parts"):
        FingerprintRecipe.model_validate({"parts": []})
