"""The Jira provider configuration the benches use: the sandbox's, with the storm guard lifted.

A bench queues hundreds of new tickets at once on purpose; with the guard's default (50 in 10
minutes) it would measure the guard holding them, not the path it is about.
"""

from __future__ import annotations

from sentineliq.demo.run import sandbox_provider_config


def bench_provider_config(base_url: str) -> dict[str, object]:
    return {**sandbox_provider_config(base_url), "lifecycle": {"storm_threshold": 100_000}}
