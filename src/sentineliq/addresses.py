"""Email addresses as security teams have them.

Pydantic's EmailStr refuses the special-use .test domain that sandboxes and test Jira sites
use; syntax is still checked strictly and deliverability is never looked up (no DNS).
"""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator


def _email(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized


EmailAddress = Annotated[str, AfterValidator(_email)]
