"""The per-site rate budget: pacing, Retry-After, backoff, learning from headers, sharing.

Timing is checked on an injected clock whose `sleep` moves time, so nothing depends on how fast
this machine is. Sharing is checked with separate `Database` objects and real processes on the
same database; the client is checked over real HTTP against the sandbox's rate limit.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import event

from sentineliq.providers import registry
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.metadata import MetadataCache
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.ratelimit import (
    BudgetPolicy,
    LocalRateLimiter,
    RateLimitDeadline,
    RateSignal,
    site_key,
)
from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.storage import Database, LeaseLostError, WorkspaceRepository, upgrade_to_head
from sentineliq.storage.ratebudget import DatabaseRateLimiter

SITE = "https://acme.atlassian.net"
OTHER = "https://other.atlassian.net"


class FakeTime:
    """A clock that moves only when the code under test sleeps. Thread-safe."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class MaxRandom(random.Random):
    """Jitter pinned to its upper bound, so the backoff ceiling itself is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def ok(**headers: Any) -> RateSignal:
    return RateSignal(
        status=200,
        retry_after=None,
        limit=headers.get("limit"),
        remaining=headers.get("remaining"),
        near_limit=headers.get("near_limit", False),
    )


def limited(retry_after: float | None, status: int = 429) -> RateSignal:
    return RateSignal(status=status, retry_after=retry_after, limit=None, remaining=None)


def grant_times(
    limiter: LocalRateLimiter, time: FakeTime, count: int, site: str = SITE
) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire(site)
        times.append(round(time() - 1_000.0, 6))
    return times


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def local(fake_time: FakeTime, **kwargs: Any) -> LocalRateLimiter:
    return LocalRateLimiter(clock=fake_time, sleep=fake_time.sleep, **kwargs)


# -- the bucket ---------------------------------------------------------------------------------


def test_burst_then_steady_pace(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    assert grant_times(limiter, fake_time, 5) == [0.0, 0.0, 0.1, 0.2, 0.3]


def test_idle_time_refills_only_up_to_the_burst(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    grant_times(limiter, fake_time, 2)
    fake_time.advance(60.0)
    assert grant_times(limiter, fake_time, 4) == [60.0, 60.0, 60.1, 60.2]


def test_default_burst_is_a_fifth_of_a_second_and_at_least_one() -> None:
    assert BudgetPolicy(10.0).burst_size == 2.0
    assert BudgetPolicy(100.0).burst_size == 20.0
    assert BudgetPolicy(2.0).burst_size == 1.0


def test_sites_have_separate_budgets(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=1.0, burst=1)
    limiter.acquire(SITE)
    limiter.acquire(OTHER)
    assert fake_time.slept == []
    limiter.acquire(SITE)
    assert fake_time.slept == [1.0]


def test_threads_share_one_budget(fake_time: FakeTime) -> None:
    # The clock only moves when someone sleeps: with 3 tokens, exactly 3 of 8 threads get one
    # before the deadline (now), however the threads interleave.
    limiter = local(fake_time, rate=1.0, burst=3)
    granted, refused = [], []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait(timeout=10)
        try:
            limiter.acquire(SITE, deadline=fake_time())
            granted.append(1)
        except RateLimitDeadline:
            refused.append(1)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert (len(granted), len(refused)) == (3, 5)


def test_deadline_refuses_without_sleeping(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=1.0, burst=1)
    limiter.acquire(SITE)
    with pytest.raises(RateLimitDeadline) as caught:
        limiter.acquire(SITE, deadline=fake_time() + 0.5)
    assert caught.value.wait_s == pytest.approx(1.0)
    assert caught.value.site == SITE
    assert fake_time.slept == []
    limiter.acquire(SITE, deadline=fake_time() + 1.0)  # exactly reachable: waits and goes
    assert fake_time.slept == [1.0]


# -- adapting to answers ------------------------------------------------------------------------


def test_retry_after_blocks_the_site_then_one_request_goes(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, limited(retry_after=3.0))
    limiter.acquire(OTHER)  # other sites are not blocked
    assert fake_time() == 1_000.0
    # One request when the block ends, then the pace the 429 halved (10/s -> 5/s).
    assert grant_times(limiter, fake_time, 2) == [3.0, 3.2]


def test_retry_after_only_extends_a_block(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, limited(retry_after=5.0))
    limiter.observe(SITE, limited(retry_after=1.0))  # a late answer to an earlier request
    assert grant_times(limiter, fake_time, 1) == [5.0]


def test_503_with_retry_after_blocks_and_without_does_not(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, limited(retry_after=None, status=503))
    assert grant_times(limiter, fake_time, 1) == [0.0]
    limiter.observe(SITE, limited(retry_after=2.0, status=503))
    assert grant_times(limiter, fake_time, 1) == [2.0]
    state = limiter.state(SITE)
    assert state is not None
    assert state.learned_rate == 10.0  # a 503 is not a rate signal: the pace is unchanged


def test_429_without_retry_after_backs_off_exponentially(fake_time: FakeTime) -> None:
    limiter = local(
        fake_time, rate=10.0, burst=1, backoff_base_s=2.0, backoff_cap_s=10.0, rng=MaxRandom()
    )

    def backoff() -> float:
        start = fake_time()
        limiter.observe(SITE, limited(retry_after=None))
        state = limiter.state(SITE)
        assert state is not None
        limiter.acquire(SITE)
        assert fake_time() >= state.blocked_until  # nothing goes before the backoff ends
        return state.blocked_until - start

    assert [backoff() for _ in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]  # base * 2^(n-1), capped
    limiter.observe(SITE, ok())  # a success ends the streak
    assert backoff() == 2.0


def test_backoff_jitter_is_full_jitter() -> None:
    policy = BudgetPolicy(10.0, backoff_base_s=2.0, backoff_cap_s=600.0)
    state = policy.initial(0.0)
    rng = random.Random(7)
    waits = []
    for _ in range(200):
        blocked = policy.observe(state, limited(retry_after=None), 0.0, rng)
        waits.append(blocked.blocked_until)
    assert all(0.0 <= wait <= 2.0 for wait in waits)
    assert min(waits) < 0.2
    assert max(waits) > 1.8


def test_limit_header_lowers_the_pace_and_the_burst(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, ok(limit=4.0))
    # The burst scales with the rate (2 * 4/10 -> at least 1): one at once, then every 0.25 s.
    assert grant_times(limiter, fake_time, 4) == [0.0, 0.25, 0.5, 0.75]


def test_limit_header_never_raises_the_configured_rate(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=1)
    limiter.observe(SITE, ok(limit=350.0))
    assert grant_times(limiter, fake_time, 3) == [0.0, 0.1, 0.2]


def test_remaining_caps_the_tokens_on_hand(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, ok(remaining=0.0))
    assert grant_times(limiter, fake_time, 2) == [0.1, 0.2]


def test_near_limit_spends_the_burst_but_keeps_the_pace(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=2)
    limiter.observe(SITE, ok(near_limit=True))
    assert grant_times(limiter, fake_time, 3) == [0.1, 0.2, 0.3]
    state = limiter.state(SITE)
    assert state is not None
    assert state.learned_rate == 10.0


def test_429_halves_the_rate_which_recovers_additively(fake_time: FakeTime) -> None:
    limiter = local(fake_time, rate=10.0, burst=1, recovery_per_s=1.0)
    limiter.observe(SITE, ok(limit=8.0))
    limiter.observe(SITE, limited(retry_after=1.0))
    limiter.observe(SITE, limited(retry_after=1.0))  # same congestion, reported again: once only
    state = limiter.state(SITE)
    assert state is not None
    assert state.learned_rate == pytest.approx(4.0)  # half of the pace it was going at
    # Nothing refills or recovers during the block; then one request, then the halved pace.
    assert grant_times(limiter, fake_time, 2) == [1.0, 1.25]
    fake_time.advance(2.0)
    limiter.acquire(SITE)
    state = limiter.state(SITE)
    assert state is not None
    assert state.learned_rate == pytest.approx(4.0 + 1.0 * 2.25)
    fake_time.advance(60.0)
    limiter.acquire(SITE)
    state = limiter.state(SITE)
    assert state is not None
    assert state.learned_rate == 10.0  # never above the configured rate
    assert limiter.policy.effective_rate(state) == 8.0  # nor above the site's limit


_MOMENTS = st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5])


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            _MOMENTS,
            st.sampled_from(["take", "take", "take", "ok", "near", "low", "limit", "429", "429?"]),
            _MOMENTS,
        ),
        max_size=40,
    )
)
@example(events=[(0.0, "take", 0.0), (0.0, "429", 0.05), (0.05, "take", 0.0)])
def test_policy_never_exceeds_its_budget_nor_a_block(
    events: list[tuple[float, str, float]],
) -> None:
    """Whatever the answers: grants in any window stay within burst + rate * window, and no
    grant falls inside an announced block."""
    policy = BudgetPolicy(5.0, burst=1)
    rng = random.Random(1)
    now, state = 0.0, policy.initial(0.0)
    grants: list[float] = []
    blocks: list[tuple[float, float]] = []
    for gap, kind, value in events:
        now += gap
        if kind == "take":
            state, wait = policy.take(state, now)
            if wait == 0.0:
                grants.append(now)
            continue
        signal = {
            "ok": ok(),
            "near": ok(near_limit=True),
            "low": ok(remaining=round(value)),
            "limit": ok(limit=value + 0.5),
            "429": limited(retry_after=value),
            "429?": limited(retry_after=None),
        }[kind]
        state = policy.observe(state, signal, now, rng)
        if signal.status == 429:
            blocks.append((now, state.blocked_until))
    for i, start in enumerate(grants):
        for j in range(i, len(grants)):
            assert j - i + 1 <= 1 + 5.0 * (grants[j] - start) + 1e-6
    for grant in grants:
        assert not any(start < grant < end - 1e-9 for start, end in blocks)


def test_site_key_normalises_the_base_url() -> None:
    assert site_key("https://ACME.atlassian.net/") == "https://acme.atlassian.net"
    assert site_key("https://acme.atlassian.net:443") == "https://acme.atlassian.net"
    assert site_key("http://127.0.0.1:8080/jira/") == "http://127.0.0.1:8080/jira"
    assert site_key("https://user:secret@acme.atlassian.net") == "https://acme.atlassian.net"
    assert site_key("http://[::1]:9000") == "http://[::1]:9000"


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        BudgetPolicy(0.0)
    with pytest.raises(ValueError, match="burst"):
        BudgetPolicy(10.0, burst=0.5)
    with pytest.raises(ValueError, match="backoff"):
        BudgetPolicy(10.0, backoff_base_s=20.0, backoff_cap_s=10.0)


# -- shared through the database ----------------------------------------------------------------


@pytest.fixture
def second_database(database: Database) -> Iterator[Database]:
    """Another Database (its own engine and connections) on the same database."""
    other = Database(database.url)
    try:
        yield other
    finally:
        other.dispose()


def test_database_budget_is_shared_between_database_instances(
    database: Database, second_database: Database, fake_time: FakeTime
) -> None:
    first = DatabaseRateLimiter(database, 10.0, 2, clock=fake_time, sleep=fake_time.sleep)
    second = DatabaseRateLimiter(second_database, 10.0, 2, clock=fake_time, sleep=fake_time.sleep)
    first.acquire(SITE)
    second.acquire(SITE)
    first.acquire(SITE)  # the burst of 2 is spent by both together
    assert fake_time() == pytest.approx(1_000.1)

    first.observe(SITE, limited(retry_after=5.0))
    start = fake_time()
    second.acquire(SITE)
    assert fake_time() - start == pytest.approx(5.0)
    with pytest.raises(RateLimitDeadline):
        first.acquire(SITE, deadline=fake_time())  # the one request after the block is taken

    second.observe(SITE, ok(limit=4.0))
    state = first.state(SITE)
    assert state is not None
    assert state.limit_rate == 4.0
    assert state.learned_rate == pytest.approx(5.0, abs=0.1)  # halved by the 429


def test_database_budget_takes_the_token_and_runs_then_in_one_transaction(
    database: Database, fake_time: FakeTime
) -> None:
    # The worker's "possibly sent" marker rides in the token's transaction: both commit, or
    # (the lease was lost, nothing is sent) neither does.
    limiter = DatabaseRateLimiter(database, 10.0, 2, clock=fake_time, sleep=fake_time.sleep)
    workspaces = WorkspaceRepository(database)
    began: list[object] = []

    def count(connection: object) -> None:
        began.append(connection)

    event.listen(database.engine, "begin", count)

    def refused() -> None:
        workspaces.create("written inside, then refused")
        raise LeaseLostError("another worker holds the lease")

    with pytest.raises(LeaseLostError):
        limiter.acquire(SITE, then=refused)
    assert workspaces.list() == []  # rolled back with the token
    limiter.acquire(SITE, then=lambda: workspaces.create("kept"))
    limiter.acquire(SITE, then=lambda: workspaces.create("kept too"))
    event.remove(database.engine, "begin", count)
    assert len(began) == 3 + 1  # one per acquire (+ the list() above)
    assert sorted(w.name for w in workspaces.list()) == ["kept", "kept too"]
    # Only the two that went spent the burst of 2: the refused one's token was not taken.
    assert fake_time.slept == []
    with pytest.raises(RateLimitDeadline):
        limiter.acquire(SITE, deadline=fake_time())


def test_database_budget_first_use_is_safe_under_concurrency(
    database: Database, fake_time: FakeTime
) -> None:
    # Six threads, each with its own Database, race to create and use a new site's row: the
    # clock stands still, so exactly the burst of 3 is granted.
    databases = [Database(database.url) for _ in range(6)]
    limiters = [DatabaseRateLimiter(db, 1.0, 3, clock=fake_time) for db in databases]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(limiters))

    def run(limiter: DatabaseRateLimiter) -> None:
        try:
            barrier.wait(timeout=30)
            limiter.acquire(SITE, deadline=fake_time())
            outcomes.append("granted")
        except RateLimitDeadline:
            outcomes.append("refused")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(limiter,)) for limiter in limiters]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for db in databases:
            db.dispose()
    assert errors == []
    assert sorted(outcomes) == ["granted"] * 3 + ["refused"] * 3


_PROCESS_SCRIPT = """
import json, sys
from sentineliq.ratelimit import RateLimitDeadline, RateSignal
from sentineliq.storage import Database
from sentineliq.storage.ratebudget import DatabaseRateLimiter

url, site, action = sys.argv[1], sys.argv[2], sys.argv[3]
frozen = 5_000.0  # every process reads the same, unmoving time
with Database(url) as db:
    limiter = DatabaseRateLimiter(db, 1.0, 4, clock=lambda: frozen)
    if action == "block":
        limiter.observe(site, RateSignal(429, 30.0, None, 0.0))
        print(json.dumps("blocked"))
        sys.exit(0)
    outcomes = []
    for _ in range(3):
        try:
            limiter.acquire(site, deadline=frozen)
            outcomes.append(0.0)
        except RateLimitDeadline as exc:
            outcomes.append(round(exc.wait_s, 3))
    print(json.dumps(outcomes))
"""


def _run_processes(url: str, action: str, count: int) -> list[Any]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, url, SITE, action],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_database_budget_is_shared_between_processes(database_url: str) -> None:
    upgrade_to_head(database_url)
    outcomes = [w for result in _run_processes(database_url, "take", 3) for w in result]
    # 3 processes x 3 attempts at one frozen instant: the burst of 4 is granted exactly once.
    assert sorted(outcomes) == [0.0] * 4 + [1.0] * 5
    assert _run_processes(database_url, "block", 1) == ["blocked"]
    after_block = _run_processes(database_url, "take", 1)[0]
    assert after_block == [30.0, 30.0, 30.0]


# -- the client against the sandbox -------------------------------------------------------------


def _client(sandbox: JiraSandbox, limiter: Any, **kwargs: Any) -> JiraClient:
    return JiraClient(
        sandbox.url,
        ADMIN_EMAIL,
        SecretStr(ADMIN_TOKEN),
        allow_private_targets=True,
        timeout_s=10.0,
        limiter=limiter,
        **kwargs,
    )


def test_client_learns_the_sandbox_limit_and_never_gets_429(sandbox: JiraSandbox) -> None:
    # Sandbox: 5 requests/s with a bucket of 5. Configured 10/s with a burst of 2, the limiter
    # sends 1 request at 10/s, learns X-RateLimit-Limit: 5, and from then on its bucket
    # (capacity 1, refilled at 5/s) can never outrun the sandbox's (capacity 5, same rate).
    sandbox.set_rate_limit(5)
    limiter = LocalRateLimiter(rate=10.0, burst=2)
    with _client(sandbox, limiter) as client:
        for _ in range(12):
            client.myself()
        assert client.rate_limit is not None
        assert client.rate_limit.limit == 5.0
    state = limiter.state(site_key(sandbox.url))
    assert state is not None
    assert state.limit_rate == 5.0
    statuses = [r.status for r in sandbox.requests()]
    assert statuses == [200] * 12
    assert sandbox.violations() == []
    # Paced (both clocks are time.monotonic): requests 3..12 each needed a token refilled at
    # 5/s, and request 3 was only sent after request 2 had arrived.
    arrivals = [r.at for r in sandbox.requests()]
    assert arrivals[-1] - arrivals[1] >= 9 / 5.0 - 1e-6


def test_client_honours_retry_after_and_reports_every_answer(sandbox: JiraSandbox) -> None:
    sandbox.set_fault("error", status=429, count=1, retry_after=1)
    limiter = LocalRateLimiter(rate=50.0)
    with _client(sandbox, limiter) as client:
        with pytest.raises(ProviderError) as caught:
            client.myself()
        assert caught.value.kind is ErrorKind.RATE_LIMITED  # classified as before
        assert caught.value.retry_after == 1.0
        client.myself()  # waits out the Retry-After first
        sandbox.set_fault("error", status=503, count=1, retry_after=1)
        with pytest.raises(ProviderError) as unavailable:
            client.myself()
        assert unavailable.value.kind is ErrorKind.UNAVAILABLE
        client.myself()
    assert [r.status for r in sandbox.requests()] == [429, 200, 503, 200]
    assert sandbox.violations() == []


def test_client_fails_fast_when_the_budget_is_blocked_past_its_wait(
    sandbox: JiraSandbox,
) -> None:
    limiter = LocalRateLimiter(rate=10.0)
    with _client(sandbox, limiter, max_rate_wait_s=0.5) as client:
        limiter.observe(client.site, limited(retry_after=120.0))
        with pytest.raises(ProviderError) as caught:
            client.myself()
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == pytest.approx(120.0, abs=1.0)
    assert "nothing was sent" in str(error)
    assert sandbox.requests() == []


def test_database_limiter_paces_a_client_and_learns_into_the_row(
    sandbox: JiraSandbox, database: Database, second_database: Database
) -> None:
    sandbox.set_rate_limit(4, burst=4)
    limiter = DatabaseRateLimiter(database, rate=10.0, burst=2)
    with _client(sandbox, limiter) as client:
        for _ in range(6):
            client.myself()
        state = DatabaseRateLimiter(second_database).state(client.site)
    assert state is not None
    assert state.limit_rate == 4.0
    assert [r.status for r in sandbox.requests()] == [200] * 6
    assert sandbox.violations() == []


def test_provider_and_registry_pass_the_limiter_to_the_client(sandbox: JiraSandbox) -> None:
    config = JiraConfig.parse(
        {
            "base_url": sandbox.url,
            "email": ADMIN_EMAIL,
            "api_token": ADMIN_TOKEN,
            "project_key": "SEC",
        },
        allow_private_targets=True,
    )
    limiter = LocalRateLimiter(rate=10.0)
    limiter.observe(site_key(sandbox.url), limited(retry_after=600.0))
    made = [
        JiraProvider(config, limiter=limiter, cache=MetadataCache()),
        registry.create_provider("jira", config, limiter=limiter),
    ]
    for provider in made:
        assert isinstance(provider, JiraProvider)
        provider.client.max_rate_wait_s = 0.1
        try:
            with pytest.raises(ProviderError) as caught:
                provider.client.myself()
            assert caught.value.kind is ErrorKind.RATE_LIMITED
        finally:
            provider.close()
    assert sandbox.requests() == []
    with pytest.raises(ValueError, match="client_factory"):
        JiraProvider(config, limiter=limiter, client_factory=JiraClient.from_config)


def test_sandbox_limit_header_is_the_rate_in_requests_per_second(sandbox: JiraSandbox) -> None:
    with _client(sandbox, None) as client:
        sandbox.set_rate_limit(5, burst=2)
        client.myself()
        assert client.rate_limit is not None
        assert (client.rate_limit.limit, client.rate_limit.remaining) == (5.0, 1)
        sandbox.set_rate_limit(2.5, burst=3)
        client.myself()
        assert client.rate_limit.limit == 2.5


def test_database_limiter_never_loses_an_answer_to_a_database_outage() -> None:
    # observe() runs after the site answered (maybe with a created issue): an unreachable
    # database must not turn that answer into an exception the worker would mistake for failure.
    unreachable = Database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    try:
        limiter = DatabaseRateLimiter(unreachable, 1.0, 4)
        limiter.observe(SITE, RateSignal(201, None, None, None))
        limiter.observe(SITE, RateSignal(429, 30.0, None, 0.0))
    finally:
        unreachable.dispose()
