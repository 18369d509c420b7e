"""Rate limits with the in-process and the Redis storage, and the 429 they produce over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response

from audotics.config import Settings
from audotics.gateway.errors import install_error_handlers
from audotics.gateway.ratelimit import RateLimiter, limits_redis_uri, rate_limit


async def test_allows_the_limit_then_refuses(rate_limiter: RateLimiter) -> None:
    results = [await rate_limiter.hit("ip:10.0.0.1", "3/minute") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert {r.limit for r in results} == {3}
    refused = results[-1]
    assert time.time() < refused.reset_at <= time.time() + 61
    assert 1 <= refused.retry_after_s() <= 60


async def test_keys_and_limits_are_counted_separately(rate_limiter: RateLimiter) -> None:
    assert (await rate_limiter.hit("alice", "1/minute")).allowed
    assert not (await rate_limiter.hit("alice", "1/minute")).allowed
    assert (await rate_limiter.hit("bob", "1/minute")).allowed
    assert (await rate_limiter.hit("alice", "5/hour")).allowed
    await rate_limiter.reset("alice", "1/minute")
    assert (await rate_limiter.hit("alice", "1/minute")).allowed


async def test_window_frees_up_after_its_period(rate_limiter: RateLimiter) -> None:
    assert (await rate_limiter.hit("k", "2/second")).allowed
    assert (await rate_limiter.hit("k", "2/second")).allowed
    refused = await rate_limiter.hit("k", "2/second")
    assert not refused.allowed
    await asyncio.sleep(max(0.0, refused.reset_at - time.time()) + 0.05)
    assert (await rate_limiter.hit("k", "2/second")).allowed


async def test_concurrent_hits_never_exceed_the_limit(rate_limiter: RateLimiter) -> None:
    results = await asyncio.gather(*(rate_limiter.hit("burst", "10/minute") for _ in range(30)))
    assert sum(r.allowed for r in results) == 10


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_fixed_window_strategy(
    backend: str, request: pytest.FixtureRequest, redis_namespace: str
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else None
    limiter = RateLimiter(url, strategy="fixed-window", key_prefix=f"{redis_namespace}rl")
    try:
        results = [await limiter.hit("k", "2/minute") for _ in range(3)]
        assert [(r.allowed, r.remaining) for r in results] == [(True, 1), (True, 0), (False, 0)]
        assert results[-1].reset_at > time.time()
    finally:
        await limiter.close()


async def test_ping(rate_limiter: RateLimiter) -> None:
    await rate_limiter.ping()


@pytest.mark.redis
async def test_redis_limits_are_shared_between_processes(
    redis_url: str, redis_namespace: str
) -> None:
    replicas = [RateLimiter(redis_url, key_prefix=f"{redis_namespace}rl") for _ in range(2)]
    try:
        outcomes = [(await replicas[n % 2].hit("ip:1", "4/minute")).allowed for n in range(6)]
        assert outcomes == [True, True, True, True, False, False]
    finally:
        for limiter in replicas:
            await limiter.close()


@pytest.mark.redis
async def test_from_settings_picks_the_storage(redis_url: str, tmp_path: Path) -> None:
    assert RateLimiter.from_settings(Settings(data_dir=tmp_path)).backend == "memory"
    limiter = RateLimiter.from_settings(Settings(data_dir=tmp_path, redis_url=redis_url))
    try:
        assert limiter.backend == "redis"
        await limiter.ping()
    finally:
        await limiter.close()


def test_redis_urls_become_limits_storage_uris() -> None:
    assert limits_redis_uri("redis://127.0.0.1:6379/2") == "async+redis://127.0.0.1:6379/2"
    assert limits_redis_uri("rediss://:pw@host:6380/0") == "async+rediss://:pw@host:6380/0"
    assert (
        limits_redis_uri("unix:///run/redis.sock?db=1") == "async+redis+unix:///run/redis.sock?db=1"
    )
    with pytest.raises(ValueError):
        limits_redis_uri("http://example.invalid")


def test_a_malformed_limit_fails_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError):
        rate_limit("sixty a minute")


# --- over HTTP ----------------------------------------------------------------------------


def _tiny_app(limiter: RateLimiter | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    if limiter is not None:
        app.state.rate_limiter = limiter

    @app.middleware("http")
    async def fake_auth(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        user = request.headers.get("X-Test-User")
        if user:
            request.state.principal = SimpleNamespace(id=user)
        return await call_next(request)

    @app.get("/limited", dependencies=[Depends(rate_limit("2/minute", scope="test"))])
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    return app


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_http_429_is_problem_json_with_retry_after(rate_limiter: RateLimiter) -> None:
    async for client in _client(_tiny_app(rate_limiter)):
        first = await client.get("/limited")
        assert first.status_code == 200
        assert first.headers["RateLimit-Limit"] == "2"
        assert first.headers["RateLimit-Remaining"] == "1"
        assert (await client.get("/limited")).status_code == 200

        refused = await client.get("/limited")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Remaining"] == "0"
        body = refused.json()
        assert (body["status"], body["type"], body["title"]) == (
            429,
            "/problems/rate-limited",
            "Too many requests",
        )
        assert "2 per minute" in body["detail"]

        # A signed-in principal has a budget of its own, separate from its address.
        signed_in = await client.get("/limited", headers={"X-Test-User": "u-42"})
        assert signed_in.status_code == 200


async def test_dependency_falls_back_to_an_in_process_limiter() -> None:
    app = _tiny_app(limiter=None)
    async for client in _client(app):
        codes = [(await client.get("/limited")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert isinstance(app.state.rate_limiter, RateLimiter)
        await app.state.rate_limiter.close()
