"""The storage layer's exception hierarchy. Messages never contain secrets."""

from __future__ import annotations

from sentineliq.errors import SentinelIQError


class StorageError(SentinelIQError):
    """Base class of every error raised on purpose by `sentineliq.storage`."""


class NotFoundError(StorageError):
    """The workspace, alert, provider or delivery asked for does not exist."""


class AlreadyExistsError(StorageError):
    """A row with the same unique identity exists already (e.g. a workspace name)."""


class LeaseLostError(StorageError):
    """The delivery is no longer leased to this worker: it expired and was claimed again."""


class InvalidStateError(StorageError):
    """The row is not in a state that allows the operation (e.g. requeueing a delivered item)."""
