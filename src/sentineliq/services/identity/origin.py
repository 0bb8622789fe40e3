"""A request's origin (ip, user agent) as audit `details`, recorded with every state change."""

from __future__ import annotations

from collections.abc import Mapping

MAX_USER_AGENT_LENGTH = 512


def audit_origin(ip: str | None, user_agent: str | None) -> Mapping[str, str]:
    """Audit `details` for a request's origin, for callers recording their own entries."""
    origin: dict[str, str] = {}
    if ip:
        origin["ip"] = ip[:64]
    if user_agent:
        origin["user_agent"] = user_agent[:MAX_USER_AGENT_LENGTH]
    return origin
