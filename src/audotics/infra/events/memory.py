"""In-process event bus (embedded mode): per-group asyncio queues, lost on exit."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any

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

# An event waiting in a group, with how many times it has been delivered so far.
_Pending = tuple[Event, int]


class MemoryEventBus(EventBus):
    """Each subscribed group has a queue from ``subscribe`` on; ``publish`` copies the event
    into the queues of its topic's groups (none subscribed: the event goes nowhere)."""

    backend = "memory"

    def __init__(
        self,
        *,
        maxlen: int | None = 100_000,
        visibility_timeout_s: float = 30.0,
        max_deliveries: int = 5,
        max_dead: int = 10_000,
    ) -> None:
        super().__init__(max_deliveries=max_deliveries)
        self._maxlen = maxlen
        self._visibility_timeout_s = visibility_timeout_s
        # topic -> group -> events the group has not handled yet
        self._groups: dict[str, dict[str, asyncio.Queue[_Pending]]] = {}
        self._redeliveries: set[asyncio.TimerHandle] = set()
        self._dead: deque[DeadEvent] = deque(maxlen=max_dead)
        self._last_ms = 0
        self._sequence = 0

    def _subscribed(self, subscription: Subscription) -> None:
        groups = self._groups.setdefault(subscription.topic, {})
        groups.setdefault(subscription.group, asyncio.Queue())

    def _next_id(self) -> str:
        """Ids shaped like Redis stream ids ("<ms>-<seq>"), increasing."""
        ms = max(int(time.time() * 1000), self._last_ms)
        self._sequence = self._sequence + 1 if ms == self._last_ms else 0
        self._last_ms = ms
        return f"{ms}-{self._sequence}"

    async def publish(self, topic: str, payload: dict[str, Any]) -> str:
        check_name("topic", topic)
        encoded = encode_payload(payload)
        event_id, published_at = self._next_id(), now()
        for queue in self._groups.get(topic, {}).values():
            if self._maxlen is not None and queue.qsize() >= self._maxlen:
                queue.get_nowait()  # like MAXLEN trimming: the oldest event goes
            # Each group gets its own copy of the payload, as from Redis.
            event = Event(event_id, topic, json.loads(encoded), published_at)
            queue.put_nowait((event, 0))
        return event_id

    async def run(self, stop: asyncio.Event) -> None:
        try:
            async with asyncio.TaskGroup() as consumers:
                for subscription in self._subscriptions.values():
                    queue = self._groups[subscription.topic][subscription.group]
                    consumers.create_task(self._consume(subscription, queue, stop))
                self.ready.set()
        finally:
            self.ready.clear()

    async def _consume(
        self, subscription: Subscription, queue: asyncio.Queue[_Pending], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            getting = asyncio.ensure_future(queue.get())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not getting.done():
                    getting.cancel()
            if not getting.done() or getting.cancelled():
                continue
            event, delivered = getting.result()
            await self._handle(subscription, queue, event, delivered + 1)

    async def _handle(
        self,
        subscription: Subscription,
        queue: asyncio.Queue[_Pending],
        event: Event,
        delivery: int,
    ) -> None:
        try:
            reason = await self._deliver(subscription, event, delivery)
        except asyncio.CancelledError:
            queue.put_nowait((event, delivery))  # consumer cancelled mid-event: keep it
            raise
        if reason is None:
            return
        if delivery >= self._max_deliveries:
            self._dead.append(DeadEvent(event, subscription.group, reason, now()))
            logger.error(
                "event %s on %s is dead for group %s: %s",
                event.id,
                event.topic,
                subscription.group,
                reason,
            )
            return

        def redeliver() -> None:
            self._redeliveries.discard(timer)
            queue.put_nowait((event, delivery))

        timer = asyncio.get_running_loop().call_later(self._visibility_timeout_s, redeliver)
        self._redeliveries.add(timer)

    async def dead_letters(self, limit: int = 100) -> list[DeadEvent]:
        return list(self._dead)[:limit]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for timer in self._redeliveries:
            timer.cancel()
        self._redeliveries.clear()
