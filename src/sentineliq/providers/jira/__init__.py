"""Jira Cloud provider: configuration, HTTP client, metadata cache, field mapping, provider."""

from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig, format_config_errors
from sentineliq.providers.jira.mapping import Dropped, idempotency_label
from sentineliq.providers.jira.metadata import MetadataCache, Ttls, shared_cache
from sentineliq.providers.jira.provider import JiraCreatedTicket, JiraProvider
from sentineliq.providers.jira.rateheaders import RateLimitSnapshot

__all__ = [
    "Dropped",
    "JiraClient",
    "JiraConfig",
    "JiraCreatedTicket",
    "JiraProvider",
    "MetadataCache",
    "RateLimitSnapshot",
    "Ttls",
    "format_config_errors",
    "idempotency_label",
    "shared_cache",
]
