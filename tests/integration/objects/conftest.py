"""Object-store fixtures: every store test runs on the local directory and on real S3 (SeaweedFS).

One SeaweedFS serves the whole session; tests share one bucket and each gets
its own key prefix, so they never see each other's objects.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from audotics.infra.objects.base import ObjectStore
from audotics.infra.objects.local import LocalObjectStore
from audotics.infra.objects.s3 import MiB, S3ObjectStore
from tests.support.seaweed import SeaweedServer
from tests.support.servers import run_coroutine_blocking

SHARED_BUCKET = "audotics-tests"
# Small parts so a few-MB test file goes up as a real multipart upload (5 MiB is S3's minimum).
TEST_PART_BYTES = 5 * MiB


def make_s3_store(server: SeaweedServer, bucket: str, **options: Any) -> S3ObjectStore:
    settings: dict[str, Any] = {
        "endpoint_url": server.endpoint_url,
        "region": server.region,
        "access_key_id": server.access_key,
        "secret_access_key": server.secret_key,
        "multipart_threshold_bytes": TEST_PART_BYTES,
        "multipart_chunk_bytes": TEST_PART_BYTES,
    }
    settings.update(options)
    return S3ObjectStore(bucket, **settings)


def unique_bucket(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def shared_bucket(seaweed_server: SeaweedServer) -> str:
    store = make_s3_store(seaweed_server, SHARED_BUCKET)
    try:
        run_coroutine_blocking(store.ensure_bucket)
    finally:
        run_coroutine_blocking(store.close)
    return SHARED_BUCKET


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def object_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ObjectStore]:
    store: ObjectStore
    if request.param == "local":
        store = LocalObjectStore(tmp_path / "objects")
    else:
        server: SeaweedServer = request.getfixturevalue("seaweed_server")
        bucket: str = request.getfixturevalue("shared_bucket")
        store = make_s3_store(server, bucket, key_prefix=f"t-{uuid.uuid4().hex}")
    try:
        yield store
    finally:
        await store.close()
