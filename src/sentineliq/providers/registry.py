"""Provider registry: a provider name -> its config model, config parser and factory.

The storage layer, the API and the CLI look providers up here by the name stored with a
workspace's configuration, so adding a ticket system means registering one ProviderSpec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from sentineliq.providers.base import AssigneeDirectory, TicketProvider
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.ratelimit import SiteRateLimiter

C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True)
class ProviderSpec(Generic[C]):
    name: str
    title: str  # for people, e.g. "Jira Cloud"
    config_model: type[C]
    # (data, allow_private_targets) -> validated config; raises pydantic.ValidationError.
    parse: Callable[[Mapping[str, Any], bool], C]
    # (config, config_version, limiter, assignees) -> a ready provider; does no network I/O. The
    # limiter, when given, is the rate budget its requests must share; assignees is the
    # workspace's email -> account mapping.
    factory: Callable[[C, int, SiteRateLimiter | None, AssigneeDirectory | None], TicketProvider]
    secret_fields: tuple[str, ...] = ()
    # A stored secret is only ever sent where it was entered for: changing any of these fields
    # requires entering the secret again (else an admin could redirect the token to a new host).
    secret_bound_fields: tuple[str, ...] = ()


_REGISTRY: dict[str, ProviderSpec[Any]] = {}


def register(spec: ProviderSpec[Any]) -> None:
    if spec.name in _REGISTRY:
        raise ValueError(f"provider {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec


def get(name: str) -> ProviderSpec[Any]:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"unknown ticket provider {name!r} (known: {known})") from None


def names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def parse_config(name: str, data: Mapping[str, Any], *, allow_private_targets: bool) -> BaseModel:
    config: BaseModel = get(name).parse(data, allow_private_targets)
    return config


def create_provider(
    name: str,
    config: BaseModel,
    *,
    config_version: int = 0,
    limiter: SiteRateLimiter | None = None,
    assignees: AssigneeDirectory | None = None,
) -> TicketProvider:
    spec = get(name)
    if not isinstance(config, spec.config_model):
        raise TypeError(f"{name} needs a {spec.config_model.__name__}, not {type(config).__name__}")
    return spec.factory(config, config_version, limiter, assignees)


def _jira_parse(data: Mapping[str, Any], allow_private_targets: bool) -> JiraConfig:
    return JiraConfig.parse(data, allow_private_targets=allow_private_targets)


def _jira_factory(
    config: JiraConfig,
    config_version: int,
    limiter: SiteRateLimiter | None,
    assignees: AssigneeDirectory | None,
) -> TicketProvider:
    return JiraProvider(config, config_version=config_version, limiter=limiter, assignees=assignees)


register(
    ProviderSpec(
        name="jira",
        title="Jira Cloud",
        config_model=JiraConfig,
        parse=_jira_parse,
        factory=_jira_factory,
        secret_fields=JiraConfig.SECRET_FIELDS,
        secret_bound_fields=("base_url", "email"),
    )
)
