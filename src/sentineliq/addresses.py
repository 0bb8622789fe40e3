"""Email addresses as security teams have them.

Pydantic's EmailStr refuses the special-use .test domain that sandboxes and test Jira sites
use; syntax is still checked strictly and deliverability is never looked up (no DNS).
"""

from __future__ import annotations

from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator


def _email(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized


EmailAddress = Annotated[str, AfterValidator(_email)]


def _email_syntax(value: str) -> str:
    # validate_email refuses special-use domains (corp.local, localhost) whatever the options;
    # their syntax is checked on a stand-in domain, and the real domain is kept.
    local, at, domain = value.rpartition("@")
    probe = value
    labels = domain.rstrip(".").split(".")
    if at and labels[-1].lower() in SPECIAL_USE_DOMAIN_NAMES:
        probe = f"{local}@{'.'.join([*labels[:-1], 'test'])}"
    try:
        checked = validate_email(
            probe, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized if probe == value else f"{checked.local_part}@{domain.lower()}"


# Syntax only, any domain: an address a sender has is kept and resolved (or not) at delivery.
AnyDomainEmail = Annotated[str, AfterValidator(_email_syntax)]


def email_key(address: str) -> str:
    """The form assignee addresses are stored and compared under (a workspace's mappings, a
    ticket system's search answers): trimmed and case-folded, so every spelling of an address is
    one person. It checks nothing; `storage.assignees.validate_assignee_email` does."""
    return address.strip().casefold()
