"""Fixtures for the infrastructure suites: each backend fixture runs in-process and on Redis.

The Redis server is real: one per test session on 127.0.0.1. Every test that uses it gets
its own logical database (flushed afterwards) and its own key namespace.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest

from audotics.gateway.ratelimit import RateLimiter
from audotics.infra.cache.base import Cache
from audotics.infra.cache.memory import MemoryCache
from audotics.infra.cache.redis import RedisCache
from audotics.infra.events.base import EventBus
from audotics.infra.events.memory import MemoryEventBus
from audotics.infra.events.redis_streams import RedisStreamsEventBus
from audotics.infra.queue.base import JobQueue
from audotics.infra.queue.memory import MemoryJobQueue
from audotics.infra.queue.redis_streams import RedisStreamsJobQueue

BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]

# Short timings keep retries and redeliveries fast; the Redis ones still leave room for
# the heartbeat (a third of the visibility timeout) on a loaded machine.
RETRY_BACKOFF_S = 0.05
VISIBILITY_TIMEOUT_S = 0.5
POLL_INTERVAL_S = 0.05
MAX_DELIVERIES = 3


@pytest.fixture
def redis_namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}:"


# --- backends, each on both columns -------------------------------------------------------


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest, redis_namespace: str) -> AsyncIterator[Cache]:
    backend: Cache
    if request.param == "memory":
        backend = MemoryCache(max_entries=10_000, default_ttl_s=300.0)
    else:
        url: str = request.getfixturevalue("redis_url")
        backend = RedisCache(url, default_ttl_s=300.0, namespace=redis_namespace)
    yield backend
    await backend.close()


@pytest.fixture(params=BACKENDS)
async def job_queue(
    request: pytest.FixtureRequest, redis_namespace: str
) -> AsyncIterator[JobQueue]:
    queue: JobQueue
    if request.param == "memory":
        queue = MemoryJobQueue(retry_backoff_s=RETRY_BACKOFF_S)
    else:
        url: str = request.getfixturevalue("redis_url")
        queue = RedisStreamsJobQueue(
            url,
            stream=f"{redis_namespace}jobs",
            visibility_timeout_s=VISIBILITY_TIMEOUT_S,
            retry_backoff_s=RETRY_BACKOFF_S,
            poll_interval_s=POLL_INTERVAL_S,
        )
    yield queue
    await queue.close()


@pytest.fixture(params=BACKENDS)
async def event_bus(
    request: pytest.FixtureRequest, redis_namespace: str
) -> AsyncIterator[EventBus]:
    bus: EventBus
    if request.param == "memory":
        bus = MemoryEventBus(
            visibility_timeout_s=VISIBILITY_TIMEOUT_S, max_deliveries=MAX_DELIVERIES
        )
    else:
        url: str = request.getfixturevalue("redis_url")
        bus = RedisStreamsEventBus(
            url,
            prefix=f"{redis_namespace}events:",
            visibility_timeout_s=VISIBILITY_TIMEOUT_S,
            max_deliveries=MAX_DELIVERIES,
            poll_interval_s=POLL_INTERVAL_S,
        )
    yield bus
    await bus.close()


@pytest.fixture(params=BACKENDS)
async def rate_limiter(
    request: pytest.FixtureRequest, redis_namespace: str
) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        limiter = RateLimiter()
    else:
        url: str = request.getfixturevalue("redis_url")
        limiter = RateLimiter(url, key_prefix=f"{redis_namespace}ratelimit")
    yield limiter
    await limiter.close()


# --- running consumers in the background --------------------------------------------------


class Background:
    """Runs workers/consumers as tasks; stops them at teardown and surfaces their crashes."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []

    def start(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self.tasks.append(task)
        return task

    async def close(self) -> None:
        self.stop.set()
        done, pending = await asyncio.wait(self.tasks, timeout=5.0) if self.tasks else ((), ())
        for task in pending:
            task.cancel()
        failures = [task.exception() for task in done if not task.cancelled() and task.exception()]
        assert not pending, f"{len(pending)} background task(s) ignored the stop signal"
        assert not failures, f"background task(s) crashed: {failures!r}"


@pytest.fixture
async def background() -> AsyncIterator[Background]:
    runner = Background()
    yield runner
    await runner.close()


Condition = Callable[[], object]


async def _eventually(condition: Condition, timeout_s: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or condition}")
        await asyncio.sleep(0.01)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """``await eventually(lambda: cond, timeout_s=5)``: poll until true, fail on timeout."""
    return _eventually
