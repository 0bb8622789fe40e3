"""JiraConfig: one workspace's Jira Cloud connection settings, validated strictly.

The API token is a SecretStr: it shows as asterisks in repr/str/JSON dumps and is revealed only
by `to_storage()`, whose output the storage layer encrypts (see SECRET_FIELDS). Validation errors
never echo input values (`hide_input_in_errors`), so a malformed token cannot leak through them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast, get_args
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sentineliq.addresses import EmailAddress
from sentineliq.lifecycle.policy import LifecyclePolicy
from sentineliq.providers.net import UnsafeTargetError, check_host
from sentineliq.tickets.content import TicketContent

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
# Scoped API tokens only work through Atlassian's gateway: https://api.atlassian.com/ex/jira/{cloudId}
GATEWAY_HOST = "api.atlassian.com"
_GATEWAY_PATH = re.compile(
    r"^/ex/jira/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
# Fields a static value may not set: SentinelIQ fills them from each alert (or the project/type).
RESERVED_FIELD_VALUES = frozenset(
    {"project", "issuetype", "summary", "description", "priority", "assignee"}
)
FIELD_VALUE_MAX = 1000
_CUSTOM_FIELD_ID = re.compile(r"^customfield_\d{1,10}$")

JiraName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _field_ref(value: str) -> str:
    if value.lower().startswith("customfield_") and not _CUSTOM_FIELD_ID.match(value):
        raise PydanticCustomError(
            "field_ref", "is not a Jira field id (customfield_ followed by digits)"
        )
    return value


FieldRef = Annotated[JiraName, AfterValidator(_field_ref)]


def _value_text(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("field_value", "must be a text, a number or a list of texts")
    text = value.strip()
    if not text:
        raise PydanticCustomError("field_value", "must not be empty")
    if len(text) > FIELD_VALUE_MAX:
        raise PydanticCustomError(
            "field_value", f"is too long (at most {FIELD_VALUE_MAX} characters)"
        )
    return text


def _field_value(value: object) -> str | int | float | list[str]:
    if isinstance(value, bool):
        raise PydanticCustomError("field_value", "must be a text, a number or a list of texts")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError("field_value", "must be a finite number")
        return value
    if isinstance(value, list | tuple):
        if not value:
            raise PydanticCustomError("field_value", "must not be an empty list")
        return [_value_text(item) for item in value]
    return _value_text(value)


# A static field value as typed: text, a number, or several texts (multi-selects, components).
FieldValue = Annotated[
    str | int | float | list[str],
    PlainValidator(_field_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": FIELD_VALUE_MAX},
                {"type": "number"},
                {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": FIELD_VALUE_MAX},
                    "minItems": 1,
                },
            ]
        }
    ),
]


def is_gateway_url(url: str) -> bool:
    """True for a URL whose path is the gateway's /ex/jira/{cloudId} (on any host: the sandbox)."""
    return bool(_GATEWAY_PATH.match(urlsplit(url).path))


def _default_priorities() -> dict[NeutralPriority, str]:
    return cast(dict[NeutralPriority, str], dict(DEFAULT_PRIORITY_MAP))


def _url_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("base_url", message)


def _check_url(value: str, *, allow: bool, gateway_ok: bool) -> str:
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
    path = parts.path.rstrip("/")
    gateway = host.lower() == GATEWAY_HOST
    if gateway and not (gateway_ok and _GATEWAY_PATH.match(path)):
        raise _url_error(
            f"on {GATEWAY_HOST} must be https://{GATEWAY_HOST}/ex/jira/{{cloudId}} with the "
            "site's cloud id (a UUID)"
            if gateway_ok
            else "must be the Jira site, e.g. https://your-site.atlassian.net, not the gateway"
        )
    try:
        # Atlassian's own gateway is a fixed public host: no DNS look-up at validation (the
        # connect-time guard still checks every address).
        check_host(host, port, allow_private=allow, resolve_names=not gateway)
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
    return urlunsplit((scheme, netloc.lower() if gateway else netloc, path, "", ""))


class JiraConfig(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_token",)

    # Descriptions and `json_schema_extra` only shape the published JSON Schema (the API's
    # OpenAPI document); the validators below stay the authority.
    base_url: str = Field(
        description="https://your-site.atlassian.net, or for scoped API tokens the gateway "
        "https://api.atlassian.com/ex/jira/{cloudId}. Must be a public https address.",
        json_schema_extra={"format": "uri"},
    )
    email: EmailAddress = Field(
        description="The Atlassian account the API token belongs to.",
        json_schema_extra={"format": "email"},
    )
    api_token: SecretStr = Field(
        description="The Atlassian API token. Write-only: never returned, stored encrypted."
    )
    project_key: str = Field(
        description="The Jira project issues are filed in, e.g. SEC.",
        json_schema_extra={"pattern": _PROJECT_KEY.pattern},
    )
    issue_type: JiraName = Field(default="Task", description="The issue type name, e.g. Task.")
    priority_map: dict[NeutralPriority, JiraName] = Field(
        default_factory=_default_priorities,
        description="Alert severity -> Jira priority name; unnamed severities keep the default.",
    )
    # Jira field id (customfield_10050) or field name -> alert attribute.
    custom_fields: dict[FieldRef, AlertAttribute] = Field(
        default_factory=dict, description="Jira field id or name -> alert attribute."
    )
    # Jira field id or name -> a static value set on every issue (e.g. a required "Team").
    field_values: dict[FieldRef, FieldValue] = Field(
        default_factory=dict,
        description="Jira field id or name -> a static value set on every issue, e.g. "
        '{"Team": "Blue Team"} for a required field without a default. Shaped by the field\'s '
        "type: options by value, components and versions by name, users by email, numbers, "
        "dates (YYYY-MM-DD), labels, text; a list for multi-value fields. Not for fields "
        "SentinelIQ fills itself (project, issuetype, summary, description, priority, assignee).",
    )
    # The site issue links point at, when base_url is the scoped-token gateway; if unset it is
    # read from serverInfo's baseUrl.
    site_url: str | None = Field(
        default=None,
        description="The site issue links point at when base_url is the gateway; default: the "
        "baseUrl of Jira's server info.",
    )
    timeout_s: float = Field(
        default=15.0, gt=0, le=300, description="Seconds one request to Jira may take."
    )
    lifecycle: LifecyclePolicy = Field(
        default_factory=LifecyclePolicy,
        description="Repeats, reopening, the status map and the storm guard (docs/lifecycle.md).",
    )
    content: TicketContent = Field(
        default_factory=TicketContent,
        description="What the tickets show and hide: ATT&CK labels, defanging, redaction, "
        "brand-protection gating.",
    )
    mirror_comments: bool = Field(
        default=False,
        description="Copy comments people write on a ticket into its alert's notes (never "
        "SentinelIQ's own comments).",
    )

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
        return _check_url(value, allow=cls._allowed(info), gateway_ok=True)

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        url = _check_url(value, allow=cls._allowed(info), gateway_ok=False)
        if urlsplit(url).path:
            raise PydanticCustomError(
                "site_url", "must be the site's address only, e.g. https://your-site.atlassian.net"
            )
        return url

    @field_validator("field_values")
    @classmethod
    def _field_values(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        mapped = {ref.casefold() for ref in info.data.get("custom_fields") or {}}
        for ref in value:
            if ref.casefold() in RESERVED_FIELD_VALUES:
                raise PydanticCustomError(
                    "field_values",
                    "'{ref}' is filled by SentinelIQ from each alert and cannot take a static "
                    "value",
                    {"ref": ref},
                )
            if ref.casefold() in mapped:
                raise PydanticCustomError(
                    "field_values",
                    "'{ref}' is also mapped to an alert attribute in custom_fields; keep one",
                    {"ref": ref},
                )
        return value

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

    @property
    def is_gateway(self) -> bool:
        """base_url is the scoped-token gateway: issue links need the site URL instead."""
        return is_gateway_url(self.base_url)

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
    # Bounds come from the field's own constraint (pydantic's error context).
    "string_too_long": "is too long (at most {max_length} characters)",
    "greater_than": "must be greater than {gt:g}",
    "greater_than_equal": "must be at least {ge:g}",
    "less_than_equal": "must be at most {le:g}",
    "too_long": "has too many entries (at most {max_length})",
}


def format_config_errors(exc: ValidationError) -> list[str]:
    """One line per field, e.g. "base_url: must use https". Never includes input values."""
    by_field: dict[str, list[str]] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = loc[0] if loc else "config"
        if field == "content" and len(loc) > 1:  # sections nest: name the setting itself
            field, loc = ".".join(loc), [".".join(loc)]
        kind = error["type"]
        template = _MESSAGES.get(kind)
        # Only our own templates are filled in; a validator's message may hold braces itself.
        message = error["msg"] if template is None else template.format_map(error.get("ctx", {}))
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
