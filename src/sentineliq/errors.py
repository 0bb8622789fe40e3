"""The root of every error SentinelIQ raises on purpose, and its branches.

No I/O and no imports, so every layer can use it. Each face maps the branches in one table:
the CLI to exit codes (`cli/app.py`), the API to problem types (`web/api/problems.py`), the
panel to error pages (`web/admin/errors.py`). A class keeps its older base (e.g. ValueError) as a
second base where callers catch it by that.

    SentinelIQError
      InputError          what a user or sender sent is refused (names the field)
      ConfigurationError  settings or a provider's configuration cannot be used
      TicketSystemError   the ticket system, or the road to it, failed (providers.ProviderError)
      StorageError        storage/errors.py: not found, already exists, lease lost, state, secrets
      AccessError         who is calling may not do this (not visible, denied, throttled)
"""

from __future__ import annotations


class SentinelIQError(Exception):
    """Base class of every exception SentinelIQ defines (the Jira sandbox aside)."""


class InputError(SentinelIQError):
    """Input from a user or a sender is refused; the message is safe to show them."""


class ConfigurationError(SentinelIQError):
    """Instance settings or a provider's configuration cannot be used; the message names it."""


class TicketSystemError(SentinelIQError):
    """Talking to a ticket system failed: refused, unreachable, rate limited or not allowed."""


class AccessError(SentinelIQError):
    """The caller may not do this: the workspace is not theirs, the role lacks the permission,
    or too many sign-ins failed."""
