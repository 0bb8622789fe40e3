"""Metadata cache: TTLs per kind on a fake clock, negative entries, scopes, invalidation."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.metadata import (
    Kind,
    MetadataCache,
    config_fingerprint,
    shared_cache,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Loader:
    def __init__(self, value: Any = "v") -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> MetadataCache:
    return MetadataCache(clock=clock)


@pytest.mark.parametrize(
    ("kind", "ttl"),
    [
        (Kind.PROJECT, 15 * 60),
        (Kind.ISSUE_TYPES, 30 * 60),
        (Kind.CREATE_FIELDS, 30 * 60),
        (Kind.FIELDS, 30 * 60),
        (Kind.USER, 60 * 60),
    ],
)
def test_ttl_per_kind(cache: MetadataCache, clock: FakeClock, kind: Kind, ttl: int) -> None:
    scope = cache.scope("https://a", "fp")
    load = Loader()
    assert scope.get_or_load(kind, "k", load) == "v"
    clock.advance(ttl - 1)
    scope.get_or_load(kind, "k", load)
    assert load.calls == 1
    clock.advance(1)
    scope.get_or_load(kind, "k", load)
    assert load.calls == 2
    assert (scope.hits, scope.misses) == (1, 2)


def test_user_not_found_is_cached_briefly(cache: MetadataCache, clock: FakeClock) -> None:
    scope = cache.scope("https://a", "fp")
    nobody = Loader(None)
    scope.get_or_load(Kind.USER, "x@y", nobody, is_negative=lambda v: v is None)
    clock.advance(5 * 60 - 1)
    scope.get_or_load(Kind.USER, "x@y", nobody, is_negative=lambda v: v is None)
    assert nobody.calls == 1
    clock.advance(1)
    scope.get_or_load(Kind.USER, "x@y", nobody, is_negative=lambda v: v is None)
    assert nobody.calls == 2


def test_failures_are_not_cached(cache: MetadataCache) -> None:
    scope = cache.scope("https://a", "fp")
    calls = 0

    def failing() -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("jira down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            scope.get_or_load(Kind.PROJECT, "SEC", failing)
    assert calls == 2
    assert scope.peek(Kind.PROJECT, "SEC") == (False, None)


def test_keys_and_kinds_are_separate(cache: MetadataCache) -> None:
    scope = cache.scope("https://a", "fp")
    scope.get_or_load(Kind.PROJECT, "SEC", lambda: 1)
    assert scope.get_or_load(Kind.PROJECT, "OPS", lambda: 2) == 2
    assert scope.get_or_load(Kind.FIELDS, "SEC", lambda: 3) == 3


def test_invalidate(cache: MetadataCache) -> None:
    scope = cache.scope("https://a", "fp")
    scope.put(Kind.PROJECT, "SEC", 1)
    scope.put(Kind.FIELDS, "all", 2)
    scope.invalidate(Kind.PROJECT)
    assert scope.peek(Kind.PROJECT, "SEC") == (False, None)
    assert scope.peek(Kind.FIELDS, "all") == (True, 2)
    scope.invalidate()
    assert scope.peek(Kind.FIELDS, "all") == (False, None)
    scope.put(Kind.FIELDS, "all", 3)
    cache.invalidate("https://a")
    assert cache.scope("https://a", "fp").peek(Kind.FIELDS, "all") == (False, None)


def config(**overrides: Any) -> JiraConfig:
    data: dict[str, Any] = {
        "base_url": "https://8.8.8.8",
        "email": "sandbox@sentineliq.test",
        "api_token": "token-a",
        "project_key": "SEC",
    }
    data.update(overrides)
    return JiraConfig.parse(data)


def test_fingerprint_changes_with_config_and_version() -> None:
    base = config_fingerprint(config(), 1)
    assert config_fingerprint(config(), 1) == base
    assert config_fingerprint(config(), 2) != base
    assert config_fingerprint(config(api_token="token-b"), 1) != base
    assert config_fingerprint(config(project_key="OPS"), 1) != base
    assert config_fingerprint(config(priority_map={"low": "Lowest"}), 1) != base
    assert "token-a" not in base


def test_a_changed_config_gets_a_fresh_scope(cache: MetadataCache) -> None:
    old = cache.scope("https://a", config_fingerprint(config(), 1))
    old.put(Kind.CREATE_FIELDS, ("SEC", "10001"), ["old screen"])
    new = cache.scope("https://a", config_fingerprint(config(), 2))
    assert new.peek(Kind.CREATE_FIELDS, ("SEC", "10001")) == (False, None)
    again = cache.scope("https://a", config_fingerprint(config(), 1))
    assert again is old  # the same configuration shares one scope


def test_scopes_are_bounded(clock: FakeClock) -> None:
    cache = MetadataCache(clock=clock, max_scopes=2)
    first = cache.scope("https://a", "1")
    cache.scope("https://a", "2")
    cache.scope("https://a", "1")  # touch: "2" is now the least recently used
    cache.scope("https://a", "3")
    assert len(cache) == 2
    assert cache.scope("https://a", "1") is first


def test_concurrent_misses_load_once(cache: MetadataCache) -> None:
    scope = cache.scope("https://a", "fp")
    started = threading.Event()
    release = threading.Event()
    calls = 0

    def slow() -> str:
        nonlocal calls
        calls += 1
        started.set()
        assert release.wait(10)
        return "loaded"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(scope.get_or_load(Kind.FIELDS, 1, slow)))
    first.start()
    assert started.wait(10)
    others = [
        threading.Thread(target=lambda: results.append(scope.get_or_load(Kind.FIELDS, 1, slow)))
        for _ in range(4)
    ]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == ["loaded"] * 5
    assert calls == 1


def test_shared_cache_is_process_wide() -> None:
    assert shared_cache() is shared_cache()
