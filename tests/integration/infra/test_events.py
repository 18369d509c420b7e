"""The event bus contract, in-process and on Redis Streams."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from audotics.config import Settings
from audotics.infra.events.base import Event, EventBus
from audotics.infra.events.memory import MemoryEventBus
from audotics.infra.events.redis_streams import RedisStreamsEventBus
from audotics.infra.factory import build_events
from tests.integration.infra.conftest import (
    MAX_DELIVERIES,
    POLL_INTERVAL_S,
    VISIBILITY_TIMEOUT_S,
    Background,
)

Eventually = Callable[..., Awaitable[None]]


def _collector(into: list[Event]) -> Callable[[Event], Awaitable[None]]:
    async def handle(event: Event) -> None:
        into.append(event)

    return handle


async def _start(bus: EventBus, background: Background) -> asyncio.Task[None]:
    task = background.start(bus.run(background.stop))
    await asyncio.wait_for(bus.ready.wait(), 5)
    return task


async def test_every_group_gets_every_event_in_order(
    event_bus: EventBus, background: Background, eventually: Eventually
) -> None:
    analytics: list[Event] = []
    profiles: list[Event] = []
    deletions: list[Event] = []
    event_bus.subscribe("track.played", "analytics", _collector(analytics))
    event_bus.subscribe("track.played", "profiles", _collector(profiles))
    event_bus.subscribe("user.deleted", "analytics", _collector(deletions))
    await _start(event_bus, background)

    ids = [await event_bus.publish("track.played", {"track": n}) for n in range(5)]
    deleted_id = await event_bus.publish("user.deleted", {"user": "u1"})

    await eventually(lambda: len(analytics) == 5 and len(profiles) == 5 and deletions)
    for received in (analytics, profiles):
        assert [e.id for e in received] == ids
        assert [e.payload for e in received] == [{"track": n} for n in range(5)]
        assert {e.topic for e in received} == {"track.played"}
    assert [(e.id, e.topic, e.payload) for e in deletions] == [
        (deleted_id, "user.deleted", {"user": "u1"})
    ]
    assert abs(datetime.now(UTC) - analytics[0].published_at) < timedelta(seconds=10)
    assert len(set(ids)) == 5
    # Groups get separate copies: one group changing its payload can't affect another.
    analytics[0].payload["track"] = "changed"
    assert profiles[0].payload == {"track": 0}


async def test_failed_event_is_delivered_again(
    event_bus: EventBus, background: Background, eventually: Eventually
) -> None:
    deliveries: list[str] = []
    handled: list[Event] = []

    async def flaky(event: Event) -> None:
        deliveries.append(event.id)
        if len(deliveries) == 1:
            raise RuntimeError("feature store down")
        handled.append(event)

    event_bus.subscribe("track.liked", "features", flaky)
    await _start(event_bus, background)
    event_id = await event_bus.publish("track.liked", {"track": 9})

    await eventually(lambda: len(handled) == 1, timeout_s=5 + VISIBILITY_TIMEOUT_S)
    assert deliveries == [event_id, event_id]
    assert handled[0].payload == {"track": 9}
    assert await event_bus.dead_letters() == []


async def test_event_failing_every_delivery_is_dead_lettered_for_its_group_only(
    event_bus: EventBus, background: Background, eventually: Eventually
) -> None:
    attempts: list[str] = []
    healthy: list[Event] = []

    async def broken(event: Event) -> None:
        attempts.append(event.id)
        raise KeyError("missing field")

    event_bus.subscribe("track.skipped", "broken", broken)
    event_bus.subscribe("track.skipped", "healthy", _collector(healthy))
    await _start(event_bus, background)
    event_id = await event_bus.publish("track.skipped", {"at": 12.5})

    async def buried() -> bool:
        return len(await event_bus.dead_letters()) == 1

    await eventually(buried, timeout_s=5 + MAX_DELIVERIES * VISIBILITY_TIMEOUT_S)
    [dead] = await event_bus.dead_letters()
    assert (dead.group, dead.event.id, dead.event.topic) == ("broken", event_id, "track.skipped")
    assert dead.event.payload == {"at": 12.5}
    assert dead.reason == "KeyError: 'missing field'"
    assert attempts == [event_id] * MAX_DELIVERIES
    assert [e.id for e in healthy] == [event_id]


async def test_event_held_by_a_cancelled_consumer_is_redelivered(
    event_bus: EventBus, background: Background, eventually: Eventually
) -> None:
    started = asyncio.Event()
    handled: list[Event] = []

    async def hangs_the_first_time(event: Event) -> None:
        if not started.is_set():
            started.set()
            await asyncio.Event().wait()  # until its consumer dies
        handled.append(event)

    event_bus.subscribe("playlist.updated", "search-index", hangs_the_first_time)
    doomed = await _start(event_bus, background)
    event_id = await event_bus.publish("playlist.updated", {"playlist": 4})
    await asyncio.wait_for(started.wait(), 5)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed

    await _start(event_bus, background)
    await eventually(lambda: len(handled) == 1, timeout_s=5 + VISIBILITY_TIMEOUT_S)
    assert handled[0].id == event_id


async def test_events_published_while_a_group_is_stopped_wait_for_it(
    event_bus: EventBus, eventually: Eventually
) -> None:
    received: list[Event] = []
    event_bus.subscribe("listen.imported", "analytics", _collector(received))
    stop = asyncio.Event()
    first_run = asyncio.create_task(event_bus.run(stop))
    await asyncio.wait_for(event_bus.ready.wait(), 5)
    stop.set()
    await asyncio.wait_for(first_run, 5)
    assert not event_bus.ready.is_set()

    ids = [await event_bus.publish("listen.imported", {"n": n}) for n in range(3)]
    assert received == []
    stop = asyncio.Event()
    second_run = asyncio.create_task(event_bus.run(stop))
    try:
        await eventually(lambda: len(received) == 3)
        assert [e.id for e in received] == ids
    finally:
        stop.set()
        await asyncio.wait_for(second_run, 5)


async def test_subscribe_validates_names_and_duplicates(event_bus: EventBus) -> None:
    async def handler(event: Event) -> None:
        return None

    event_bus.subscribe("track.played", "analytics", handler)
    with pytest.raises(ValueError):
        event_bus.subscribe("track.played", "analytics", handler)
    for topic in ("", "has:colon", "_reserved", "spaces here"):
        with pytest.raises(ValueError):
            event_bus.subscribe(topic, "g", handler)
        with pytest.raises(ValueError):
            await event_bus.publish(topic, {})
    with pytest.raises(ValueError):
        event_bus.subscribe("ok", "bad:group", handler)
    with pytest.raises(TypeError):
        await event_bus.publish("track.played", {"not json": {1, 2}})


async def test_ping(event_bus: EventBus) -> None:
    await event_bus.ping()


async def test_memory_bus_keeps_only_the_newest_events_per_group(
    background: Background, eventually: Eventually
) -> None:
    bus = MemoryEventBus(maxlen=5)
    received: list[Event] = []
    bus.subscribe("t", "g", _collector(received))
    for n in range(20):
        await bus.publish("t", {"n": n})
    await _start(bus, background)
    await eventually(lambda: len(received) == 5)
    assert [e.payload["n"] for e in received] == [15, 16, 17, 18, 19]


# --- Redis specifics ----------------------------------------------------------------------


def _redis_bus(url: str, prefix: str, **options: Any) -> RedisStreamsEventBus:
    return RedisStreamsEventBus(
        url,
        prefix=prefix,
        visibility_timeout_s=VISIBILITY_TIMEOUT_S,
        max_deliveries=MAX_DELIVERIES,
        poll_interval_s=POLL_INTERVAL_S,
        **options,
    )


@pytest.mark.redis
async def test_consumers_of_one_group_share_its_events(
    redis_url: str, redis_namespace: str, background: Background, eventually: Eventually
) -> None:
    prefix = f"{redis_namespace}events:"
    handled: Counter[str] = Counter()
    by_consumer: Counter[str] = Counter()
    buses = [_redis_bus(redis_url, prefix, consumer=f"c{i}", batch_size=1) for i in range(2)]

    def handler(name: str) -> Callable[[Event], Awaitable[None]]:
        async def handle(event: Event) -> None:
            await asyncio.sleep(0.005)
            handled[event.id] += 1
            by_consumer[name] += 1

        return handle

    try:
        for i, bus in enumerate(buses):
            bus.subscribe("track.played", "analytics", handler(f"c{i}"))
            await _start(bus, background)
        ids = [await buses[0].publish("track.played", {"n": n}) for n in range(30)]
        await eventually(lambda: sum(handled.values()) >= 30)
        await asyncio.sleep(0.1)  # room for a wrong duplicate to show up
        assert handled == Counter({event_id: 1 for event_id in ids})
        assert set(by_consumer) == {"c0", "c1"}
    finally:
        background.stop.set()
        await asyncio.gather(*background.tasks)
        for bus in buses:
            await bus.close()


@pytest.mark.redis
async def test_event_read_by_a_dead_consumer_is_reclaimed(
    redis_url: str, redis_namespace: str, background: Background, eventually: Eventually
) -> None:
    prefix = f"{redis_namespace}events:"
    bus = _redis_bus(redis_url, prefix)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    received: list[Event] = []
    bus.subscribe("track.played", "profiles", _collector(received))
    try:
        stop = asyncio.Event()
        await raw.xgroup_create(f"{prefix}track.played", "profiles", id="$", mkstream=True)
        event_id = await bus.publish("track.played", {"track": 1})
        taken = await raw.xreadgroup("profiles", "ghost", {f"{prefix}track.played": ">"})
        assert taken[0][1][0][0] == event_id
        task = asyncio.create_task(bus.run(stop))
        await eventually(lambda: len(received) == 1, timeout_s=5 + VISIBILITY_TIMEOUT_S)
        assert [e.id for e in received] == [event_id]
        await eventually(lambda: _no_pending(raw, f"{prefix}track.played", "profiles"))
        stop.set()
        await asyncio.wait_for(task, 5)
    finally:
        await raw.aclose()
        await bus.close()


@pytest.mark.redis
async def test_streams_are_trimmed_to_about_maxlen(redis_url: str, redis_namespace: str) -> None:
    prefix = f"{redis_namespace}events:"
    bus = _redis_bus(redis_url, prefix, maxlen=100)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        for n in range(1_000):
            await bus.publish("track.played", {"n": n})
        length = await raw.xlen(f"{prefix}track.played")
        assert 100 <= length < 1_000
        [(_, fields)] = await raw.xrevrange(f"{prefix}track.played", count=1)
        assert fields[b"payload"] == b'{"n":999}'  # the newest are kept
    finally:
        await raw.aclose()
        await bus.close()


@pytest.mark.redis
async def test_factory_builds_the_configured_bus(redis_url: str, tmp_path: Path) -> None:
    built = build_events(Settings(data_dir=tmp_path, redis_url=redis_url))
    try:
        assert isinstance(built, RedisStreamsEventBus)
        await built.ping()
    finally:
        await built.close()
    assert isinstance(build_events(Settings(data_dir=tmp_path)), MemoryEventBus)


async def _no_pending(raw: aioredis.Redis, stream: str, group: str) -> bool:
    summary = await raw.xpending(stream, group)
    return int(summary["pending"]) == 0
