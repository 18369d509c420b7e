"""Redis cache (production): the same interface as the in-process LRU, shared by every process."""

from __future__ import annotations

import re

from audotics.infra.cache.base import Cache
from audotics.infra.redis_client import open_redis

# SCAN MATCH is a glob: a prefix containing these must match them literally.
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


class RedisCache(Cache):
    """Keys live under ``namespace`` so several apps (or tests) can share one server.

    Eviction under memory pressure is the server's job (``maxmemory-policy allkeys-lru``
    in production); every entry also carries a TTL unless ``default_ttl_s`` is None.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        default_ttl_s: float | None = 300.0,
        namespace: str = "audotics:",
        *,
        scan_batch: int = 500,
        max_connections: int = 64,
    ) -> None:
        # A blocking pool makes a burst of requests wait for a connection instead of failing.
        self._redis = open_redis(url, max_connections=max_connections)
        self._default_ttl = default_ttl_s
        self._namespace = namespace
        self._scan_batch = scan_batch

    def _key(self, key: str) -> str:
        return self._namespace + key

    def _ttl_ms(self, ttl_s: float | None) -> int | None:
        """Milliseconds to live, None for no expiry; at least 1 ms so Redis accepts it."""
        ttl = self._default_ttl if ttl_s is None else ttl_s
        return None if ttl is None else max(1, round(ttl * 1000))

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._redis.get(self._key(key))
        return value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        await self._redis.set(self._key(key), bytes(value), px=self._ttl_ms(ttl_s))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        # UNLINK frees large values in a background thread instead of blocking the server.
        removed: int = await self._redis.unlink(*(self._key(k) for k in keys))
        return removed

    async def delete_prefix(self, prefix: str) -> int:
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self._key(prefix)) + "*"
        removed = 0
        batch: list[bytes] = []
        async for key in self._redis.scan_iter(match=pattern, count=self._scan_batch):
            batch.append(key)
            if len(batch) >= self._scan_batch:
                removed += await self._redis.unlink(*batch)
                batch.clear()
        if batch:
            removed += await self._redis.unlink(*batch)
        return removed

    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        name = self._key(key)
        ttl_ms = self._ttl_ms(ttl_s)
        if ttl_ms is None:
            value: int = await self._redis.incrby(name, amount)
            return value
        # MULTI/EXEC: "SET NX" gives only a new key its TTL and INCRBY keeps it, atomically.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=ttl_ms, nx=True)
            pipe.incrby(name, amount)
            _, value = await pipe.execute()
        return int(value)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.connection_pool.disconnect()
