"""The cache contract, on the in-process LRU and on Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from audotics.config import Settings
from audotics.infra.cache.base import Cache
from audotics.infra.cache.memory import MemoryCache
from audotics.infra.cache.redis import RedisCache
from audotics.infra.factory import build_cache


async def test_set_get_overwrite_and_missing(cache: Cache) -> None:
    assert await cache.get("absent") is None
    await cache.set("track:1", b"\x00binary\xff")
    assert await cache.get("track:1") == b"\x00binary\xff"
    await cache.set("track:1", b"second")
    assert await cache.get("track:1") == b"second"


async def test_json_round_trip(cache: Cache) -> None:
    value = {"title": "Blue in Green", "tags": ["jazz", "modal"], "bpm": 62.5, "live": False}
    await cache.set_json("track:json", value)
    assert await cache.get_json("track:json") == value
    assert await cache.get_json("track:nothing") is None


async def test_entries_expire_after_their_ttl(cache: Cache) -> None:
    await cache.set("short", b"1", ttl_s=0.15)
    await cache.set("long", b"2")  # the default TTL, 300 s
    assert await cache.get("short") == b"1"
    await asyncio.sleep(0.3)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"2"


async def test_delete_counts_only_existing_keys(cache: Cache) -> None:
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.delete("a", "b", "never-set") == 2
    assert await cache.get("a") is None
    assert await cache.delete() == 0
    assert await cache.delete("a") == 0


async def test_delete_prefix_removes_exactly_that_prefix(cache: Cache) -> None:
    for key in ("user:1:a", "user:1:b", "user:10:a", "user:2:a", "other"):
        await cache.set(key, b"x")
    assert await cache.delete_prefix("user:1:") == 2
    assert await cache.get("user:1:a") is None
    assert await cache.get("user:1:b") is None
    for survivor in ("user:10:a", "user:2:a", "other"):
        assert await cache.get(survivor) == b"x", survivor


async def test_delete_prefix_treats_glob_characters_literally(cache: Cache) -> None:
    await cache.set("p*[x]?:1", b"literal")
    await cache.set("pA[x]B:1", b"would match the glob")
    await cache.set("px?:1", b"would match too")
    assert await cache.delete_prefix("p*[x]?:") == 1
    assert await cache.get("p*[x]?:1") is None
    assert await cache.get("pA[x]B:1") == b"would match the glob"
    assert await cache.get("px?:1") == b"would match too"


async def test_delete_prefix_handles_more_keys_than_one_batch(cache: Cache) -> None:
    count = 1_234  # more than two SCAN/UNLINK batches of 500
    await asyncio.gather(*(cache.set(f"bulk:{i}", b"v") for i in range(count)))
    await cache.set("keep", b"v")
    assert await cache.delete_prefix("bulk:") == count
    assert await cache.get(f"bulk:{count - 1}") is None
    assert await cache.get("keep") == b"v"


async def test_incr_starts_at_zero_and_adds(cache: Cache) -> None:
    assert await cache.incr("plays") == 1
    assert await cache.incr("plays", 5) == 6
    assert await cache.incr("plays", -2) == 4
    assert int(await cache.get("plays") or b"0") == 4


async def test_incr_ttl_is_set_on_creation_only(cache: Cache) -> None:
    assert await cache.incr("window", ttl_s=0.4) == 1
    await asyncio.sleep(0.25)
    # A later increment must not push the expiry back (fixed-window counters rely on it).
    assert await cache.incr("window", ttl_s=0.4) == 2
    await asyncio.sleep(0.25)
    assert await cache.get("window") is None
    assert await cache.incr("window", ttl_s=0.4) == 1


async def test_incr_is_atomic_under_concurrency(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.incr("hits", ttl_s=60) for _ in range(300)))
    assert sorted(results) == list(range(1, 301))
    assert int(await cache.get("hits") or b"0") == 300


async def test_ping(cache: Cache) -> None:
    await cache.ping()


def test_memory_cache_evicts_least_recently_used() -> None:
    async def scenario() -> None:
        cache = MemoryCache(max_entries=3)
        for key in ("a", "b", "c"):
            await cache.set(key, key.encode())
        assert await cache.get("a") == b"a"  # now "b" is the least recently used
        await cache.set("d", b"d")
        assert await cache.get("b") is None
        assert [await cache.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]

    asyncio.run(scenario())


@pytest.mark.redis
async def test_redis_namespaces_are_isolated(redis_url: str) -> None:
    first = RedisCache(redis_url, namespace="app-one:")
    second = RedisCache(redis_url, namespace="app-two:")
    try:
        await first.set("shared", b"one")
        await second.set("shared", b"two")
        assert await first.get("shared") == b"one"
        assert await second.get("shared") == b"two"
        assert await first.delete_prefix("") == 1
        assert await first.get("shared") is None
        assert await second.get("shared") == b"two"
        assert await second.incr("n") == 1
        assert await first.incr("n") == 1
    finally:
        await first.close()
        await second.close()


@pytest.mark.redis
async def test_redis_cache_is_shared_between_clients(redis_url: str) -> None:
    writer = RedisCache(redis_url, namespace="shared:")
    reader = RedisCache(redis_url, namespace="shared:")
    try:
        await writer.set("k", b"v", ttl_s=30)
        assert await reader.get("k") == b"v"
        await asyncio.gather(*(c.incr("n") for c in (writer, reader) for _ in range(50)))
        assert await reader.get("n") == b"100"
    finally:
        await writer.close()
        await reader.close()


@pytest.mark.redis
async def test_factory_picks_redis_when_configured(redis_url: str, tmp_path: Path) -> None:
    built = build_cache(Settings(data_dir=tmp_path, redis_url=redis_url))
    try:
        assert isinstance(built, RedisCache)
        await built.ping()
    finally:
        await built.close()
    assert isinstance(build_cache(Settings(data_dir=tmp_path)), MemoryCache)
