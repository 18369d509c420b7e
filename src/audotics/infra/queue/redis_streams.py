"""Job queue on a Redis Stream with one consumer group (production).

* ``enqueue`` is XADD; workers read with XREADGROUP, so each job goes to one consumer.
* A job stays in the group's pending list until its handler returns; then XACK + XDEL.
* While a handler runs, a heartbeat keeps the job's idle time near zero. A job idle for
  longer than the visibility timeout belongs to a worker that died, and any live worker
  takes it over with XAUTOCLAIM. The attempt number is the delivery count Redis keeps.
* A failed job stays pending, marked as idle for (visibility timeout - backoff), so that
  XAUTOCLAIM redelivers it once the backoff has passed, even if this worker dies meanwhile.
* After ``max_attempts`` deliveries the job moves to the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from audotics.infra.queue.base import (
    DeadLetter,
    Job,
    JobQueue,
    consumer_name,
    logger,
    new_job_id,
    now,
    validate_job,
)
from audotics.infra.redis_client import open_redis

Fields = dict[str, str]


@dataclass
class _Reclaim:
    """Where this worker's XAUTOCLAIM scan of the pending list resumes, and when."""

    cursor: str = "0-0"
    due_at: float = 0.0  # time.monotonic()


class RedisStreamsJobQueue(JobQueue):
    backend = "redis"

    def __init__(
        self,
        url: str,
        stream: str = "audotics:jobs",
        group: str = "workers",
        visibility_timeout_s: float = 30.0,
        *,
        retry_backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        poll_interval_s: float = 1.0,
        max_dead: int = 10_000,
        max_connections: int = 64,
    ) -> None:
        super().__init__(retry_backoff_s=retry_backoff_s, max_backoff_s=max_backoff_s)
        # Each worker slot holds one connection in XREADGROUP BLOCK; the rest is shared.
        self._redis = open_redis(url, max_connections=max_connections, decode_responses=True)
        self._stream = stream
        self._group = group
        self._dead_stream = f"{stream}:dead"
        self._visibility_ms = max(1, round(visibility_timeout_s * 1000))
        self._poll_ms = max(1, round(poll_interval_s * 1000))
        self._reclaim_every_s = min(visibility_timeout_s / 2, 5.0)
        self._heartbeat_every_s = visibility_timeout_s / 3
        self._max_dead = max_dead
        self._group_ready = False

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            # From id 0: jobs enqueued before the first worker started are not skipped.
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        max_attempts: int = 3,
        job_id: str | None = None,
    ) -> str:
        encoded = validate_job(name, payload, max_attempts)
        job_id = job_id or new_job_id()
        await self._ensure_group()
        await self._redis.xadd(
            self._stream,
            {
                "id": job_id,
                "name": name,
                "payload": encoded,
                "max_attempts": str(max_attempts),
                "enqueued_at": now().isoformat(),
            },
        )
        return job_id

    # --- worker ------------------------------------------------------------------------

    async def run_worker(
        self, stop: asyncio.Event, *, consumer: str | None = None, concurrency: int = 1
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        consumer = consumer or consumer_name()
        reclaim = _Reclaim()
        await self._ensure_group()
        async with asyncio.TaskGroup() as slots:
            for _ in range(concurrency):
                slots.create_task(self._slot(stop, consumer, reclaim))

    async def _slot(self, stop: asyncio.Event, consumer: str, reclaim: _Reclaim) -> None:
        while not stop.is_set():
            try:
                message = await self._next(consumer, reclaim)
                if message is not None:
                    await self._process(consumer, reclaim, *message)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # The stream was deleted (e.g. a Redis restart without persistence).
                self._group_ready = False
                await self._ensure_group()
            except (RedisConnectionError, RedisTimeoutError):
                # Unacked jobs stay pending on the server; wait for it to come back.
                logger.warning("job queue: Redis unreachable, retrying", exc_info=True)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll_ms / 1000)

    async def _next(self, consumer: str, reclaim: _Reclaim) -> tuple[str, Fields, int] | None:
        """The next job for this worker: an abandoned one first, else a new one."""
        scanning = False
        if time.monotonic() >= reclaim.due_at:
            claimed = await self._reclaim_one(consumer, reclaim)
            if claimed is not None:
                return claimed
            scanning = reclaim.cursor != "0-0"
        response = await self._redis.xreadgroup(
            self._group,
            consumer,
            {self._stream: ">"},
            count=1,
            # Don't wait for new jobs while a pending-list scan is unfinished.
            block=None if scanning else self._poll_ms,
        )
        if not response:
            return None
        entry_id, fields = response[0][1][0]
        return entry_id, fields, 1

    async def _reclaim_one(
        self, consumer: str, reclaim: _Reclaim
    ) -> tuple[str, Fields, int] | None:
        cursor, claimed, _deleted = await self._redis.xautoclaim(
            self._stream,
            self._group,
            consumer,
            min_idle_time=self._visibility_ms,
            start_id=reclaim.cursor,
            count=1,
        )
        reclaim.cursor = cursor
        if cursor == "0-0":
            reclaim.due_at = time.monotonic() + self._reclaim_every_s
        if not claimed:
            return None
        entry_id, fields = claimed[0]
        pending = await self._redis.xpending_range(
            self._stream, self._group, min=entry_id, max=entry_id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 1
        logger.info("reclaimed job entry %s (delivery %d)", entry_id, deliveries)
        return entry_id, fields, deliveries

    async def _process(
        self, consumer: str, reclaim: _Reclaim, entry_id: str, fields: Fields, deliveries: int
    ) -> None:
        job = _job_from_fields(fields, attempt=deliveries)
        if job.attempt > job.max_attempts:
            # Its workers kept dying before finishing it: don't let it take down more.
            await self._bury(
                entry_id,
                replace(job, attempt=job.max_attempts),
                f"abandoned by its worker on every one of {job.max_attempts} attempts",
            )
            return
        heartbeat = asyncio.create_task(self._heartbeat(consumer, entry_id))
        try:
            reason = await self._run_handler(job)
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat
        if reason is None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(self._stream, self._group, entry_id)
                pipe.xdel(self._stream, entry_id)
                await pipe.execute()
        elif job.attempt >= job.max_attempts:
            await self._bury(entry_id, job, reason)
        else:
            delay_s = self.backoff_s(job.attempt)
            idle_ms = max(0, self._visibility_ms - round(delay_s * 1000))
            await self._redis.xclaim(
                self._stream, self._group, consumer, 0, [entry_id], idle=idle_ms, justid=True
            )
            # A few ms late, so Redis's millisecond clock surely counts it idle enough.
            reclaim.due_at = min(reclaim.due_at, time.monotonic() + delay_s + 0.01)

    async def _heartbeat(self, consumer: str, entry_id: str) -> None:
        """Reset the job's idle time so no other worker takes over a slow but live job."""
        while True:
            await asyncio.sleep(self._heartbeat_every_s)
            # JUSTID: claiming it again must not count as another delivery. A missed beat
            # only risks a duplicate run, so a Redis hiccup must not fail the job.
            with suppress(RedisConnectionError, RedisTimeoutError):
                await self._redis.xclaim(
                    self._stream, self._group, consumer, 0, [entry_id], justid=True
                )

    async def _bury(self, entry_id: str, job: Job, reason: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self._dead_stream,
                {
                    **_fields_from_job(job),
                    "attempt": str(job.attempt),
                    "reason": reason,
                    "failed_at": now().isoformat(),
                },
                maxlen=self._max_dead,
                approximate=True,
            )
            pipe.xack(self._stream, self._group, entry_id)
            pipe.xdel(self._stream, entry_id)
            await pipe.execute()
        logger.error("job %s (%s) is dead: %s", job.id, job.name, reason)

    # --- inspection --------------------------------------------------------------------

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        entries = await self._redis.xrange(self._dead_stream, count=limit)
        return [
            DeadLetter(
                job=_job_from_fields(fields, attempt=int(fields["attempt"])),
                reason=fields["reason"],
                failed_at=datetime.fromisoformat(fields["failed_at"]),
            )
            for _, fields in entries
        ]

    async def stats(self) -> dict[str, int]:
        await self._ensure_group()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self._stream)
            pipe.xpending(self._stream, self._group)
            pipe.xlen(self._dead_stream)
            pending, summary, dead = await pipe.execute()
        return {"pending": int(pending), "in_flight": int(summary["pending"]), "dead": int(dead)}

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.connection_pool.disconnect()


def _fields_from_job(job: Job) -> Fields:
    return {
        "id": job.id,
        "name": job.name,
        "payload": json.dumps(job.payload, separators=(",", ":")),
        "max_attempts": str(job.max_attempts),
        "enqueued_at": job.enqueued_at.isoformat(),
    }


def _job_from_fields(fields: Fields, *, attempt: int) -> Job:
    return Job(
        id=fields["id"],
        name=fields["name"],
        payload=json.loads(fields["payload"]),
        attempt=attempt,
        max_attempts=int(fields["max_attempts"]),
        enqueued_at=datetime.fromisoformat(fields["enqueued_at"]),
    )
