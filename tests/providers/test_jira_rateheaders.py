"""Jira's rate-limit headers as the client reads them: a snapshot to show, a signal to pace by."""

from __future__ import annotations

import httpx2

from sentineliq.providers.jira.rateheaders import RateLimitSnapshot, rate_signal, rate_snapshot


def _never() -> float:
    raise AssertionError("the clock is read only for an answer that carries rate headers")


def test_an_answer_without_rate_headers_leaves_no_snapshot() -> None:
    assert rate_snapshot(httpx2.Headers({"content-type": "application/json"}), _never) is None


def test_snapshot_keeps_what_was_sent_and_drops_what_is_unreadable() -> None:
    headers = httpx2.Headers(
        {"x-ratelimit-limit": "inf", "x-ratelimit-remaining": "7", "x-ratelimit-nearlimit": "True"}
    )
    assert rate_snapshot(headers, lambda: 123.0) == RateLimitSnapshot(
        limit=None, remaining=7, near_limit=True, observed_at=123.0
    )


def test_signal_reads_retry_after_only_on_a_refusal() -> None:
    headers = {"retry-after": "4", "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}
    refused = rate_signal(httpx2.Response(429, headers=headers), lambda: 0.0)
    assert (refused.status, refused.retry_after, refused.limit, refused.remaining) == (
        429,
        4.0,
        10.0,
        0.0,
    )
    assert refused.near_limit is False
    accepted = rate_signal(httpx2.Response(200, headers=headers), lambda: 0.0)
    assert accepted.retry_after is None
