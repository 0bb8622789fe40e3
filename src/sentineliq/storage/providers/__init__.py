"""Ticket-provider configuration per workspace, with secret fields encrypted at rest.

| module | concept |
|---|---|
| `records.py` | `ProviderRecord` and the stored config's secrets: encrypted, masked, revealed |
| `pause.py` | pause after an auth failure, resume, and the pause credited to waiting deliveries |
| `repository.py` | `ProviderRepository`: save, read, delete, enable, pause, resume, rotate keys |

Callers import from here; `pause_provider` pauses inside a caller's transaction (the outbox).
"""

from sentineliq.storage.providers.pause import MAX_REASON_LENGTH, pause_provider
from sentineliq.storage.providers.records import ENCRYPTED, ProviderRecord, masked
from sentineliq.storage.providers.repository import ProviderRepository

__all__ = [
    "ENCRYPTED",
    "MAX_REASON_LENGTH",
    "ProviderRecord",
    "ProviderRepository",
    "masked",
    "pause_provider",
]
