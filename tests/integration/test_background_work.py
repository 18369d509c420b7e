"""Embedded mode runs job handlers inside the API process; `audotics worker` runs them apart."""

from __future__ import annotations

import asyncio

import pytest
from asgi_lifespan import LifespanManager

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.factory import build_infra
from audotics.infra.queue.base import Job
from audotics.workers import BackgroundWork


async def test_embedded_app_consumes_jobs(settings: Settings) -> None:
    infra = build_infra(settings)
    done: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def handler(job: Job) -> None:
        await done.put(job.payload)

    infra.queue.register("test.echo", handler)
    application = create_app(settings, infra=infra)
    try:
        async with LifespanManager(application):
            await infra.queue.enqueue("test.echo", {"n": 7})
            assert await asyncio.wait_for(done.get(), timeout=10) == {"n": 7}
    finally:
        await infra.close()


async def test_background_work_stops_cleanly(settings: Settings) -> None:
    infra = build_infra(settings)
    seen: list[int] = []

    async def handler(job: Job) -> None:
        seen.append(int(job.payload["i"]))

    infra.queue.register("test.count", handler)
    work = BackgroundWork(infra, concurrency=2)
    work.start()
    for i in range(5):
        await infra.queue.enqueue("test.count", {"i": i})
    for _ in range(100):
        if len(seen) == 5:
            break
        await asyncio.sleep(0.05)
    await work.shutdown(timeout_s=5)
    await infra.close()
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert all(task.done() for task in work._tasks)


@pytest.mark.parametrize("queue", ["memory", "redis"])
async def test_an_abandoned_job_unwinds_before_shutdown_returns(
    settings: Settings, queue: str, request: pytest.FixtureRequest
) -> None:
    """A job still running at the timeout is cancelled and its cleanup has run by the time
    shutdown returns, so the caller can close the database under it safely."""
    if queue == "redis":
        settings = settings.model_copy(update={"redis_url": request.getfixturevalue("redis_url")})
    infra = build_infra(settings)
    assert infra.queue.backend == queue
    started, unwound = asyncio.Event(), []

    async def slow(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            unwound.append(job.payload["n"])

    infra.queue.register("test.slow", slow)
    work = BackgroundWork(infra, concurrency=1)
    work.start()
    await infra.queue.enqueue("test.slow", {"n": 1})
    await asyncio.wait_for(started.wait(), timeout=10)
    await work.shutdown(timeout_s=0.1)
    assert unwound == [1]
    assert all(task.done() for task in work._tasks)
    await infra.close()


@pytest.mark.parametrize(
    "flag, redis, expected",
    [(None, None, True), (None, "redis://x", False), (True, "redis://x", True)],
)
def test_embedded_worker_default_follows_redis(
    flag: bool | None, redis: str | None, expected: bool
) -> None:
    settings = Settings(embedded_worker=flag, redis_url=redis)
    assert settings.runs_embedded_worker is expected
