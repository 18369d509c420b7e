"""Event stream on Redis Streams (production): one stream per topic, one group per subscriber.

* ``publish`` is XADD with approximate MAXLEN trimming (the stream is a bounded log,
  shared by every group; trimming can drop events a far-behind group has not read).
* Each subscription reads its group with XREADGROUP and XACKs after its handler returns.
* An event left unacknowledged (handler failed, consumer died) for longer than the
  visibility timeout is taken over with XAUTOCLAIM by any live consumer of the group;
  after ``max_deliveries`` deliveries it goes to the dead-letter stream instead.
* A new group starts at the end of the stream ("$"): it receives events published
  after ``run`` first created it, including those published while it was stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from audotics.infra.events.base import (
    DeadEvent,
    Event,
    EventBus,
    Subscription,
    check_name,
    encode_payload,
    logger,
    now,
)
from audotics.infra.redis_client import open_redis

Fields = dict[str, str]
# A stream entry with the number of times it has been delivered to its group.
_Delivery = tuple[str, Fields, int]


@dataclass
class _Reclaim:
    """Where a subscription's XAUTOCLAIM scan of its pending list resumes, and when."""

    cursor: str = "0-0"
    due_at: float = 0.0  # time.monotonic()


class RedisStreamsEventBus(EventBus):
    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "audotics:events:",
        *,
        maxlen: int | None = 100_000,
        visibility_timeout_s: float = 30.0,
        max_deliveries: int = 5,
        poll_interval_s: float = 1.0,
        batch_size: int = 20,
        consumer: str | None = None,
        max_dead: int = 10_000,
        max_connections: int = 128,
    ) -> None:
        super().__init__(max_deliveries=max_deliveries)
        # Each subscription holds one connection in XREADGROUP BLOCK; publishers share the
        # rest, waiting for a free one in a burst rather than failing.
        self._redis = open_redis(url, max_connections=max_connections, decode_responses=True)
        self._prefix = prefix
        self._dead_stream = f"{prefix}_dead"  # topics cannot start with "_"
        self._maxlen = maxlen
        self._visibility_s = visibility_timeout_s
        self._visibility_ms = max(1, round(visibility_timeout_s * 1000))
        self._poll_ms = max(1, round(poll_interval_s * 1000))
        self._reclaim_every_s = min(visibility_timeout_s / 2, 5.0)
        self._batch_size = batch_size
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._max_dead = max_dead

    def _stream(self, topic: str) -> str:
        return self._prefix + topic

    async def publish(self, topic: str, payload: dict[str, Any]) -> str:
        check_name("topic", topic)
        entry_id: str = await self._redis.xadd(
            self._stream(topic),
            {"payload": encode_payload(payload)},
            maxlen=self._maxlen,
            approximate=True,
        )
        return entry_id

    async def _ensure_group(self, subscription: Subscription) -> None:
        try:
            await self._redis.xgroup_create(
                self._stream(subscription.topic), subscription.group, id="$", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        for subscription in self._subscriptions.values():
            await self._ensure_group(subscription)
        try:
            async with asyncio.TaskGroup() as consumers:
                for subscription in self._subscriptions.values():
                    consumers.create_task(self._consume(subscription, stop))
                self.ready.set()
        finally:
            self.ready.clear()

    async def _consume(self, subscription: Subscription, stop: asyncio.Event) -> None:
        reclaim = _Reclaim()
        while not stop.is_set():
            try:
                for delivery in await self._next_batch(subscription, reclaim):
                    await self._handle(subscription, reclaim, *delivery)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # The stream was deleted (e.g. a Redis restart without persistence).
                await self._ensure_group(subscription)
            except (RedisConnectionError, RedisTimeoutError):
                # Unacked events stay pending on the server; wait for it to come back.
                logger.warning("event bus: Redis unreachable, retrying", exc_info=True)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll_ms / 1000)

    async def _next_batch(self, subscription: Subscription, reclaim: _Reclaim) -> list[_Delivery]:
        """Events unacknowledged for too long first, else new ones."""
        stream = self._stream(subscription.topic)
        scanning = False
        if time.monotonic() >= reclaim.due_at:
            claimed = await self._reclaim(subscription, reclaim)
            if claimed:
                return claimed
            scanning = reclaim.cursor != "0-0"
        response = await self._redis.xreadgroup(
            subscription.group,
            self._consumer,
            {stream: ">"},
            count=self._batch_size,
            # Don't wait for new events while a pending-list scan is unfinished.
            block=None if scanning else self._poll_ms,
        )
        if not response:
            return []
        return [(entry_id, fields, 1) for entry_id, fields in response[0][1]]

    async def _reclaim(self, subscription: Subscription, reclaim: _Reclaim) -> list[_Delivery]:
        stream = self._stream(subscription.topic)
        cursor, claimed, _deleted = await self._redis.xautoclaim(
            stream,
            subscription.group,
            self._consumer,
            min_idle_time=self._visibility_ms,
            start_id=reclaim.cursor,
            count=self._batch_size,
        )
        reclaim.cursor = cursor
        if cursor == "0-0":
            reclaim.due_at = time.monotonic() + self._reclaim_every_s
        if not claimed:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in claimed:
                pipe.xpending_range(stream, subscription.group, min=entry_id, max=entry_id, count=1)
            pending = await pipe.execute()
        return [
            (entry_id, fields, int(info[0]["times_delivered"]) if info else 1)
            for (entry_id, fields), info in zip(claimed, pending, strict=True)
        ]

    async def _handle(
        self,
        subscription: Subscription,
        reclaim: _Reclaim,
        entry_id: str,
        fields: Fields,
        delivery: int,
    ) -> None:
        event = Event(
            id=entry_id,
            topic=subscription.topic,
            payload=json.loads(fields["payload"]),
            published_at=_entry_time(entry_id),
        )
        if delivery > self._max_deliveries:
            # Its consumers kept dying before acknowledging it.
            await self._bury(
                subscription, event, f"not acknowledged after {self._max_deliveries} deliveries"
            )
            return
        heartbeat = asyncio.create_task(self._heartbeat(subscription, entry_id))
        try:
            reason = await self._deliver(subscription, event, delivery)
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat
        if reason is None:
            # No XDEL: other groups may still need the entry; MAXLEN trims the stream.
            await self._redis.xack(self._stream(subscription.topic), subscription.group, entry_id)
        elif delivery >= self._max_deliveries:
            await self._bury(subscription, event, reason)
        else:
            # Left pending: XAUTOCLAIM (here or in another consumer) delivers it again.
            reclaim.due_at = min(reclaim.due_at, time.monotonic() + self._visibility_s)

    async def _heartbeat(self, subscription: Subscription, entry_id: str) -> None:
        """Reset the event's idle time so a slow but live handler keeps it."""
        while True:
            await asyncio.sleep(self._visibility_s / 3)
            # JUSTID: claiming it again must not count as another delivery. A missed beat
            # only risks a duplicate delivery, so a Redis hiccup must not fail the event.
            with suppress(RedisConnectionError, RedisTimeoutError):
                await self._redis.xclaim(
                    self._stream(subscription.topic),
                    subscription.group,
                    self._consumer,
                    0,
                    [entry_id],
                    justid=True,
                )

    async def _bury(self, subscription: Subscription, event: Event, reason: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self._dead_stream,
                {
                    "topic": event.topic,
                    "group": subscription.group,
                    "event_id": event.id,
                    "payload": encode_payload(event.payload),
                    "reason": reason,
                    "failed_at": now().isoformat(),
                },
                maxlen=self._max_dead,
                approximate=True,
            )
            pipe.xack(self._stream(event.topic), subscription.group, event.id)
            await pipe.execute()
        logger.error(
            "event %s on %s is dead for group %s: %s",
            event.id,
            event.topic,
            subscription.group,
            reason,
        )

    async def dead_letters(self, limit: int = 100) -> list[DeadEvent]:
        entries = await self._redis.xrange(self._dead_stream, count=limit)
        return [
            DeadEvent(
                event=Event(
                    id=fields["event_id"],
                    topic=fields["topic"],
                    payload=json.loads(fields["payload"]),
                    published_at=_entry_time(fields["event_id"]),
                ),
                group=fields["group"],
                reason=fields["reason"],
                failed_at=datetime.fromisoformat(fields["failed_at"]),
            )
            for _, fields in entries
        ]

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.connection_pool.disconnect()


def _entry_time(entry_id: str) -> datetime:
    """Stream ids start with the server's clock in milliseconds."""
    return datetime.fromtimestamp(int(entry_id.split("-", 1)[0]) / 1000, UTC)
