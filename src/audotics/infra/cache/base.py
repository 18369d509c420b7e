"""The cache interface shared by both backends."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any


class Cache(ABC):
    """Byte values under string keys, each with an optional time-to-live in seconds."""

    backend: str = "abstract"

    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix`` (namespace invalidation)."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        """Atomically add ``amount``; a new key starts at 0 and gets ``ttl_s``."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the backend is unreachable."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    async def get_json(self, key: str) -> Any | None:
        raw = await self.get(key)
        return None if raw is None else json.loads(raw)

    async def set_json(self, key: str, value: Any, ttl_s: float | None = None) -> None:
        await self.set(key, json.dumps(value, separators=(",", ":")).encode(), ttl_s)
