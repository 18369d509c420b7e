"""The ObjectStore contract, run against the local directory and a real S3 server alike."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from audotics.infra.objects.base import (
    InvalidObjectKey,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreAccessDenied,
    ObjectStoreError,
    ObjectStoreUnavailable,
)
from audotics.infra.objects.local import LocalObjectStore
from audotics.infra.objects.s3 import S3ObjectStore
from tests.integration.objects.conftest import (
    TEST_PART_BYTES,
    make_s3_store,
    unique_bucket,
)
from tests.support.seaweed import SeaweedServer
from tests.support.servers import free_port

# 1 KiB where every byte value appears, so an off-by-one in a range shows up.
PATTERN = bytes(range(256)) * 4

BAD_KEYS = [
    "../x",
    "a/../../x",
    "/abs",
    "a//b",
    "a/./b",
    "./a",
    "a/",
    "",
    "x" * 513,
    "a/" + "x" * 256,
    "caf\u00e9.mp3",
    "tr\u00e4ck/a",
    "a b",
    "a\\b",
    "a\nb",
    "track.mp3\n",
    ".meta/a",
    "a/.hidden",
    "a\x00b",
]


def key_id(key: str) -> str:
    shown = repr(key)
    return shown if len(shown) <= 24 else f"{shown[:12]}...({len(key)} chars)"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


async def collect(
    store: ObjectStore, key: str, start: int = 0, end: int | None = None, chunk_size: int = 1024
) -> list[bytes]:
    return [chunk async for chunk in store.stream(key, start, end, chunk_size)]


async def test_put_get_roundtrip_keeps_content_type_and_etag(object_store: ObjectStore) -> None:
    data = b"ID3" + os.urandom(2000)
    before = datetime.now(UTC) - timedelta(minutes=5)  # server clocks round to seconds

    info = await object_store.put("audio/track.mp3", data, content_type="audio/mpeg")

    assert info.key == "audio/track.mp3"
    assert info.size == len(data)
    assert info.etag == md5_hex(data)  # a single-part etag is the MD5, and never quoted
    assert info.content_type == "audio/mpeg"
    assert info.last_modified > before
    assert await object_store.get("audio/track.mp3") == data
    assert await object_store.head("audio/track.mp3") == info
    assert await object_store.exists("audio/track.mp3")


async def test_content_type_is_guessed_from_the_key(object_store: ObjectStore) -> None:
    await object_store.put("covers/front.png", b"\x89PNG")
    await object_store.put("blobs/raw", b"\x00")

    assert (await object_store.head("covers/front.png")).content_type == "image/png"
    assert (await object_store.head("blobs/raw")).content_type == "application/octet-stream"


async def test_empty_object(object_store: ObjectStore) -> None:
    info = await object_store.put("empty.bin", b"")

    assert info.size == 0
    assert info.etag == md5_hex(b"")
    assert await object_store.get("empty.bin") == b""
    assert await collect(object_store, "empty.bin") == []
    assert await object_store.get_range("empty.bin", 0, 10) == b""


async def test_put_file_of_several_megabytes(object_store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(2 * TEST_PART_BYTES + 123_456)  # three parts on S3
    source = tmp_path / "upload.flac"
    source.write_bytes(data)

    info = await object_store.put_file("audio/big.flac", source)

    assert info.size == len(data)
    assert info.content_type in ("audio/flac", "audio/x-flac")
    if isinstance(object_store, S3ObjectStore):
        # A multipart etag is "<md5 of the part md5s>-<part count>".
        assert info.etag.endswith("-3"), info.etag
    else:
        assert info.etag == md5_hex(data)
    assert await object_store.get("audio/big.flac") == data
    tail = await object_store.get_range("audio/big.flac", len(data) - 10, len(data) - 1)
    assert tail == data[-10:]


@pytest.mark.parametrize(
    ("start", "end", "expected_slice"),
    [
        pytest.param(0, 0, slice(0, 1), id="first-byte"),
        pytest.param(1023, 1023, slice(1023, 1024), id="last-byte"),
        pytest.param(100, 199, slice(100, 200), id="middle"),
        pytest.param(0, 1023, slice(0, 1024), id="whole"),
        pytest.param(1000, 5000, slice(1000, 1024), id="end-past-size-clamps"),
        pytest.param(1024, 2000, slice(0, 0), id="start-past-size-is-empty"),
        pytest.param(10, 9, slice(0, 0), id="end-before-start-is-empty"),
    ],
)
async def test_get_range_edges(
    object_store: ObjectStore, start: int, end: int, expected_slice: slice
) -> None:
    await object_store.put("pattern.bin", PATTERN)

    assert await object_store.get_range("pattern.bin", start, end) == PATTERN[expected_slice]


async def test_get_range_rejects_a_negative_start(object_store: ObjectStore) -> None:
    await object_store.put("pattern.bin", PATTERN)

    with pytest.raises(ValueError, match="start"):
        await object_store.get_range("pattern.bin", -1, 10)


@pytest.mark.parametrize(
    ("start", "end", "chunk_size"),
    [
        (0, None, 100),
        (0, None, 1024),
        (0, None, 4096),
        (5, 9, 2),
        (1000, 5000, 7),
        (1023, None, 64),
        (2000, None, 64),
    ],
)
async def test_stream_yields_exactly_the_requested_bytes(
    object_store: ObjectStore, start: int, end: int | None, chunk_size: int
) -> None:
    await object_store.put("pattern.bin", PATTERN)

    chunks = await collect(object_store, "pattern.bin", start=start, end=end, chunk_size=chunk_size)

    stop = len(PATTERN) if end is None else end + 1
    assert b"".join(chunks) == PATTERN[start:stop]
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)


async def test_abandoned_stream_does_not_break_the_store(object_store: ObjectStore) -> None:
    await object_store.put("pattern.bin", PATTERN)
    stream = object_store.stream("pattern.bin", chunk_size=16)
    # A generator, so an HTTP response that stops early can close it and free the connection.
    assert isinstance(stream, AsyncGenerator)

    first = await stream.__anext__()
    await stream.aclose()

    assert first == PATTERN[:16]
    assert await object_store.get("pattern.bin") == PATTERN


async def test_missing_object_raises_object_not_found(object_store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await object_store.head("no/such/object")
    with pytest.raises(ObjectNotFound):
        await object_store.get("no/such/object")
    with pytest.raises(ObjectNotFound):
        await object_store.get_range("no/such/object", 0, 10)
    with pytest.raises(ObjectNotFound):
        await collect(object_store, "no/such/object")
    assert not await object_store.exists("no/such/object")


async def test_delete_is_idempotent(object_store: ObjectStore) -> None:
    await object_store.put("doomed.txt", b"bye")

    await object_store.delete("doomed.txt")
    await object_store.delete("doomed.txt")
    await object_store.delete("never/existed.txt")

    assert not await object_store.exists("doomed.txt")
    assert await object_store.list() == []


async def test_a_deleted_prefix_can_become_an_object(object_store: ObjectStore) -> None:
    await object_store.put("album/disc1/track.mp3", b"track")
    await object_store.delete("album/disc1/track.mp3")

    await object_store.put("album", b"now an object")

    assert await object_store.get("album") == b"now an object"
    assert [i.key for i in await object_store.list()] == ["album"]


async def test_local_store_refuses_keys_a_directory_tree_cannot_hold(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    await store.put("a/b", b"below a")
    await store.put("c", b"an object")

    with pytest.raises(InvalidObjectKey, match="prefix of existing objects"):
        await store.put("a", b"x")
    with pytest.raises(InvalidObjectKey, match="below an existing object"):
        await store.put("c/d", b"x")
    with pytest.raises(ObjectNotFound):
        await store.get("a")
    with pytest.raises(ObjectNotFound):
        await store.head("c/d")
    await store.delete("a")  # a prefix, not an object: nothing to delete
    await store.delete("c/d")
    assert await store.get("a/b") == b"below a"
    assert await store.get("c") == b"an object"


async def test_list_by_prefix(object_store: ObjectStore) -> None:
    for key in ("a/1.txt", "a/2.txt", "a/sub/3.txt", "ab/4.txt", "b/5.txt"):
        await object_store.put(key, key.encode())

    assert [i.key for i in await object_store.list("a/")] == ["a/1.txt", "a/2.txt", "a/sub/3.txt"]
    assert [i.key for i in await object_store.list("a")] == [
        "a/1.txt",
        "a/2.txt",
        "a/sub/3.txt",
        "ab/4.txt",
    ]
    everything = await object_store.list()
    assert [i.key for i in everything] == [
        "a/1.txt",
        "a/2.txt",
        "a/sub/3.txt",
        "ab/4.txt",
        "b/5.txt",
    ]
    assert {i.key: (i.size, i.etag) for i in everything} == {
        i.key: (len(i.key), md5_hex(i.key.encode())) for i in everything
    }
    assert await object_store.list("zzz") == []


async def test_local_list_hides_sidecars_and_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    await store.put("a/1.txt", b"one")
    # What a crashed upload leaves behind, and a file no valid key can name.
    (store.root / "a" / ".upload-abc123").write_bytes(b"partial")
    (store.root / "a" / "bad name.txt").write_bytes(b"stray")

    keys = [info.key for info in await store.list()]

    assert keys == ["a/1.txt"]
    assert (store.root / ".meta" / "a" / "1.txt").is_file()  # the sidecar exists, unlisted


async def test_overwrite_replaces_content_and_etag(object_store: ObjectStore) -> None:
    first = await object_store.put("track.ogg", b"first version")
    second = await object_store.put("track.ogg", b"second, longer version", "audio/ogg")

    assert second.etag != first.etag
    assert second.etag == md5_hex(b"second, longer version")
    assert await object_store.get("track.ogg") == b"second, longer version"
    assert await object_store.head("track.ogg") == second
    assert [i.key for i in await object_store.list()] == ["track.ogg"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=key_id)
async def test_every_operation_rejects_bad_keys(object_store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        await object_store.put(key, b"x")
    with pytest.raises(InvalidObjectKey):
        await object_store.get(key)
    with pytest.raises(InvalidObjectKey):
        await object_store.head(key)
    with pytest.raises(InvalidObjectKey):
        await object_store.delete(key)
    with pytest.raises(InvalidObjectKey):
        await object_store.presigned_url(key)
    assert await object_store.list() == []


async def test_longest_valid_key_works(object_store: ObjectStore) -> None:
    key = "/".join(["x" * 255, "y" * 255])[:-1]  # 510 characters, parts at the limit

    await object_store.put(key, b"long")

    assert await object_store.get(key) == b"long"


async def test_presigned_url(object_store: ObjectStore) -> None:
    data = os.urandom(4096)
    await object_store.put("share/clip.mp3", data, "audio/mpeg")

    url = await object_store.presigned_url("share/clip.mp3", expires_s=60)

    if isinstance(object_store, LocalObjectStore):
        assert url is None
        return
    assert url is not None
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
        tampered = await http.get(url.replace("clip.mp3", "other.mp3"))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/mpeg"
    assert tampered.status_code == 403  # the signature covers the key


async def test_ping(object_store: ObjectStore) -> None:
    await object_store.ping()


# --- S3 only ------------------------------------------------------------------------------


@pytest.mark.s3
async def test_wrong_credentials_fail_fast_and_clearly(
    seaweed_server: SeaweedServer, shared_bucket: str
) -> None:
    store = make_s3_store(seaweed_server, shared_bucket, secret_access_key="not-the-secret")
    started = time.monotonic()
    try:
        with pytest.raises(ObjectStoreAccessDenied, match="access key"):
            await store.ping()
        with pytest.raises(ObjectStoreAccessDenied, match="PutObject"):
            await store.put("x.txt", b"x")
        with pytest.raises(ObjectStoreAccessDenied):
            await store.get("x.txt")
    finally:
        await store.close()
    assert time.monotonic() - started < 5


@pytest.mark.s3
async def test_unreachable_endpoint_fails_fast(seaweed_server: SeaweedServer) -> None:
    store = S3ObjectStore(
        "anything",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="key",
        secret_access_key="secret",
        max_attempts=1,
    )
    started = time.monotonic()
    try:
        with pytest.raises(ObjectStoreUnavailable, match="could not reach"):
            await store.ping()
        with pytest.raises(ObjectStoreUnavailable):
            await store.get("x.txt")
    finally:
        await store.close()
    assert time.monotonic() - started < 5


@pytest.mark.s3
async def test_bucket_is_created_by_ensure_bucket_not_by_ping(
    seaweed_server: SeaweedServer,
) -> None:
    bucket = unique_bucket("ensure")
    store = make_s3_store(seaweed_server, bucket)
    client = seaweed_server.s3_client()
    try:
        with pytest.raises(ObjectStoreError, match="does not exist"):
            await store.ping()
        assert bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert await store.list() == []  # a missing bucket holds nothing
        with pytest.raises(ObjectNotFound):
            await store.get("x.txt")

        await store.ensure_bucket()
        await store.ensure_bucket()  # idempotent

        await store.ping()
        assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]
    finally:
        await store.close()
        client.delete_bucket(Bucket=bucket)


@pytest.mark.s3
@pytest.mark.parametrize("upload", ["put", "put_file"])
async def test_first_write_creates_a_missing_bucket(
    seaweed_server: SeaweedServer, tmp_path: Path, upload: str
) -> None:
    bucket = unique_bucket("lazy")
    store = make_s3_store(seaweed_server, bucket)
    client = seaweed_server.s3_client()
    source = tmp_path / "first.txt"
    source.write_bytes(b"first object")
    try:
        if upload == "put":
            info = await store.put("first.txt", b"first object")
        else:
            info = await store.put_file("first.txt", source)

        assert info.size == len(b"first object")
        assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert await store.get("first.txt") == b"first object"
        await store.ping()
    finally:
        await store.delete("first.txt")
        await store.close()
        client.delete_bucket(Bucket=bucket)


@pytest.mark.s3
async def test_key_prefix_keeps_stores_apart(
    seaweed_server: SeaweedServer, shared_bucket: str
) -> None:
    prefix = unique_bucket("tenant")
    first = make_s3_store(seaweed_server, shared_bucket, key_prefix=f"{prefix}/one")
    second = make_s3_store(seaweed_server, shared_bucket, key_prefix=f"{prefix}/two/")
    try:
        await first.put("same.txt", b"first")
        await second.put("same.txt", b"second")

        assert await first.get("same.txt") == b"first"
        assert await second.get("same.txt") == b"second"
        assert [i.key for i in await first.list()] == ["same.txt"]
        raw = seaweed_server.s3_client().list_objects_v2(Bucket=shared_bucket, Prefix=prefix)
        assert sorted(o["Key"] for o in raw["Contents"]) == [
            f"{prefix}/one/same.txt",
            f"{prefix}/two/same.txt",
        ]
    finally:
        await first.close()
        await second.close()


def test_key_prefix_is_validated() -> None:
    with pytest.raises(InvalidObjectKey):
        S3ObjectStore("bucket", endpoint_url="http://127.0.0.1:9", key_prefix="../escape")
