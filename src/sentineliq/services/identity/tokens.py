"""Bearer secrets at rest, shared by sessions, API keys and the sign-in throttle.

Session cookies, API keys and device ids are random enough that a SHA-256 digest suffices: only
the digest is stored, never the secret.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

# last_seen_at / last_used_at are written at most this often: one write per request would turn
# every read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
