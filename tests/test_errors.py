"""Every exception SentinelIQ defines descends from SentinelIQError (the Jira sandbox aside: it
models Jira, it is not our product code)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import sentineliq
from sentineliq.errors import (
    AccessError,
    ConfigurationError,
    InputError,
    SentinelIQError,
    TicketSystemError,
)
from sentineliq.providers.base import ProviderError
from sentineliq.storage.errors import StorageError

SKIPPED_PACKAGES = ("sentineliq.sandbox", "sentineliq.storage.migrations")
# Classes in files other issue-9 work is rewriting; re-parented when that work is merged. Remove an
# entry then (the last test fails while a listed class is already re-parented).
PENDING: set[str] = set()  # classes known to be off the hierarchy, each with where it belongs


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in pkgutil.walk_packages(sentineliq.__path__, "sentineliq."):
        if module.name.startswith(SKIPPED_PACKAGES):
            continue
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == loaded.__name__
            ):
                found[f"{loaded.__name__}.{name}"] = value
    return found


def test_every_exception_class_descends_from_sentineliq_error() -> None:
    classes = _exception_classes()
    assert "sentineliq.storage.errors.NotFoundError" in classes  # the walk does reach them
    strays = sorted(
        name
        for name, cls in classes.items()
        if not issubclass(cls, SentinelIQError) and name not in PENDING
    )
    assert strays == []


def test_pending_classes_are_still_pending() -> None:
    classes = _exception_classes()
    done = sorted(n for n in PENDING if n in classes and issubclass(classes[n], SentinelIQError))
    assert done == [], "re-parented: remove these from PENDING"


def test_the_branches() -> None:
    branches = (InputError, ConfigurationError, TicketSystemError, StorageError, AccessError)
    for branch in branches:
        assert branch.__bases__ == (SentinelIQError,)
    assert issubclass(ProviderError, TicketSystemError)


def test_older_bases_stay_where_callers_catch_by_them() -> None:
    from sentineliq.providers.net import UnsafeTargetError
    from sentineliq.services.identity import InvalidFieldError
    from sentineliq.services.providers import ProviderConfigError
    from sentineliq.settings import SettingsError

    for cls, branch in (
        (UnsafeTargetError, ConfigurationError),
        (InvalidFieldError, InputError),
        (ProviderConfigError, ConfigurationError),
        (SettingsError, ConfigurationError),
    ):
        assert issubclass(cls, branch)
        assert issubclass(cls, ValueError)  # pydantic validators and older callers catch this
