"""The I/O-free parts of inbound sync: ADF to text, the signature check, payload reading, and
the settings."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sentineliq.document.adftext import adf_plain_text
from sentineliq.providers.jira.webhook import (
    WebhookPayloadError,
    parse_webhook,
    signature_matches,
)
from sentineliq.settings import SettingsError, SyncSettings


def test_adf_becomes_readable_text() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "heading",
                "attrs": {"level": 2},
                "content": [{"type": "text", "text": "Triage"}],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "x", "text": "@Alex"}},
                    {"type": "text", "text": " isolated the host"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "next: reimage", "marks": [{"type": "strong"}]},
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    },
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "two"}]}
                        ],
                    },
                ],
            },
        ],
    }
    assert adf_plain_text(doc) == "Triage\n\n@Alex isolated the host\nnext: reimage\n\n- one\n- two"
    assert adf_plain_text("  plain text body ") == "plain text body"
    assert adf_plain_text({"type": "doc", "content": "garbage"}) == ""
    assert adf_plain_text(None) == ""


def test_the_signature_check() -> None:
    body = b'{"webhookEvent":"jira:issue_updated"}'
    good = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature_matches("s3cret", body, good)
    assert signature_matches("s3cret", body, good.upper().replace("SHA256", "sha256"))
    assert not signature_matches("s3cret", body + b" ", good)
    assert not signature_matches("other", body, good)
    assert not signature_matches("s3cret", body, good.replace("sha256=", "sha1="))
    assert not signature_matches("s3cret", body, None)
    assert not signature_matches("s3cret", body, "garbage")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "the body must be a JSON object"),
        ({}, "webhookEvent is missing"),
        ({"webhookEvent": "jira:issue_updated"}, "issue is missing"),
        (
            {"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "S-1"}},
            "issue: the issue has no fields",
        ),
        (
            {"webhookEvent": "comment_created", "issue": {"id": "1"}},
            "comment or issue.id is missing",
        ),
        (
            {"webhookEvent": "comment_created", "issue": {"id": "1"}, "comment": {}},
            "comment.id is missing",
        ),
    ],
)
def test_unreadable_payloads_name_the_part(payload: object, message: str) -> None:
    with pytest.raises(WebhookPayloadError) as raised:
        parse_webhook(payload)
    assert str(raised.value) == message


def test_other_events_parse_without_an_issue() -> None:
    event = parse_webhook({"webhookEvent": "worklog_created", "user": {"displayName": " Pat "}})
    assert (event.event, event.state, event.comment, event.user_name) == (
        "worklog_created",
        None,
        None,
        "Pat",
    )


def test_sync_settings_from_the_environment() -> None:
    assert SyncSettings.from_env({}) == SyncSettings()
    assert SyncSettings.from_env({"SENTINELIQ_RECONCILE_INTERVAL_S": "0"}).reconcile_interval_s == 0
    tuned = SyncSettings.from_env(
        {"SENTINELIQ_RECONCILE_OVERLAP_S": "120", "SENTINELIQ_RECONCILE_INTERVAL_S": "60"}
    )
    assert (tuned.reconcile_overlap_s, tuned.reconcile_interval_s) == (120.0, 60.0)
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(SettingsError, match="SENTINELIQ_RECONCILE_INTERVAL_S"):
            SyncSettings.from_env({"SENTINELIQ_RECONCILE_INTERVAL_S": bad})
    with pytest.raises(SettingsError, match="SENTINELIQ_RECONCILE_OVERLAP_S"):
        SyncSettings.from_env({"SENTINELIQ_RECONCILE_OVERLAP_S": "0"})
