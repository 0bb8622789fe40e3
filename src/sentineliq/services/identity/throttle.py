"""The sign-in throttle's rules: which counters a sign-in is checked and counted against, and how
long a counter delays further tries. `storage/throttle.py` keeps the counts, in their own table.

Counters are per canonical address, per client IP and per proven browser (device). See
docs/security.md, "Sign-in throttle".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sentineliq.errors import AccessError
from sentineliq.services.identity.tokens import sha256_hex
from sentineliq.settings import LoginThrottleSettings
from sentineliq.storage.throttle import LoginThrottleRepository, ThrottleKey


class TooManyAttempts(AccessError):
    """Sign-in refused without checking the password: too many recent failures (-> 429).

    `retry_after_s` is when the delay ends, whole seconds rounded up (at least 1).
    """

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Attempt:
    """One admitted sign-in: the counters it was checked against, for counting its failure."""

    shared: tuple[ThrottleKey, ...]  # the address, and the client when its IP is known
    device: ThrottleKey | None  # the proven browser's counter, if it offered a proof
    proven: bool  # the device is still exempt (fewer than free_failures of its own)
    now: datetime
    forget_before: datetime


def address_key(canonical: str, *, valid: bool) -> ThrottleKey:
    # Text that is not an address may be a password typed into the wrong box: keep only a digest.
    return ThrottleKey("address", canonical if valid else f"sha256:{sha256_hex(canonical)}")


def device_key(proof: str) -> ThrottleKey:
    """The counter of a browser, from its device id or `session:<token>`; only a digest."""
    return ThrottleKey("device", sha256_hex(proof))


class SignInThrottle:
    def __init__(self, counts: LoginThrottleRepository, policy: LoginThrottleSettings) -> None:
        self._counts = counts
        self._policy = policy

    def admit(
        self,
        canonical: str,
        *,
        valid: bool,
        ip: str | None,
        device: ThrottleKey | None,
        now: datetime,
    ) -> Attempt:
        """The attempt, or TooManyAttempts while the address or the client is delayed. A proven
        browser is exempt from both delays, until it has failed `free_failures` times itself."""
        forget_before = now - timedelta(seconds=self._policy.forget_after_s)
        address = address_key(canonical, valid=valid)
        client = ThrottleKey("client", ip[:64]) if ip else None
        shared = (address,) if client is None else (address, client)
        states = self._counts.get(
            [*shared, *([device] if device else [])], forget_before=forget_before
        )
        device_state = states.get(device) if device is not None else None
        proven = device is not None and (
            device_state is None or device_state.failures < self._policy.free_failures
        )
        waits = [
            state.blocked_until
            for key in (() if proven else shared)
            if (state := states.get(key)) is not None
            and state.blocked_until is not None
            and state.blocked_until > now
        ]
        if waits:
            raise TooManyAttempts(max(1, math.ceil((max(waits) - now).total_seconds())))
        return Attempt(shared, device, proven, now, forget_before)

    def succeeded(self, attempt: Attempt) -> None:
        if attempt.device is not None:
            # Only this browser's own slate is wiped: the address and client counters hold what
            # others did (see docs/security.md).
            self._counts.reset(attempt.device)

    def failed(self, attempt: Attempt) -> None:
        # A proven browser's failures are its own; everyone else's count for the address and
        # the client (and the device, so a device that fails too often loses its exemption).
        device = attempt.device
        counted = [device] if attempt.proven and device is not None else [*attempt.shared]
        if device is not None and not attempt.proven:
            counted.append(device)
        self._counts.record_failure(
            counted,
            now=attempt.now,
            forget_before=attempt.forget_before,
            block=self._blocked_until,
        )
        self._counts.prune(forget_before=attempt.forget_before)

    def _blocked_until(self, key: ThrottleKey, failures: int, now: datetime) -> datetime | None:
        """Progressive delay: after the free failures, first_delay_s, doubling, up to
        max_delay_s. Devices are never delayed; too many failures end their exemption instead."""
        if key.kind == "device":
            return None
        policy = self._policy
        free = policy.client_free_failures if key.kind == "client" else policy.free_failures
        extra = failures - free
        if extra <= 0:
            return None
        delay = min(policy.first_delay_s * 2.0 ** min(extra - 1, 60), policy.max_delay_s)
        return now + timedelta(seconds=delay)
