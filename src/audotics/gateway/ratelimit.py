"""Rate limiting with the ``limits`` library: in-process storage embedded, Redis in production.

Limits are strings such as ``"60/minute"`` or ``"5 per second"``. Routes opt in with the
``rate_limit`` dependency, which counts per signed-in principal (else per client address)
and answers 429 problem+json with ``Retry-After`` once the limit is spent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import redis.asyncio as aioredis
from fastapi import FastAPI, Request, Response
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from audotics.config import Settings
from audotics.gateway.errors import TooManyRequests

logger = logging.getLogger("audotics.ratelimit")

Strategy = Literal["moving-window", "fixed-window"]


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window frees up again

    def retry_after_s(self) -> int:
        """Whole seconds to wait before the next request can be allowed (at least 1)."""
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        """The IETF draft ``RateLimit-*`` headers (reset as seconds from now)."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(max(0, math.ceil(self.reset_at - time.time()))),
        }


@lru_cache(maxsize=256)
def parse_limit(limit: str) -> RateLimitItem:
    """``"60/minute"`` -> a limits item; raises ValueError on a malformed string."""
    return parse(limit)


def limits_redis_uri(redis_url: str) -> str:
    """``redis://h:p/db`` -> ``async+redis://h:p/db`` (likewise rediss://, unix://)."""
    scheme, sep, rest = redis_url.partition("://")
    if not sep:
        raise ValueError(f"not a Redis URL: {redis_url!r}")
    schemes = {"redis": "async+redis", "rediss": "async+rediss", "unix": "async+redis+unix"}
    if scheme not in schemes:
        raise ValueError(f"unsupported Redis URL scheme {scheme!r}")
    return f"{schemes[scheme]}://{rest}"


class RateLimiter:
    """Counts hits per (key, limit): in-process, or in Redis (shared by every replica)
    when ``redis_url`` is given. The storage is created on first use, inside the event
    loop that uses it."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        strategy: Strategy = "moving-window",
        key_prefix: str = "audotics:ratelimit",
    ) -> None:
        self._redis_url = redis_url
        self._strategy_name = strategy
        self._key_prefix = key_prefix
        self._storage: Storage | None = None
        self._pool: aioredis.BlockingConnectionPool | None = None
        self._strategy: MovingWindowRateLimiter | FixedWindowRateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> RateLimiter:
        return cls(settings.redis_url, **kwargs)

    @property
    def backend(self) -> str:
        return "redis" if self._redis_url else "memory"

    def _limiter(self) -> MovingWindowRateLimiter | FixedWindowRateLimiter:
        if self._strategy is None:
            if self._redis_url:
                # redis-py (already a dependency) rather than limits' default, coredis,
                # on a pool of ours so that close() can release it.
                self._pool = aioredis.BlockingConnectionPool.from_url(
                    self._redis_url, max_connections=64, timeout=10
                )
                options: dict[str, Any] = {"connection_pool": self._pool}
                self._storage = RedisStorage(
                    limits_redis_uri(self._redis_url),
                    implementation="redispy",
                    key_prefix=self._key_prefix,
                    **options,
                )
            else:
                self._storage = MemoryStorage()
            if self._strategy_name == "moving-window":
                self._strategy = MovingWindowRateLimiter(self._storage)
            else:
                self._strategy = FixedWindowRateLimiter(self._storage)
        return self._strategy

    async def hit(self, key: str, limit: str) -> RateLimitResult:
        """Count one request for ``key`` against ``limit`` (e.g. ``"60/minute"``)."""
        item = parse_limit(limit)
        limiter = self._limiter()
        allowed = await limiter.hit(item, key)
        stats = await limiter.get_window_stats(item, key)
        return RateLimitResult(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_at=stats.reset_time,
        )

    async def reset(self, key: str, limit: str) -> None:
        """Forget the hits counted for ``key`` under ``limit``."""
        await self._limiter().clear(parse_limit(limit), key)

    async def ping(self) -> None:
        self._limiter()
        if self._storage is not None and not await self._storage.check():
            raise ConnectionError(f"rate limit storage ({self.backend}) is unreachable")

    async def close(self) -> None:
        pool, self._pool, self._storage, self._strategy = self._pool, None, None, None
        if pool is not None:
            await pool.disconnect()


def get_rate_limiter(app: FastAPI) -> RateLimiter:
    """The app's limiter; an in-process one is created if the lifespan did not set one."""
    limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        logger.warning("app.state.rate_limiter is not set: using an in-process rate limiter")
        limiter = RateLimiter()
        app.state.rate_limiter = limiter
    return limiter


def client_key(request: Request) -> str:
    """Who is counted: the signed-in principal if any, else the client address."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        principal_id = getattr(principal, "id", principal)
        return f"principal:{principal_id}"
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


def rate_limit(
    limit: str = "60/minute", scope: str = "default"
) -> Callable[[Request, Response], Awaitable[None]]:
    """A FastAPI dependency allowing ``limit`` requests per client within ``scope``.

    Routes sharing a scope share one budget. Use it after the authentication dependency
    so that signed-in clients are counted by principal rather than by address.
    """
    item = parse_limit(limit)  # a malformed limit fails at import time, not per request

    async def enforce_rate_limit(request: Request, response: Response) -> None:
        limiter = get_rate_limiter(request.app)
        result = await limiter.hit(f"{scope}:{client_key(request)}", limit)
        headers = result.headers()
        if not result.allowed:
            retry_after = result.retry_after_s()
            raise TooManyRequests(
                f"Rate limit of {item.amount} per {_window(item)} exceeded; "
                f"retry in {retry_after} s.",
                headers={**headers, "Retry-After": str(retry_after)},
            )
        response.headers.update(headers)

    return enforce_rate_limit


def _window(item: RateLimitItem) -> str:
    unit: str = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"
