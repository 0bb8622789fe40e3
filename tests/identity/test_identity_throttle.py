"""Sign-in throttle: progressive delays per canonical address and per client, in their own table.

An unknown address is treated exactly like a known one, and a proven browser (device cookie or
live session) keeps its owner able to sign in while the address is under attack. Every test runs
on SQLite and PostgreSQL (the `database` fixture), with the fake clock: nothing sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from identity_support import PASSWORD, FakeClock, RecordingHasher
from sqlalchemy import delete

from sentineliq.services.identity import IdentityService, TooManyAttempts
from sentineliq.settings import LoginThrottleSettings
from sentineliq.storage import Database
from sentineliq.storage.audit import add_audit
from sentineliq.storage.tables import AuditRow
from sentineliq.storage.throttle import LoginThrottleRepository, ThrottleKey

Rows = Callable[[str], list[dict[str, Any]]]
POLICY = LoginThrottleSettings()  # the defaults: 5 free per address, 20 per client, 1 s .. 15 min
WRONG = "not the password at all"


def fail_free_failures(
    identity: IdentityService, email: str, count: int = POLICY.free_failures
) -> None:
    for number in range(count):
        assert identity.authenticate(email, WRONG, ip=f"198.51.100.{number}") is None


def refused_after(call: Callable[[], object]) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        call()
    return refused.value.retry_after_s


def test_failures_in_any_spelling_throttle_the_canonical_address(
    identity: IdentityService, hasher: RecordingHasher
) -> None:
    identity.create_user("victim@example.com", PASSWORD, actor="t")
    spellings = ["Victim@Example.com", " victim@example.com ", "VICTIM@EXAMPLE.COM"]
    for number in range(POLICY.free_failures + 1):  # the last one starts a 1 s delay
        typed = spellings[number % len(spellings)]
        assert identity.authenticate(typed, WRONG, ip=f"203.0.113.{number}") is None
    verified = len(hasher.verified)
    # Even the right password, from yet another client: refused before any argon2 work.
    wait = refused_after(
        lambda: identity.authenticate("victim@example.com", PASSWORD, ip="192.0.2.1")
    )
    assert wait == 1
    assert len(hasher.verified) == verified


def test_delay_doubles_after_the_free_failures_up_to_the_cap(
    identity: IdentityService, clock: FakeClock
) -> None:
    identity.create_user("ines@example.test", PASSWORD, actor="t")
    fail_free_failures(identity, "ines@example.test")
    waits = []
    for _ in range(14):
        assert identity.authenticate("ines@example.test", WRONG) is None
        wait = refused_after(lambda: identity.authenticate("ines@example.test", PASSWORD))
        waits.append(wait)
        clock.advance(seconds=wait - 1)  # one second short: still refused
        assert refused_after(lambda: identity.authenticate("ines@example.test", PASSWORD)) == 1
        clock.advance(seconds=1)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    assert identity.authenticate("ines@example.test", PASSWORD) is not None


def test_unknown_and_known_addresses_behave_the_same_at_every_step(
    identity: IdentityService, clock: FakeClock, hasher: RecordingHasher, raw_rows: Rows
) -> None:
    identity.create_user("known@example.test", PASSWORD, actor="t")

    def attempt(email: str, password: str) -> tuple[object, int]:
        before = len(hasher.verified)
        try:
            outcome: object = identity.authenticate(email, password, ip="192.0.2.9")
        except TooManyAttempts as refused:
            outcome = ("refused", refused.retry_after_s)
        return outcome, len(hasher.verified) - before

    for step in range(12):
        # Typed in mixed case: the known address's failures must count just like the unknown's.
        known = attempt("Known@Example.TEST", WRONG)
        ghost = attempt("Ghost@Example.TEST", WRONG)
        assert known == ghost, f"step {step}"
        # The right password of the known account changes nothing while the address is delayed.
        if isinstance(known[0], tuple):
            assert attempt("known@example.test", PASSWORD) == known
        clock.advance(seconds=1.5 if step % 3 else 0)
    rows = {row["key"]: row for row in raw_rows("login_throttle") if row["kind"] == "address"}
    for field in ("failures", "first_failure_at", "last_failure_at", "blocked_until"):
        assert rows["known@example.test"][field] == rows["ghost@example.test"][field], field


def test_the_owner_with_a_device_cookie_signs_in_while_the_address_is_under_attack(
    identity: IdentityService, clock: FakeClock
) -> None:
    owner = identity.create_user("owner@example.test", PASSWORD, actor="t")
    assert identity.authenticate("owner@example.test", PASSWORD) is not None
    device = identity.issue_device_token("Owner@Example.test")
    other = identity.create_user("other@example.test", PASSWORD, actor="t")
    others_device = identity.issue_device_token(other.email)

    for number in range(POLICY.free_failures + 11):  # an attacker spread over many clients
        clock.advance(seconds=POLICY.max_delay_s)
        assert identity.authenticate("owner@example.test", WRONG, ip=f"10.0.0.{number}") is None
    owner_in = lambda token: identity.authenticate(  # noqa: E731
        "owner@example.test", PASSWORD, ip="192.0.2.50", device_token=token
    )
    assert refused_after(lambda: owner_in(None)) == POLICY.max_delay_s
    for forged in ("", "junk", device[:-4] + "AAAA", others_device, "x" * 100_000):
        assert refused_after(lambda: owner_in(forged)) == POLICY.max_delay_s  # noqa: B023
    signed = owner_in(device)
    assert signed is not None
    assert signed.id == owner.id

    # The cookie expires after its lifetime.
    clock.advance(seconds=POLICY.device_cookie_s + 1)
    fail_free_failures(identity, "owner@example.test", POLICY.free_failures + 1)
    assert refused_after(lambda: owner_in(device)) >= 1


def test_a_live_session_also_proves_the_browser(identity: IdentityService) -> None:
    owner = identity.create_user("owner@example.test", PASSWORD, actor="t")
    session = identity.start_session(owner.id, ip=None, user_agent=None)
    fail_free_failures(identity, "owner@example.test", POLICY.free_failures + 1)
    with pytest.raises(TooManyAttempts):
        identity.authenticate("owner@example.test", PASSWORD)
    assert identity.authenticate("owner@example.test", PASSWORD, session_token=session.token)
    other = identity.create_user("someone@example.test", PASSWORD, actor="t")
    theirs = identity.start_session(other.id, ip=None, user_agent=None)
    with pytest.raises(TooManyAttempts):  # another user's session proves nothing here
        identity.authenticate("owner@example.test", PASSWORD, session_token=theirs.token)


def test_a_device_that_fails_too_often_loses_its_exemption(
    identity: IdentityService, raw_rows: Rows
) -> None:
    identity.create_user("owner@example.test", PASSWORD, actor="t")
    device = identity.issue_device_token("owner@example.test")
    fail_free_failures(identity, "owner@example.test", POLICY.free_failures + 1)  # delayed now

    # A stolen cookie gets the free failures, counted against the device only...
    for _ in range(POLICY.free_failures):
        assert identity.authenticate("owner@example.test", WRONG, device_token=device) is None
    (address,) = [r for r in raw_rows("login_throttle") if r["kind"] == "address"]
    assert address["failures"] == POLICY.free_failures + 1
    # ...and then it is an ordinary client under the address delay.
    with pytest.raises(TooManyAttempts):
        identity.authenticate("owner@example.test", PASSWORD, device_token=device)


def test_success_resets_only_its_own_path(
    identity: IdentityService, clock: FakeClock, raw_rows: Rows
) -> None:
    identity.create_user("owner@example.test", PASSWORD, actor="t")
    device = identity.issue_device_token("owner@example.test")
    for _ in range(3):  # the owner's own typos on the proven browser
        assert identity.authenticate("owner@example.test", WRONG, device_token=device) is None
    fail_free_failures(identity, "owner@example.test")  # an attacker's free failures
    assert identity.authenticate("owner@example.test", PASSWORD, device_token=device)
    # The device's slate is clean; the attacker's count on the address is untouched...
    rows = raw_rows("login_throttle")
    assert not [r for r in rows if r["kind"] == "device"]
    assert [r["failures"] for r in rows if r["kind"] == "address"] == [POLICY.free_failures]
    # ...and a sign-in without the device does not wipe it either: the next failure is delayed.
    assert identity.authenticate("owner@example.test", PASSWORD, ip="192.0.2.80") is not None
    assert identity.authenticate("owner@example.test", WRONG, ip="192.0.2.81") is None
    assert refused_after(lambda: identity.authenticate("owner@example.test", PASSWORD)) == 1


def test_one_client_spraying_many_addresses_is_delayed_by_its_ip(
    identity: IdentityService,
) -> None:
    identity.create_user("jon@example.test", PASSWORD, actor="t")
    for number in range(POLICY.client_free_failures + 1):
        identity.authenticate(f"user{number}@example.test", "Spray-Password-1", ip="192.0.2.66")
    assert (
        refused_after(lambda: identity.authenticate("jon@example.test", PASSWORD, ip="192.0.2.66"))
        == 1
    )
    # Another client is not affected, and neither is the address.
    assert identity.authenticate("jon@example.test", PASSWORD, ip="192.0.2.67") is not None


def test_the_throttle_keeps_its_own_table_not_the_audit_log(
    identity: IdentityService, database: Database, clock: FakeClock, raw_rows: Rows
) -> None:
    identity.create_user("ines@example.test", PASSWORD, actor="t")
    fail_free_failures(identity, "Ines@Example.test", POLICY.free_failures + 1)
    with database.session() as session:  # audit entries are kept, but the throttle ignores them
        assert session.execute(delete(AuditRow).where(AuditRow.action == "login.failed")).rowcount
    with pytest.raises(TooManyAttempts):
        identity.authenticate("ines@example.test", PASSWORD)
    rows = [r for r in raw_rows("login_throttle") if r["kind"] == "address"]
    assert [(r["key"], r["failures"]) for r in rows] == [
        ("ines@example.test", POLICY.free_failures + 1)
    ]
    assert rows[0]["blocked_until"] == clock.now + timedelta(seconds=1)

    # Audit entries alone block nothing.
    identity.create_user("jo.b@example.test", PASSWORD, actor="t")
    with database.session() as session:
        details = {"email": "jo.b@example.test", "ip": "192.0.2.3"}
        for _ in range(50):
            add_audit(
                session, "login.failed", actor="jo.b@example.test", details=details, at=clock.now
            )
    assert identity.authenticate("jo.b@example.test", PASSWORD, ip="192.0.2.3") is not None


def test_text_that_is_not_an_address_is_kept_only_as_a_digest(
    identity: IdentityService, raw_rows: Rows
) -> None:
    typed = " My Secret Passphrase "  # typed into the email box by mistake
    assert identity.authenticate(typed, WRONG, ip="192.0.2.4") is None
    assert identity.authenticate("my secret passphrase", WRONG, ip="192.0.2.4") is None
    (row,) = [r for r in raw_rows("login_throttle") if r["kind"] == "address"]
    assert row["key"].startswith("sha256:")
    assert row["failures"] == 2  # trimmed and case-folded before hashing
    assert "secret" not in repr(raw_rows("login_throttle")).lower()


def test_counters_are_forgotten_and_old_rows_pruned(
    identity: IdentityService, clock: FakeClock, raw_rows: Rows
) -> None:
    fail_free_failures(identity, "a@example.test", POLICY.free_failures + 1)
    with pytest.raises(TooManyAttempts):
        identity.authenticate("a@example.test", WRONG)
    clock.advance(seconds=POLICY.forget_after_s + 1)
    assert identity.authenticate("b@example.test", WRONG) is None  # prunes on write
    assert {r["key"] for r in raw_rows("login_throttle")} == {"b@example.test"}
    fail_free_failures(identity, "a@example.test")  # free failures again
    assert identity.authenticate("a@example.test", WRONG) is None


def test_concurrent_failures_never_lose_a_count(database: Database, clock: FakeClock) -> None:
    repository = LoginThrottleRepository(database)
    keys = [ThrottleKey("address", "x@example.test"), ThrottleKey("client", "192.0.2.1")]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def fail_ten_times(reverse: bool) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(10):
                repository.record_failure(
                    keys[::-1] if reverse else keys,
                    now=clock.now,
                    forget_before=clock.now - timedelta(days=1),
                    block=lambda _key, _failures, _now: None,
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=fail_ten_times, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    states = repository.get(keys, forget_before=clock.now - timedelta(days=1))
    assert [states[key].failures for key in keys] == [40, 40]
