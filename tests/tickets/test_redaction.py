"""Redaction patterns: realistic secrets are masked, look-alikes that are not secrets are kept."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.alerts.model import Alert
from sentineliq.document.adf import render_adf
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import TicketContent
from sentineliq.tickets.defang import defang
from sentineliq.tickets.redaction import PATTERN_NAMES, Redaction, Redactor

ALL = Redactor(Redaction(emails=True))

# Fabricated, correctly shaped credentials (none is live).
GITHUB = "ghp_" + "R2d2C3poX9" * 3 + "abcdef"
SLACK = "xoxb-2048-1024-Zm9vYmFyYmF6cXV4"
ATLASSIAN = "ATATT3xFfGF0" + "Qk1xY3Z2" * 6
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq8Zr1m\nq2xT9Zz0Y+abc=\n"
    "-----END RSA PRIVATE KEY-----"
)
OPENSSH = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----"
)

POSITIVES = [
    ("api_tokens", f"token leaked: {GITHUB} in repo", GITHUB),
    ("api_tokens", f"slack bot {SLACK}", SLACK),
    ("api_tokens", f"Jira token {ATLASSIAN} found in a script", ATLASSIAN),
    (
        "api_tokens",
        "curl -H 'Authorization: Bearer Zx9kQ2mN4pL7rT1vW3yB6'",
        "Zx9kQ2mN4pL7rT1vW3yB6",
    ),
    ("api_tokens", 'config {"api_key": "9f8e7d6c5b4a39281706f5e4"}', "9f8e7d6c5b4a39281706f5e4"),
    ("api_tokens", "CLIENT_SECRET=Qm9vdHN0cmFwLXNlY3JldC0x", "Qm9vdHN0cmFwLXNlY3JldC0x"),
    ("api_tokens", "sk_live_4eC39HqLyjWDarjtT1zdp7dc in a log", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("url_passwords", "fetched https://svc:Hunter2!x@git.corp.example/repo.git", "Hunter2!x"),
    ("url_passwords", "db postgres://app:s3cr3t@10.0.0.5:5432/prod", "s3cr3t"),
    # The defanged form of the same URL (redaction runs after defanging).
    ("url_passwords", "hxxps://svc:Hunter2!x(at)git[.]corp[.]example/repo", "Hunter2!x"),
    ("aws_keys", f"aws_access_key_id = {AWS_ID}", AWS_ID),
    ("aws_keys", f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET),
    ("aws_keys", f'"AWS_SECRET_KEY": "{AWS_SECRET}"', AWS_SECRET),
    ("private_keys", f"key file:\n{PEM}\nend", "MIIEpAIBAAKCAQEA7bq8Zr1m"),
    ("private_keys", f"{OPENSSH}", "b3BlbnNzaC1rZXktdjEAAAAA"),
    # Cut off before its END line: masked to the end of the text.
    (
        "private_keys",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0",
        "MIIEvQIBADANBgkqhkiG9w0",
    ),
    ("jwts", f"session cookie {JWT};", JWT),
    ("jwts", f"Authorization: {JWT}", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("emails", "phish sent to jane.doe+hr@corp.example today", "jane.doe+hr@corp.example"),
    ("emails", "from ceo(at)evil-corp[.]example", "ceo(at)evil-corp[.]example"),
]

NEAR_MISSES = [
    # A hash is not a token: fingerprints, idempotency labels and hashes must survive.
    ("api_tokens", "sha256 " + "ab12" * 16),
    ("api_tokens", "ghp_short"),
    ("api_tokens", "the token expired"),
    ("api_tokens", "api_key=short"),
    ("api_tokens", "Bearer of bad news"),
    ("url_passwords", "https://user@host.example/path"),  # no password
    ("url_passwords", "https://host.example:8443/a@b"),  # a port, not a password
    ("url_passwords", "mailto:someone@corp.example"),
    ("aws_keys", "AKIA123"),  # too short
    ("aws_keys", "AKIAIOSFODNN7EXAMPLEXYZ"),  # too long: not an access key id
    ("aws_keys", "aws_secret_access_key=tooShort"),
    (
        "private_keys",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZI\n-----END PUBLIC KEY-----",
    ),
    ("private_keys", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
    ("jwts", "eyJhbGciOiJIUzI1NiJ9"),  # a header alone
    ("jwts", "eyJhbGci.notjwt.x"),
    ("emails", "analyst.kim logged in; see host-1.corp"),
    ("emails", "@mention in chat"),
]


@pytest.mark.parametrize(("name", "text", "secret"), POSITIVES)
def test_each_pattern_masks_a_realistic_secret(name: str, text: str, secret: str) -> None:
    masked = only(name).text(text)
    assert secret not in masked
    assert f"[redacted-{name.removesuffix('s').replace('_', '-')}" in masked or (
        name == "url_passwords" and "[redacted-password]" in masked
    )
    assert ALL.text(masked) == masked  # redacting twice changes nothing
    off = Redactor(Redaction(**dict.fromkeys(PATTERN_NAMES, False)))
    assert off.text(text) == text


def only(name: str) -> Redactor:
    return Redactor(Redaction(**{n: n == name for n in PATTERN_NAMES}))


@pytest.mark.parametrize(("name", "text"), NEAR_MISSES)
def test_near_misses_are_kept(name: str, text: str) -> None:
    assert only(name).text(text) == text


def test_what_names_the_secret_is_kept() -> None:
    assert (
        ALL.text("https://svc:pw1@git.example/x") == "https://svc:[redacted-password]@git.example/x"
    )
    assert ALL.text("api_key=9f8e7d6c5b4a39281706f5e4") == "api_key=[redacted-api-token]"
    assert ALL.text(f"key {AWS_ID}.") == "key [redacted-aws-key]."


def test_emails_are_off_by_default_and_the_rest_on() -> None:
    assert Redaction().enabled() == (
        "api_tokens",
        "url_passwords",
        "aws_keys",
        "private_keys",
        "jwts",
    )
    assert Redactor(Redaction()).text("a@corp.example") == "a@corp.example"


def test_json_masks_values_and_keeps_keys_and_types() -> None:
    body = {"fields": {"summary": f"key {AWS_ID}", "labels": [GITHUB], "n": 3, "ok": True}}
    assert ALL.json(body) == {
        "fields": {
            "summary": "key [redacted-aws-key]",
            "labels": ["[redacted-api-token]"],
            "n": 3,
            "ok": True,
        }
    }


def test_the_draft_is_redacted_everywhere_it_carries_alert_text() -> None:
    alert = Alert.model_validate_json(
        json.dumps(
            {
                "title": f"Key {AWS_ID} pushed",
                "description": f"Found in commit:\n\n{PEM}\n\nand {JWT}",
                "severity": "high",
                "source": "DLP",
                "detected_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
                "tags": [GITHUB],
                "observables": [{"type": "url", "value": "https://ci:Tr0ub4dor@build.example/x"}],
            }
        )
    )
    draft = build_draft(alert, workspace_name="w", content=TicketContent())
    sent = repr(draft) + repr(render_adf(draft.document))
    for secret in (AWS_ID, "MIIEpAIBAAKCAQEA7bq8Zr1m", JWT, GITHUB, "Tr0ub4dor"):
        assert secret not in sent
    assert draft.summary == "Key [redacted-aws-key] pushed"
    assert draft.attributes["title"] == "Key [redacted-aws-key] pushed"
    assert "[redacted-api-token]" in draft.labels


@pytest.mark.parametrize(
    "shape",
    ["a.", "a@b.", "a+", "a://b:", "-----BEGIN A ", "eyJaaaaaa.", "api_key=", "(at)", "[.]"],
)
def test_huge_hostile_text_is_redacted_in_linear_time(shape: str) -> None:
    # 200,000 characters of one repeated shape. A pattern that rescans the rest of the text from
    # every position (the URL-password scheme once did) takes minutes here, not milliseconds; CPU
    # time, so a loaded machine does not make it fail.
    text = shape * (200_000 // len(shape))
    started = time.process_time()
    assert len(ALL.text(text)) > 0
    assert len(defang(text)) >= len(text)
    assert time.process_time() - started < 10


def _every_rule(redactor: Redactor, text: str) -> str:
    """What the rules do without the one-scan shortcut in front of them."""
    for pattern, replacement in redactor._rules:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize("text", [t for _, t, _ in POSITIVES] + [t for _, t in NEAR_MISSES])
def test_the_one_scan_shortcut_changes_nothing(text: str) -> None:
    for redactor in (ALL, *(only(name) for name in PATTERN_NAMES)):
        assert redactor.text(text) == _every_rule(redactor, text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([t for _, t, _ in POSITIVES] + [t for _, t in NEAR_MISSES])
        | st.text(max_size=60),
        max_size=5,
    ).map(" ".join)
)
def test_the_one_scan_shortcut_changes_nothing_on_any_text(text: str) -> None:
    assert ALL.text(text) == _every_rule(ALL, text)
