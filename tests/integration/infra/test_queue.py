"""The job queue contract, in-process and on Redis Streams."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from audotics.config import Settings
from audotics.infra.factory import build_queue
from audotics.infra.queue.base import Job, JobQueue
from audotics.infra.queue.memory import MemoryJobQueue
from audotics.infra.queue.redis_streams import RedisStreamsJobQueue
from tests.integration.infra.conftest import (
    POLL_INTERVAL_S,
    RETRY_BACKOFF_S,
    VISIBILITY_TIMEOUT_S,
    Background,
)

Eventually = Callable[..., Awaitable[None]]


async def test_enqueued_job_reaches_its_handler(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    seen: list[Job] = []

    async def analyse(job: Job) -> None:
        seen.append(job)

    job_queue.register("analyse-track", analyse)
    # Enqueued before any worker exists: must not be skipped.
    first = await job_queue.enqueue("analyse-track", {"track_id": 7, "tags": ["a"]})
    second = await job_queue.enqueue("analyse-track", {"track_id": 8}, job_id="job-8")
    assert second == "job-8"
    background.start(job_queue.run_worker(background.stop))

    await eventually(lambda: len(seen) == 2)
    by_id = {job.id: job for job in seen}
    assert set(by_id) == {first, "job-8"}
    job = by_id[first]
    assert (job.name, job.payload, job.attempt, job.max_attempts) == (
        "analyse-track",
        {"track_id": 7, "tags": ["a"]},
        1,
        3,
    )
    assert abs(datetime.now(UTC) - job.enqueued_at) < timedelta(seconds=10)
    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=0))


async def test_failed_job_is_retried_with_growing_backoff(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    attempts: list[tuple[int, float]] = []

    async def flaky(job: Job) -> None:
        attempts.append((job.attempt, time.monotonic()))
        if job.attempt < 3:
            raise ConnectionError("object store unavailable")

    job_queue.register("flaky", flaky)
    await job_queue.enqueue("flaky", {}, max_attempts=3)
    background.start(job_queue.run_worker(background.stop))

    await eventually(lambda: len(attempts) == 3)
    assert [attempt for attempt, _ in attempts] == [1, 2, 3]
    first_gap = attempts[1][1] - attempts[0][1]
    second_gap = attempts[2][1] - attempts[1][1]
    assert first_gap >= 0.8 * RETRY_BACKOFF_S
    assert second_gap >= 0.8 * 2 * RETRY_BACKOFF_S  # the backoff doubles
    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=0))
    assert await job_queue.dead_letters() == []


async def test_job_failing_every_attempt_becomes_a_dead_letter(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    calls: list[int] = []

    async def broken(job: Job) -> None:
        calls.append(job.attempt)
        raise ValueError(f"cannot decode, attempt {job.attempt}")

    job_queue.register("broken", broken)
    job_id = await job_queue.enqueue("broken", {"file": "x.flac"}, max_attempts=2)
    background.start(job_queue.run_worker(background.stop))

    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=1))
    [dead] = await job_queue.dead_letters()
    assert dead.job.id == job_id
    assert dead.job.payload == {"file": "x.flac"}
    assert dead.job.attempt == 2
    assert dead.reason == "ValueError: cannot decode, attempt 2"
    assert dead.failed_at >= dead.job.enqueued_at
    assert calls == [1, 2]


async def test_job_without_handler_ends_as_dead_letter(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    await job_queue.enqueue("nobody-handles-this", {}, max_attempts=1)
    background.start(job_queue.run_worker(background.stop))

    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=1))
    [dead] = await job_queue.dead_letters(limit=10)
    assert "nobody-handles-this" in dead.reason


async def test_two_consumers_complete_every_job_once(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    completed: Counter[str] = Counter()
    running = 0
    most_running = 0

    async def work(job: Job) -> None:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        await asyncio.sleep(0.01)
        running -= 1
        completed[job.payload["n"]] += 1

    job_queue.register("work", work)
    count = 40
    for n in range(count):
        await job_queue.enqueue("work", {"n": str(n)})
    background.start(job_queue.run_worker(background.stop, consumer="w1", concurrency=2))
    background.start(job_queue.run_worker(background.stop, consumer="w2", concurrency=2))

    await eventually(lambda: sum(completed.values()) >= count)
    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=0))
    assert completed == Counter({str(n): 1 for n in range(count)})
    assert most_running >= 2


async def test_job_abandoned_by_a_cancelled_worker_is_redelivered(
    job_queue: JobQueue, background: Background, eventually: Eventually
) -> None:
    started = asyncio.Event()
    finished: list[Job] = []

    async def transcode(job: Job) -> None:
        if job.attempt == 1:
            started.set()
            await asyncio.Event().wait()  # hangs until its worker dies
        finished.append(job)

    job_queue.register("transcode", transcode)
    job_id = await job_queue.enqueue("transcode", {"track": 1})
    doomed = background.start(job_queue.run_worker(background.stop, consumer="doomed"))
    await asyncio.wait_for(started.wait(), 5)
    doomed.cancel()  # the worker "crashes" mid-job, without acknowledging it
    with pytest.raises(asyncio.CancelledError):
        await doomed

    background.start(job_queue.run_worker(background.stop, consumer="survivor"))
    await eventually(lambda: len(finished) == 1, timeout_s=5 + VISIBILITY_TIMEOUT_S)
    assert finished[0].id == job_id
    assert finished[0].attempt == 2
    assert finished[0].payload == {"track": 1}
    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=0))


async def test_stop_lets_the_running_job_finish(
    job_queue: JobQueue, eventually: Eventually
) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(job.id)

    job_queue.register("slow", slow)
    job_id = await job_queue.enqueue("slow", {})
    stop = asyncio.Event()
    worker = asyncio.create_task(job_queue.run_worker(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert finished == [job_id]
    await eventually(lambda: _stats_are(job_queue, pending=0, in_flight=0, dead=0))


async def test_enqueue_rejects_bad_arguments(job_queue: JobQueue) -> None:
    with pytest.raises(ValueError):
        await job_queue.enqueue("", {})
    with pytest.raises(ValueError):
        await job_queue.enqueue("job", {}, max_attempts=0)
    with pytest.raises(TypeError):
        await job_queue.enqueue("job", {"when": datetime.now(UTC)})
    assert (await job_queue.stats())["pending"] == 0


async def test_ping(job_queue: JobQueue) -> None:
    await job_queue.ping()


# --- Redis specifics ----------------------------------------------------------------------


def _redis_queue(url: str, stream: str) -> RedisStreamsJobQueue:
    return RedisStreamsJobQueue(
        url,
        stream=stream,
        visibility_timeout_s=VISIBILITY_TIMEOUT_S,
        retry_backoff_s=RETRY_BACKOFF_S,
        poll_interval_s=POLL_INTERVAL_S,
    )


@pytest.mark.redis
async def test_job_read_by_a_dead_consumer_is_reclaimed_by_another_process(
    redis_url: str, redis_namespace: str, background: Background, eventually: Eventually
) -> None:
    stream = f"{redis_namespace}jobs"
    producer = _redis_queue(url=redis_url, stream=stream)
    worker = _redis_queue(url=redis_url, stream=stream)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    finished: list[Job] = []

    async def index(job: Job) -> None:
        finished.append(job)

    worker.register("index", index)
    try:
        job_id = await producer.enqueue("index", {"album": 3})
        # A consumer takes the job and dies: it never acknowledges it.
        taken = await raw.xreadgroup("workers", "ghost", {stream: ">"}, count=1)
        assert taken[0][1][0][1]["id"] == job_id
        background.start(worker.run_worker(background.stop, consumer="live"))

        await eventually(lambda: len(finished) == 1, timeout_s=5 + VISIBILITY_TIMEOUT_S)
        assert (finished[0].id, finished[0].attempt, finished[0].payload) == (
            job_id,
            2,
            {"album": 3},
        )
        await eventually(lambda: _stats_are(producer, pending=0, in_flight=0, dead=0))
        assert await raw.xlen(stream) == 0  # acknowledged jobs are deleted, not kept
    finally:
        await raw.aclose()
        await producer.close()
        await worker.close()


@pytest.mark.redis
async def test_job_whose_workers_keep_dying_is_dead_lettered_unrun(
    redis_url: str, redis_namespace: str, background: Background, eventually: Eventually
) -> None:
    stream = f"{redis_namespace}jobs"
    queue = _redis_queue(url=redis_url, stream=stream)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    ran: list[Job] = []

    async def crashy(job: Job) -> None:
        ran.append(job)

    queue.register("crashy", crashy)
    try:
        job_id = await queue.enqueue("crashy", {}, max_attempts=1)
        await raw.xreadgroup("workers", "ghost", {stream: ">"}, count=1)
        background.start(queue.run_worker(background.stop, consumer="live"))

        await eventually(lambda: _stats_are(queue, pending=0, in_flight=0, dead=1))
        [dead] = await queue.dead_letters()
        assert dead.job.id == job_id
        assert "abandoned" in dead.reason
        assert ran == []
    finally:
        await raw.aclose()
        await queue.close()


@pytest.mark.redis
async def test_heartbeat_keeps_a_slow_job_from_being_reclaimed(
    redis_url: str, redis_namespace: str, background: Background, eventually: Eventually
) -> None:
    queue = RedisStreamsJobQueue(
        redis_url,
        stream=f"{redis_namespace}jobs",
        visibility_timeout_s=0.3,
        poll_interval_s=POLL_INTERVAL_S,
    )
    runs: list[int] = []

    async def slow(job: Job) -> None:
        runs.append(job.attempt)
        await asyncio.sleep(1.0)  # over three visibility timeouts

    queue.register("slow", slow)
    try:
        await queue.enqueue("slow", {})
        background.start(queue.run_worker(background.stop, consumer="a"))
        background.start(queue.run_worker(background.stop, consumer="b"))
        await eventually(lambda: _stats_are(queue, pending=0, in_flight=0, dead=0))
        assert runs == [1]
    finally:
        await queue.close()


@pytest.mark.redis
async def test_factory_builds_the_configured_queue(redis_url: str, tmp_path: Path) -> None:
    built = build_queue(Settings(data_dir=tmp_path, redis_url=redis_url))
    try:
        assert isinstance(built, RedisStreamsJobQueue)
        await built.ping()
    finally:
        await built.close()
    assert isinstance(build_queue(Settings(data_dir=tmp_path)), MemoryJobQueue)


async def _stats_are(queue: JobQueue, **expected: int) -> bool:
    stats = await queue.stats()
    return all(stats[name] == value for name, value in expected.items())
