"""Request-body validation against Atlassian's published OpenAPI document (spec/SOURCES.md).

The 2.4 MB document is loaded once, lazily, on the first request that needs it. Only bodies are
validated here: security is not (the spec allows anonymous access, see SOURCES.md), and query
parameters are parsed by the handlers, which answer with Jira's own messages.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from sentineliq.sandbox.jira.errors import JiraError

SPEC_FILE = "spec/jira-cloud-v3.openapi.json"
# The spec's only server; matching it keeps openapi-core's server lookup trivial.
_SPEC_HOST = "https://your-domain.atlassian.net"

_lock = threading.Lock()
_openapi: Any = None


def load_spec() -> dict[str, Any]:
    text = files("sentineliq.sandbox.jira").joinpath(SPEC_FILE).read_text("utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


def _get_openapi() -> Any:
    global _openapi
    if _openapi is None:
        from openapi_core import Config, OpenAPI
        from openapi_core.validation.request.validators import V30RequestBodyValidator

        # Spec validation is off: four parameter defaults are not in their enums (SOURCES.md).
        # The body-only validator also skips security, whose OAuth2 scheme openapi-core warns about.
        config = Config(
            spec_validator_cls=None,  # type: ignore[arg-type]  # documented; typed too narrowly
            request_validator_cls=V30RequestBodyValidator,
        )
        _openapi = OpenAPI.from_dict(load_spec(), config=config)
    return _openapi


@dataclass
class _Request:
    """openapi-core's Request + SupportsPathPattern protocols, for one already-routed request."""

    method: str
    path: str
    path_pattern: str
    body: bytes | None
    content_type: str
    path_params: Mapping[str, str]
    host_url: str = _SPEC_HOST
    parameters: Any = field(init=False)

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters

        self.parameters = RequestParameters(path=dict(self.path_params))


def validate_body(
    method: str,
    path: str,
    path_pattern: str,
    path_params: Mapping[str, str],
    body: bytes,
) -> None:
    """Raise JiraError(400) when the JSON body breaks the operation's request schema."""
    from openapi_core.validation.exceptions import ValidationError

    request = _Request(
        method.lower(), path, path_pattern, body or None, "application/json", path_params
    )
    # openapi-core's lazily built caches are not documented as thread-safe; a validation takes
    # a few milliseconds, so serialising them costs nothing that matters here.
    with _lock:
        openapi = _get_openapi()
        try:
            openapi.validate_request(request)
        except ValidationError as exc:
            raise JiraError(400, _messages(exc)) from None


def _messages(exc: Exception) -> list[str]:
    prefix = "Request body does not match the Jira Cloud REST API schema"
    schema_errors = getattr(exc.__cause__, "schema_errors", None) or ()
    if not schema_errors:
        return [f"{prefix}: {exc}"]
    out = []
    for err in schema_errors:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        out.append(f"{prefix}: body{where}: {err.message}")
    return out
