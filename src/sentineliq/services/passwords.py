"""Password policy: length, no common password, no email local part. Hashing is identity's job.

The common-password list is zxcvbn's (`FREQUENCY_LISTS["passwords"]`, 30,000 entries ranked from
real leaks), which the zxcvbn package maintains and ships, so there is no list to keep here.
"""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing is deliberately slow; do not let megabytes in
# A local part shorter than this ("a@", "jo@") would forbid a great many good passwords that
# merely contain those letters, while guessing them from the address gains an attacker nothing.
MIN_LOCAL_PART_LENGTH = 3


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's common-password list, case-folded; loaded on first use, once per process."""
    return frozenset(entry.casefold() for entry in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why `password` is refused for the account `email`, or None if it is acceptable.

    The reason never contains the password.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "must not be only whitespace"
    folded = password.casefold()
    if folded in common_passwords():
        return "is one of the most common passwords; choose another"
    local = email.rpartition("@")[0].casefold() if email else ""
    if len(local) >= MIN_LOCAL_PART_LENGTH and local in folded:
        return "must not contain the email address's local part (before the @)"
    return None
