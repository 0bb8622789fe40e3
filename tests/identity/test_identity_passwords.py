"""Admin users: argon2id hashes, password rules, and sign-in that does not reveal who exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from identity_support import PASSWORD, FakeClock, RecordingHasher
from sqlalchemy import update

from sentineliq.services.context import AppContext
from sentineliq.services.identity import FieldError, IdentityService
from sentineliq.services.passwords import common_passwords
from sentineliq.storage import AlreadyExistsError, AuditRepository, Database
from sentineliq.storage.tables import UserRow

Rows = Callable[[str], list[dict[str, Any]]]


def test_password_is_stored_as_argon2id_and_verified(
    identity: IdentityService, raw_rows: Rows
) -> None:
    user = identity.create_user("Alice@Example.TEST", PASSWORD, display_name=" Alice ", actor="t")
    assert user.email == "alice@example.test"
    assert user.display_name == "Alice"
    (row,) = raw_rows("users")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in repr(row)
    assert "password" not in repr(user)

    assert identity.authenticate("ALICE@example.test", PASSWORD) == user
    assert identity.authenticate("alice@example.test", PASSWORD + "x") is None
    assert identity.authenticate("alice@example.test", "") is None


def test_emails_are_unique_regardless_of_case(identity: IdentityService) -> None:
    identity.create_user("bob@example.test", PASSWORD, actor="t")
    with pytest.raises(AlreadyExistsError, match=r"bob@example\.test"):
        identity.create_user("BOB@Example.Test", PASSWORD, actor="t")


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("not-an-email", PASSWORD, "email", "not a valid email address"),
        ("a@example.test", "short pw 11", "password", "at least 12 characters"),
        ("a@example.test", " " * 20, "password", "only whitespace"),
        ("a@example.test", "\t\n" * 8, "password", "only whitespace"),
        ("a@example.test", "x" * 1025, "password", "at most 1024"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    identity: IdentityService, email: str, password: str, field: str, message: str
) -> None:
    with pytest.raises(FieldError) as caught:
        identity.create_user(email, password, actor="t")
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")
    if password.strip():
        assert password not in str(caught.value)
    assert identity.list_users() == []


def test_twelve_characters_are_enough(identity: IdentityService) -> None:
    assert identity.create_user("c@example.test", "x" * 12, actor="t").email == "c@example.test"


def test_unknown_email_still_costs_a_verification(
    identity: IdentityService,
    hasher: RecordingHasher,
    raw_rows: Rows,
    database: Database,
    clock: FakeClock,
) -> None:
    identity.create_user("known@example.test", PASSWORD, actor="t")
    (row,) = raw_rows("users")
    hasher.verified.clear()

    assert identity.authenticate("nobody@example.test", PASSWORD, ip="203.0.113.9") is None
    clock.advance(seconds=1)  # the audit log orders by time
    assert identity.authenticate("not an email", PASSWORD) is None
    # Each unknown email was verified against the throwaway hash, never a real user's.
    assert len(hasher.verified) == 2
    assert all(h.startswith("$argon2id$") and h != row["password_hash"] for h in hasher.verified)

    clock.advance(seconds=1)
    assert identity.authenticate("known@example.test", "wrong password!") is None
    assert hasher.verified[-1] == row["password_hash"]

    failed = [e for e in AuditRepository(database).list() if e.action == "login.failed"]
    assert [(e.details["email"], e.details["reason"]) for e in reversed(failed)] == [
        ("nobody@example.test", "unknown_user"),
        ("(not an email address)", "unknown_user"),  # typed text is never stored raw
        ("known@example.test", "wrong_password"),
    ]
    assert failed[-1].details["ip"] == "203.0.113.9"  # newest first: [-1] is the first
    for entry in failed:
        assert PASSWORD not in repr(entry)
        assert "wrong password!" not in repr(entry)


def test_disabled_account_cannot_sign_in(identity: IdentityService, database: Database) -> None:
    user = identity.create_user("gone@example.test", PASSWORD, actor="t")
    with database.session() as session:
        session.execute(update(UserRow).where(UserRow.id == user.id).values(is_active=False))
    assert identity.authenticate("gone@example.test", PASSWORD) is None
    (entry,) = [e for e in AuditRepository(database).list() if e.action == "login.failed"]
    assert entry.details["reason"] == "inactive"


def test_weaker_hash_is_upgraded_on_sign_in(
    app: AppContext, clock: FakeClock, raw_rows: Rows
) -> None:
    weak = IdentityService(app, clock=clock, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    weak.create_user("old@example.test", PASSWORD, actor="t")
    (before,) = raw_rows("users")
    strong_hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    strong = IdentityService(app, clock=clock, hasher=strong_hasher)

    assert strong.authenticate("old@example.test", PASSWORD) is not None
    (after,) = raw_rows("users")
    assert after["password_hash"] != before["password_hash"]
    assert not strong_hasher.check_needs_rehash(after["password_hash"])
    assert strong.authenticate("old@example.test", PASSWORD) is not None
    assert weak.authenticate("old@example.test", PASSWORD) is not None  # same password still


def test_user_created_is_audited(identity: IdentityService, database: Database) -> None:
    user = identity.create_user(
        "dana@example.test", PASSWORD, actor="admin@example.test", ip="198.51.100.7",
        user_agent="Firefox/140",
    )  # fmt: skip
    (entry,) = [e for e in AuditRepository(database).list() if e.action == "user.created"]
    assert entry.actor == "admin@example.test"
    assert entry.target == f"user:{user.id}"
    assert entry.details == {
        "email": "dana@example.test",
        "ip": "198.51.100.7",
        "user_agent": "Firefox/140",
    }


# Entries of zxcvbn's common-password list that pass the length rule, typed in another case.
@pytest.mark.parametrize(
    "password", ["qwerty123456", "1QAZ2WSX3EDC", "LeaveMeAlone", "123456654321"]
)
def test_common_passwords_are_refused_in_any_case(identity: IdentityService, password: str) -> None:
    with pytest.raises(FieldError) as caught:
        identity.create_user("erin@example.test", password, actor="t")
    assert caught.value.field == "password"
    assert "most common passwords" in caught.value.message
    assert password not in str(caught.value)
    assert identity.list_users() == []


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("Dana.Scully@example.test", "my name is dana.scully!"),
        ("frank@example.test", "xxFRANKxx-2026-blue"),
        (" ROOT@example.test", "Root access granted 42"),
    ],
)
def test_passwords_containing_the_local_part_are_refused(
    identity: IdentityService, email: str, password: str
) -> None:
    with pytest.raises(FieldError) as caught:
        identity.create_user(email, password, actor="t")
    assert caught.value.field == "password"
    assert "local part" in caught.value.message
    assert password not in str(caught.value)


def test_short_local_parts_and_good_passwords_are_accepted(identity: IdentityService) -> None:
    # "jo" is too short to be worth refusing: it would rule out every password with "jo" in it.
    assert identity.create_user("jo@example.test", "enjoy the quiet harbour", actor="t")
    assert identity.create_user("gina@example.test", "violet kettle upstream 7", actor="t")


def test_the_common_list_is_zxcvbns_and_loaded_once() -> None:
    assert len(common_passwords()) >= 29_000  # 30,000 entries, a few equal once case-folded
    assert common_passwords() is common_passwords()
    assert "password1" in common_passwords()
