"""Refused input, and the one canonical form of an email address."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from sentineliq.addresses import EmailAddress
from sentineliq.errors import InputError

_EMAIL = TypeAdapter(EmailAddress)


class InvalidFieldError(InputError, ValueError):
    """Refused input; `field` names it so forms and problem+json can point at it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def normalize_user_email(email: str) -> str:
    """A user's sign-in address, validated (sentineliq.addresses semantics) and lower-cased;
    InvalidFieldError("email") if not. (Assignee addresses are case-folded: addresses.email_key.)
    """
    try:
        return _EMAIL.validate_python(email.strip()).lower()
    except ValidationError as exc:
        raise InvalidFieldError("email", _first_message(exc)) from None


def canonical_address(typed: str) -> str:
    """The one form all spellings of an address are counted under: what `normalize_user_email`
    stores for a valid address; for anything else, the text trimmed and case-folded."""
    try:
        return normalize_user_email(typed)
    except InvalidFieldError:
        return typed.strip().casefold()


def _first_message(exc: ValidationError) -> str:
    message = str(exc.errors()[0]["msg"])
    return message.removeprefix("Value error, ")
