"""One way to open a redis-py client for the Redis backends (cache, queue, events)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis


def open_redis(url: str, *, max_connections: int, decode_responses: bool = False) -> Any:
    """A client on a blocking pool, speaking RESP2.

    The backends parse RESP2 reply shapes (lists of pairs). Pinning the protocol keeps
    them independent of redis-py's default, and the client is returned untyped because
    redis-py's annotations are unions over both protocols' shapes, which would force a
    cast at every call without checking anything. A blocking pool makes a burst wait
    for a free connection instead of failing.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        decode_responses=decode_responses,
        protocol=2,
    )
    return aioredis.Redis(connection_pool=pool)
