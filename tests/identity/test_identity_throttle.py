"""Sign-in throttling: repeated failures stop password guessing without running argon2."""

from __future__ import annotations

import pytest
from identity_support import PASSWORD, FakeClock, RecordingHasher

from sentineliq.services.identity import (
    MAX_FAILURES_PER_EMAIL,
    MAX_FAILURES_PER_IP,
    IdentityService,
    TooManyAttempts,
)


def test_too_many_failures_for_an_address_refuse_even_the_right_password(
    identity: IdentityService, clock: FakeClock, hasher: RecordingHasher
) -> None:
    user = identity.create_user("ines@example.test", PASSWORD, actor="t")
    for _ in range(MAX_FAILURES_PER_EMAIL):
        assert (
            identity.authenticate("ines@example.test", "wrong guess!!", ip="198.51.100.7") is None
        )
    verified = len(hasher.verified)
    with pytest.raises(TooManyAttempts) as refused:
        identity.authenticate("ines@example.test", PASSWORD, ip="203.0.113.9")
    assert refused.value.retry_after_s == 15 * 60
    assert len(hasher.verified) == verified  # refused before any argon2 work
    clock.advance(minutes=16)  # the failures age out of the window
    authenticated = identity.authenticate("ines@example.test", PASSWORD, ip="203.0.113.9")
    assert authenticated is not None
    assert authenticated.id == user.id


def test_one_address_spraying_many_accounts_is_refused_by_ip(identity: IdentityService) -> None:
    identity.create_user("jon@example.test", PASSWORD, actor="t")
    for number in range(MAX_FAILURES_PER_IP):
        identity.authenticate(f"user{number}@example.test", "spray-password", ip="192.0.2.66")
    with pytest.raises(TooManyAttempts):
        identity.authenticate("jon@example.test", PASSWORD, ip="192.0.2.66")
    # Another client is not affected.
    assert identity.authenticate("jon@example.test", PASSWORD, ip="192.0.2.67") is not None
