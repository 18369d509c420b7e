"""Uploading audio: what is accepted, what is refused, and that a refusal stores nothing."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from audotics.config import Settings
from audotics.infra.objects.base import ObjectStore
from tests.integration.catalog.conftest import assert_problem, create_track
from tests.support.audio import encode
from tests.support.factories import SignedIn

API = "/api/v1"


async def _stored_keys(objects: ObjectStore) -> list[str]:
    return [info.key for info in await objects.list("audio/")]


async def _put(
    client: httpx.AsyncClient, user: SignedIn, track_id: str, data: Any, ctype: str = "audio/wav"
) -> httpx.Response:
    return await client.put(
        f"{API}/tracks/{track_id}/audio",
        content=data,
        headers={**user.headers, "Content-Type": ctype},
    )


@pytest.mark.parametrize(
    ("kind", "content_type", "audio_format"),
    [
        ("wav", "audio/wav", "wav"),
        ("flac", "audio/flac", "flac"),
        ("ogg", "audio/ogg", "vorbis"),
        ("opus", "audio/ogg", "opus"),
        ("mp3", "audio/mpeg", "mp3"),
    ],
)
async def test_accepts_each_supported_format(
    client: httpx.AsyncClient,
    listener: SignedIn,
    objects: ObjectStore,
    kind: str,
    content_type: str,
    audio_format: str,
) -> None:
    data = encode(kind, seconds=1.0)
    track = await create_track(client, listener, "Tone")
    # The declared type is only a hint: the content decides.
    response = await _put(client, listener, track["id"], data, "application/octet-stream")
    assert response.status_code == 200, response.text
    body = response.json()
    audio = body["audio"]
    assert audio["content_type"] == content_type and audio["format"] == audio_format
    assert audio["size"] == len(data)
    assert audio["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["duration_s"] == pytest.approx(1.0, abs=0.1)
    assert body["analysis_status"] == "pending"
    keys = await _stored_keys(objects)
    assert len(keys) == 1 and keys[0].startswith(f"audio/{track['id']}/{audio['sha256']}.")
    assert await objects.get(keys[0]) == data


async def test_multipart_upload_for_browsers(
    client: httpx.AsyncClient, listener: SignedIn, objects: ObjectStore
) -> None:
    data = encode("flac")
    track = await create_track(client, listener)
    response = await client.post(
        f"{API}/tracks/{track['id']}/audio",
        files={"file": ("song.flac", data, "audio/flac")},
        headers=listener.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["audio"]["format"] == "flac"
    missing = await client.post(
        f"{API}/tracks/{track['id']}/audio",
        files={"other": ("song.flac", data, "audio/flac")},
        headers=listener.headers,
    )
    assert_problem(missing, 422)
    assert len(await _stored_keys(objects)) == 1


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


REJECTED = [
    ("text named .wav", b"notes, not audio\n" * 50, "audio/wav", 415, "not a recognised audio"),
    ("png image", _png(), "audio/wav", 415, "image/png, not audio"),
    ("garbage", bytes(range(256)) * 16, "audio/mpeg", 415, "not a recognised audio"),
    ("empty", b"", "audio/wav", 422, "empty"),
    ("cut flac", encode("flac")[:3000], "audio/flac", 422, "corrupt or truncated"),
    ("cut wav", encode("wav")[:5000], "audio/wav", 422, "WAV file is truncated"),
    ("cut ogg", encode("ogg")[:-200], "audio/ogg", 422, "corrupt or truncated"),
    ("typed as text", encode("wav"), "text/plain", 415, "Content-Type audio/*"),
]


async def test_rejections_store_nothing(
    client: httpx.AsyncClient, listener: SignedIn, objects: ObjectStore
) -> None:
    for case, data, content_type, status, explained in REJECTED:
        track = await create_track(client, listener, case)
        response = await _put(client, listener, track["id"], data, content_type)
        assert explained in assert_problem(response, status)["detail"], case
        after = await client.get(f"{API}/tracks/{track['id']}", headers=listener.headers)
        assert after.json() == track, case
    assert await _stored_keys(objects) == []


def _without(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in fields}


async def test_oversized_uploads_are_cut_off(
    client: httpx.AsyncClient, listener: SignedIn, objects: ObjectStore, settings: Settings
) -> None:
    track = await create_track(client, listener)
    first = encode("wav")
    assert (await _put(client, listener, track["id"], first)).status_code == 200
    before = (await client.get(f"{API}/tracks/{track['id']}", headers=listener.headers)).json()
    too_big = b"RIFF" + b"\x00" * settings.max_upload_bytes  # limit + 4 bytes

    declared = await _put(client, listener, track["id"], too_big)
    assert_problem(declared, 413)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for start in range(0, len(too_big), 256 * 1024):
            yield too_big[start : start + 256 * 1024]

    streamed = await _put(client, listener, track["id"], chunked())
    assert_problem(streamed, 413)
    form = await client.post(
        f"{API}/tracks/{track['id']}/audio",
        files={"file": ("big.wav", too_big, "audio/wav")},
        headers=listener.headers,
    )
    assert_problem(form, 413)

    after = (await client.get(f"{API}/tracks/{track['id']}", headers=listener.headers)).json()
    # The accepted first upload is analysed in the background meanwhile: status and
    # timestamp may move on; the stored audio and metadata must not.
    analysis_fields = ("analysis_status", "updated_at")
    assert _without(after, analysis_fields) == _without(before, analysis_fields)
    assert await _stored_keys(objects) == [
        f"audio/{track['id']}/{hashlib.sha256(first).hexdigest()}.wav"
    ]


async def test_replacing_audio_removes_the_old_object(
    client: httpx.AsyncClient, listener: SignedIn, objects: ObjectStore
) -> None:
    track = await create_track(client, listener)
    wav, flac = encode("wav", seconds=1.0), encode("flac", seconds=2.0)
    assert (await _put(client, listener, track["id"], wav)).status_code == 200
    assert (await _put(client, listener, track["id"], wav)).status_code == 200  # same bytes
    assert len(await _stored_keys(objects)) == 1
    replaced = await _put(client, listener, track["id"], flac, "audio/flac")
    assert replaced.json()["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert await _stored_keys(objects) == [
        f"audio/{track['id']}/{hashlib.sha256(flac).hexdigest()}.flac"
    ]

    removed = await client.delete(f"{API}/tracks/{track['id']}/audio", headers=listener.headers)
    assert removed.status_code == 200 and removed.json()["audio"] is None
    assert await _stored_keys(objects) == []
    again = await client.delete(f"{API}/tracks/{track['id']}/audio", headers=listener.headers)
    assert_problem(again, 404)


async def test_upload_permissions_and_track_deletion(
    client: httpx.AsyncClient,
    listener: SignedIn,
    stranger: SignedIn,
    curator: SignedIn,
    objects: ObjectStore,
) -> None:
    public = await create_track(client, curator, "Public")
    private = await create_track(client, listener, "Private")
    wav = encode("wav")
    assert_problem(await _put(client, listener, public["id"], wav), 403)
    assert_problem(await _put(client, stranger, private["id"], wav), 404)
    assert await _stored_keys(objects) == []

    assert (await _put(client, curator, public["id"], wav)).status_code == 200
    assert (await _put(client, listener, private["id"], wav)).status_code == 200
    assert len(await _stored_keys(objects)) == 2
    deleted = await client.delete(f"{API}/tracks/{private['id']}", headers=listener.headers)
    assert deleted.status_code == 204
    assert [key.split("/")[1] for key in await _stored_keys(objects)] == [public["id"]]
