"""The input formats by name: the name is the path segment (`.../inputs/{name}`) and the key of
the workspace's settings for the format."""

from __future__ import annotations

from typing import Any

from sentineliq.inputs.alertmanager import AlertmanagerAdapter
from sentineliq.inputs.base import InputAdapter
from sentineliq.inputs.ocsf import OcsfAdapter

ADAPTERS: dict[str, InputAdapter[Any]] = {
    adapter.name: adapter for adapter in (AlertmanagerAdapter(), OcsfAdapter())
}


def adapter(name: str) -> InputAdapter[Any]:
    """KeyError for a name no adapter has."""
    return ADAPTERS[name]
