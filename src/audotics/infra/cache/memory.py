"""In-process LRU cache with per-entry TTL (embedded mode)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from audotics.infra.cache.base import Cache


class MemoryCache(Cache):
    backend = "memory"

    def __init__(self, max_entries: int = 10_000, default_ttl_s: float | None = 300.0) -> None:
        self._max = max_entries
        self._default_ttl = default_ttl_s
        self._data: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()
        self._lock = asyncio.Lock()

    def _expiry(self, ttl_s: float | None) -> float | None:
        ttl = self._default_ttl if ttl_s is None else ttl_s
        return None if ttl is None else time.monotonic() + ttl

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        self._data[key] = (expires, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        self._store(key, bytes(value), self._expiry(ttl_s))

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                removed += 1
            self._data.pop(key, None)
        return removed

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self._data if k.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)

    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        async with self._lock:
            current = self._live(key)
            if current is None:
                value = amount
                expires = self._expiry(ttl_s)
            else:
                value = int(current) + amount
                expires = self._data[key][0]
            self._store(key, str(value).encode(), expires)
            return value

    async def ping(self) -> None:
        return None
