"""The whole app configured for S3: /readyz sees the bucket, and a dead endpoint fast."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.objects.s3 import S3ObjectStore
from tests.integration.objects.conftest import make_s3_store, unique_bucket
from tests.support.seaweed import SeaweedServer
from tests.support.servers import free_port, run_coroutine_blocking

pytestmark = pytest.mark.s3


def s3_app_settings(
    tmp_path: Path, endpoint_url: str, bucket: str, key: str, secret: str
) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/a.db",
        auto_migrate=True,
        s3_endpoint_url=endpoint_url,
        s3_bucket=bucket,
        s3_access_key_id=key,
        s3_secret_access_key=secret,
    )


async def readyz(settings: Settings) -> tuple[httpx.Response, float]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30):
        assert isinstance(app.state.infra.objects, S3ObjectStore)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            started = time.monotonic()
            response = await http.get("/readyz")
            return response, time.monotonic() - started


@pytest.fixture(scope="module")
def readyz_bucket(seaweed_server: SeaweedServer) -> Iterator[str]:
    bucket = unique_bucket("readyz")
    store = make_s3_store(seaweed_server, bucket)
    run_coroutine_blocking(store.ensure_bucket)
    run_coroutine_blocking(store.close)
    yield bucket
    seaweed_server.s3_client().delete_bucket(Bucket=bucket)


async def test_readyz_is_ok_on_s3(
    seaweed_server: SeaweedServer, readyz_bucket: str, tmp_path: Path
) -> None:
    settings = s3_app_settings(
        tmp_path,
        seaweed_server.endpoint_url,
        readyz_bucket,
        seaweed_server.access_key,
        seaweed_server.secret_key,
    )

    response, _ = await readyz(settings)

    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks == dict.fromkeys(("database", "cache", "objects", "queue", "events"), "ok")


async def test_readyz_fails_when_the_bucket_is_missing(
    seaweed_server: SeaweedServer, tmp_path: Path
) -> None:
    settings = s3_app_settings(
        tmp_path,
        seaweed_server.endpoint_url,
        unique_bucket("absent"),
        seaweed_server.access_key,
        seaweed_server.secret_key,
    )

    response, _ = await readyz(settings)

    assert response.status_code == 503
    assert response.json()["checks"]["objects"] == "error: S3BucketMissing"


async def test_readyz_fails_fast_when_nothing_listens(tmp_path: Path) -> None:
    settings = s3_app_settings(
        tmp_path, f"http://127.0.0.1:{free_port()}", "audotics", "key", "secret"
    )

    response, elapsed = await readyz(settings)

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["objects"] == "error: ObjectStoreUnavailable"
    assert body["checks"]["database"] == "ok"
    assert elapsed < 2.5


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """Accepts TCP connections (in the kernel backlog) and never answers: a hung server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


async def test_readyz_does_not_hang_on_a_silent_server(
    silent_listener: int, tmp_path: Path
) -> None:
    settings = s3_app_settings(
        tmp_path, f"http://127.0.0.1:{silent_listener}", "audotics", "key", "secret"
    )

    response, elapsed = await readyz(settings)

    assert response.status_code == 503
    # The store's own probe timeout fired, not the app's 3 s asyncio.wait_for.
    assert response.json()["checks"]["objects"] == "error: ObjectStoreUnavailable"
    assert elapsed < 2.9
