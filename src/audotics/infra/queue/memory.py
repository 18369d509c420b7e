"""In-process job queue (embedded mode): jobs live as long as the process does."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import replace
from typing import Any

from audotics.infra.queue.base import (
    DeadLetter,
    Job,
    JobQueue,
    logger,
    new_job_id,
    now,
    validate_job,
)


class MemoryJobQueue(JobQueue):
    backend = "memory"

    def __init__(
        self,
        *,
        retry_backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        max_dead: int = 10_000,
    ) -> None:
        super().__init__(retry_backoff_s=retry_backoff_s, max_backoff_s=max_backoff_s)
        self._ready: asyncio.Queue[Job] = asyncio.Queue()
        self._running = 0
        self._retry_timers: set[asyncio.TimerHandle] = set()
        self._dead: deque[DeadLetter] = deque(maxlen=max_dead)

    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        max_attempts: int = 3,
        job_id: str | None = None,
    ) -> str:
        encoded = validate_job(name, payload, max_attempts)
        job = Job(
            id=job_id or new_job_id(),
            name=name,
            # A JSON round trip gives handlers the same values (and isolation) as Redis does.
            payload=json.loads(encoded),
            attempt=1,
            max_attempts=max_attempts,
            enqueued_at=now(),
        )
        self._ready.put_nowait(job)
        return job.id

    async def run_worker(
        self, stop: asyncio.Event, *, consumer: str | None = None, concurrency: int = 1
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        async with asyncio.TaskGroup() as slots:
            for _ in range(concurrency):
                slots.create_task(self._slot(stop))

    async def _slot(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            job = await self._next(stop)
            if job is not None:
                await self._process(job)

    async def _next(self, stop: asyncio.Event) -> Job | None:
        getting = asyncio.ensure_future(self._ready.get())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not getting.done():
                getting.cancel()  # Queue.get cancelled while waiting takes nothing
        return getting.result() if getting.done() and not getting.cancelled() else None

    async def _process(self, job: Job) -> None:
        self._running += 1
        try:
            reason = await self._run_handler(job)
        except asyncio.CancelledError:
            # The worker was cancelled mid-job: deliver it again, as Redis would.
            self._ready.put_nowait(replace(job, attempt=job.attempt + 1))
            raise
        finally:
            self._running -= 1
        if reason is None:
            return
        if job.attempt >= job.max_attempts:
            self._dead.append(DeadLetter(job=job, reason=reason, failed_at=now()))
            logger.error("job %s (%s) is dead: %s", job.id, job.name, reason)
            return
        self._schedule_retry(replace(job, attempt=job.attempt + 1), self.backoff_s(job.attempt))

    def _schedule_retry(self, job: Job, delay_s: float) -> None:
        def requeue() -> None:
            self._retry_timers.discard(timer)
            self._ready.put_nowait(job)

        timer = asyncio.get_running_loop().call_later(delay_s, requeue)
        self._retry_timers.add(timer)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return list(self._dead)[:limit]

    async def stats(self) -> dict[str, int]:
        in_flight = self._running + len(self._retry_timers)
        return {
            "pending": self._ready.qsize() + in_flight,
            "in_flight": in_flight,
            "dead": len(self._dead),
        }

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for timer in self._retry_timers:
            timer.cancel()
        self._retry_timers.clear()
