"""JiraConfig: one workspace's Jira Cloud connection settings, validated strictly.

The API token is a SecretStr: it shows as asterisks in repr/str/JSON dumps and is revealed only
by `to_storage()`, whose output the storage layer encrypts (see SECRET_FIELDS). Validation errors
never echo input values (`hide_input_in_errors`), so a malformed token cannot leak through them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast, get_args
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sentineliq.addresses import EmailAddress
from sentineliq.providers.net import UnsafeTargetError, check_host

NeutralPriority = Literal["low", "medium", "high", "critical", "urgent"]
AlertAttribute = Literal[
    "severity",
    "status",
    "source",
    "category",
    "threat_score",
    "detected_at",
    "external_id",
    "fingerprint",
    "module",
    "mitre",
    "link",
    "title",
]
ALERT_ATTRIBUTES: tuple[str, ...] = get_args(AlertAttribute)

DEFAULT_PRIORITY_MAP: Mapping[str, str] = {
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "critical": "Highest",
    "urgent": "Highest",
}

_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")
_CUSTOM_FIELD_ID = re.compile(r"^customfield_\d{1,10}$")

JiraName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _field_ref(value: str) -> str:
    if value.lower().startswith("customfield_") and not _CUSTOM_FIELD_ID.match(value):
        raise PydanticCustomError(
            "field_ref", "is not a Jira field id (customfield_ followed by digits)"
        )
    return value


FieldRef = Annotated[JiraName, AfterValidator(_field_ref)]


def _default_priorities() -> dict[NeutralPriority, str]:
    return cast(dict[NeutralPriority, str], dict(DEFAULT_PRIORITY_MAP))


def _url_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("base_url", message)


class JiraConfig(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_token",)

    base_url: str
    email: EmailAddress
    api_token: SecretStr
    project_key: str
    issue_type: JiraName = "Task"
    priority_map: dict[NeutralPriority, JiraName] = Field(default_factory=_default_priorities)
    # Jira field id (customfield_10050) or field name -> alert attribute.
    custom_fields: dict[FieldRef, AlertAttribute] = Field(default_factory=dict)
    timeout_s: float = Field(default=15.0, gt=0, le=300)

    # How this instance was validated; the connect-time guard of the client follows it.
    _allow_private_targets: bool = PrivateAttr(default=False)

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, allow_private_targets: bool = False) -> JiraConfig:
        """Validate `data`; `allow_private_targets` mirrors SENTINELIQ_ALLOW_PRIVATE_TARGETS."""
        return cls.model_validate(
            dict(data), context={"allow_private_targets": allow_private_targets}
        )

    @property
    def allow_private_targets(self) -> bool:
        return self._allow_private_targets

    @staticmethod
    def _allowed(info: ValidationInfo) -> bool:
        context = info.context if isinstance(info.context, Mapping) else {}
        return bool(context.get("allow_private_targets", False))

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        allow = cls._allowed(info)
        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError as exc:
            raise _url_error("is not a valid URL") from exc
        scheme = parts.scheme.lower()
        if scheme != "https" and not (allow and scheme == "http"):
            raise _url_error("must use https")
        if parts.username is not None or parts.password is not None:
            raise _url_error(
                "must not contain a user name or password; use the email and api_token fields"
            )
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise _url_error("must name a host, e.g. https://your-site.atlassian.net")
        if parts.query or parts.fragment:
            raise _url_error("must not contain a query or fragment")
        try:
            check_host(host, port, allow_private=allow)
        except UnsafeTargetError as exc:
            hint = (
                "this is never allowed"
                if exc.always_refused
                else "set SENTINELIQ_ALLOW_PRIVATE_TARGETS=1 to allow it"
            )
            raise _url_error(f"{exc.reason}; {hint}") from None
        netloc = f"[{host}]" if ":" in host else host
        if port is not None:
            netloc = f"{netloc}:{port}"
        return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if not token.strip():
            raise PydanticCustomError("api_token", "must not be empty")
        if token != token.strip() or any(c in token for c in "\r\n"):
            # A pasted token with a trailing newline fails auth in a way that is hard to see.
            raise PydanticCustomError("api_token", "must not contain spaces or line breaks")
        return value

    @field_validator("project_key")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not _PROJECT_KEY.match(value):
            raise PydanticCustomError(
                "project_key",
                "must be 2-10 capital letters, digits or underscores starting with a letter, "
                "e.g. SEC",
            )
        return value

    @field_validator("priority_map")
    @classmethod
    def _merge_priorities(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_PRIORITY_MAP, **value}

    @model_validator(mode="after")
    def _remember_context(self, info: ValidationInfo) -> JiraConfig:
        self._allow_private_targets = self._allowed(info)
        return self

    def to_storage(self) -> dict[str, Any]:
        """Plain JSON-able dict with the token revealed: only for the encrypting storage layer."""
        data = self.model_dump(mode="json")
        data["api_token"] = self.api_token.get_secret_value()
        return data

    def masked(self) -> dict[str, Any]:
        """For display: every secret replaced by a fixed mask."""
        data = self.model_dump(mode="json")
        for name in self.SECRET_FIELDS:
            data[name] = "********"
        return data


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
    "string_type": "must be a string",
    "float_type": "must be a number",
    "dict_type": "must be a mapping",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (at most 255 characters)",
    "greater_than": "must be greater than 0",
    "less_than_equal": "must be at most 300",
}


def format_config_errors(exc: ValidationError) -> list[str]:
    """One line per field, e.g. "base_url: must use https". Never includes input values."""
    by_field: dict[str, list[str]] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = loc[0] if loc else "config"
        kind = error["type"]
        message = _MESSAGES.get(kind, error["msg"])
        if field == "priority_map" and len(loc) >= 2 and loc[-1] == "[key]":
            message = f"unknown priority {loc[1]!r} (expected {', '.join(DEFAULT_PRIORITY_MAP)})"
        elif field == "custom_fields" and len(loc) >= 2 and kind == "literal_error":
            message = (
                f"{loc[1]!r} maps to an unknown alert attribute "
                f"(expected one of {', '.join(ALERT_ATTRIBUTES)})"
            )
        elif len(loc) >= 2:
            message = f"{loc[1]!r} {message}"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        by_field.setdefault(field, [])
        if message not in by_field[field]:
            by_field[field].append(message)
    return [f"{field}: {'; '.join(messages)}" for field, messages in by_field.items()]
