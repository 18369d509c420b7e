"""Streaming audio: ranges, conditional requests, HEAD, and signed URLs for <audio>."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from audotics.services.catalog import signing
from tests.integration.catalog.conftest import assert_problem, create_track
from tests.support.audio import encode
from tests.support.factories import SignedIn

API = "/api/v1"


@dataclass
class Uploaded:
    track_id: str
    data: bytes
    url: str

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.data).hexdigest()}"'


@pytest.fixture
async def uploaded(client: httpx.AsyncClient, listener: SignedIn) -> Uploaded:
    track = await create_track(client, listener, "Streamed")
    data = encode("wav", seconds=0.5)
    response = await client.put(
        f"{API}/tracks/{track['id']}/audio",
        content=data,
        headers={**listener.headers, "Content-Type": "audio/wav"},
    )
    assert response.status_code == 200, response.text
    return Uploaded(track["id"], data, f"{API}/tracks/{track['id']}/stream")


async def test_full_get(client: httpx.AsyncClient, listener: SignedIn, uploaded: Uploaded) -> None:
    response = await client.get(uploaded.url, headers=listener.headers)
    assert response.status_code == 200
    assert response.content == uploaded.data
    headers = response.headers
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-length"] == str(len(uploaded.data))
    assert headers["content-type"] == "audio/wav"
    assert headers["etag"] == uploaded.etag
    assert headers["cache-control"].startswith("private")
    assert headers["last-modified"].endswith(" GMT")


async def test_single_ranges(
    client: httpx.AsyncClient, listener: SignedIn, uploaded: Uploaded
) -> None:
    size = len(uploaded.data)
    cases = [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, size),
        ("bytes=-50", size - 50, size),
        ("bytes=10-999999999", 10, size),  # an end past the file clamps
        ("bytes=-99999999", 0, size),  # a suffix longer than the file: all of it
    ]
    for header, start, stop in cases:
        response = await client.get(uploaded.url, headers={**listener.headers, "Range": header})
        assert response.status_code == 206, header
        assert response.content == uploaded.data[start:stop], header
        assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}", header
        assert response.headers["content-length"] == str(stop - start), header


async def test_unsatisfiable_and_ignored_ranges(
    client: httpx.AsyncClient, listener: SignedIn, uploaded: Uploaded
) -> None:
    size = len(uploaded.data)
    for header in (f"bytes={size}-", f"bytes={size}-{size + 10}", "bytes=-0"):
        response = await client.get(uploaded.url, headers={**listener.headers, "Range": header})
        assert_problem(response, 416)
        assert response.headers["content-range"] == f"bytes */{size}", header
    # Several ranges are answered with the whole file; invalid ones are ignored.
    for header in ("bytes=0-1,5-9", "bytes=9-2", "lines=0-5", "bytes=x-"):
        response = await client.get(uploaded.url, headers={**listener.headers, "Range": header})
        assert response.status_code == 200 and response.content == uploaded.data, header


async def test_conditional_requests(
    client: httpx.AsyncClient, listener: SignedIn, uploaded: Uploaded
) -> None:
    auth = listener.headers
    matched = await client.get(uploaded.url, headers={**auth, "If-None-Match": uploaded.etag})
    assert matched.status_code == 304 and matched.content == b""
    assert matched.headers["etag"] == uploaded.etag
    listed = await client.get(
        uploaded.url, headers={**auth, "If-None-Match": f'"other", W/{uploaded.etag}'}
    )
    assert listed.status_code == 304  # If-None-Match compares weakly
    other = await client.get(uploaded.url, headers={**auth, "If-None-Match": '"other"'})
    assert other.status_code == 200

    last_modified = matched.headers["last-modified"]
    since = await client.get(uploaded.url, headers={**auth, "If-Modified-Since": last_modified})
    assert since.status_code == 304
    old = await client.get(
        uploaded.url, headers={**auth, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert old.status_code == 200

    ranged = {**auth, "Range": "bytes=0-9"}
    same = await client.get(uploaded.url, headers={**ranged, "If-Range": uploaded.etag})
    assert same.status_code == 206 and same.content == uploaded.data[:10]
    by_date = await client.get(uploaded.url, headers={**ranged, "If-Range": last_modified})
    assert by_date.status_code == 206
    stale = await client.get(uploaded.url, headers={**ranged, "If-Range": '"stale"'})
    assert stale.status_code == 200 and stale.content == uploaded.data
    weak = await client.get(uploaded.url, headers={**ranged, "If-Range": f"W/{uploaded.etag}"})
    assert weak.status_code == 200


async def test_head(client: httpx.AsyncClient, listener: SignedIn, uploaded: Uploaded) -> None:
    full = await client.head(uploaded.url, headers=listener.headers)
    assert full.status_code == 200 and full.content == b""
    assert full.headers["content-length"] == str(len(uploaded.data))
    assert full.headers["etag"] == uploaded.etag
    part = await client.head(uploaded.url, headers={**listener.headers, "Range": "bytes=5-14"})
    assert part.status_code == 206 and part.headers["content-length"] == "10"


async def test_who_may_stream(
    client: httpx.AsyncClient, listener: SignedIn, stranger: SignedIn, uploaded: Uploaded
) -> None:
    assert_problem(await client.get(uploaded.url), 401)
    assert_problem(await client.get(uploaded.url, headers=stranger.headers), 404)
    silent = await create_track(client, listener, "No audio yet")
    no_audio = await client.get(f"{API}/tracks/{silent['id']}/stream", headers=listener.headers)
    assert_problem(no_audio, 404)
    assert_problem(
        await client.get(f"{API}/tracks/{silent['id']}/stream-url", headers=listener.headers), 404
    )


async def test_signed_stream_url(
    client: httpx.AsyncClient,
    app: FastAPI,
    listener: SignedIn,
    stranger: SignedIn,
    uploaded: Uploaded,
) -> None:
    issued = await client.get(f"{uploaded.url}-url", headers=listener.headers)
    assert issued.status_code == 200
    url = issued.json()["url"]
    assert url.startswith("http://testserver/api/v1/tracks/")
    played = await client.get(url)  # no Authorization header, as an <audio> element
    assert played.status_code == 200 and played.content == uploaded.data
    ranged = await client.get(url, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.content == b"RIFF"

    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    path = urlsplit(url).path
    tampered = {
        **params,
        "sig": params["sig"][:-2] + ("AA" if params["sig"][-2:] != "AA" else "BB"),
    }
    assert_problem(await client.get(path, params=tampered), 401)
    longer = {**params, "exp": str(int(params["exp"]) + 3600)}
    assert_problem(await client.get(path, params=longer), 401)
    someone_else = {**params, "uid": str(stranger.id)}
    assert_problem(await client.get(path, params=someone_else), 401)

    expired_at = int(time.time()) - 1
    secret = app.state.auth_config.secret
    track_id = uuid.UUID(uploaded.track_id)
    expired = {
        "uid": str(listener.id),
        "exp": str(expired_at),
        "sig": signing.sign(secret, track_id, listener.id, expired_at),
    }
    assert_problem(await client.get(path, params=expired), 401)

    other = await create_track(client, listener, "Other")
    other_path = f"{API}/tracks/{other['id']}/stream"
    assert_problem(await client.get(other_path, params=params), 401)
    assert_problem(await client.get(path, params={**params, "uid": "not-a-uuid"}), 422)
