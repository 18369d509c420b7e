"""Deleting an account removes what every service holds for the user, stored audio included."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.audio import encode
from tests.support.factories import sign_up


async def test_delete_account_removes_tracks_audio_and_playlists(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    created = await client.post(
        "/api/v1/tracks", json={"title": "Home Demo", "artist": "Alice Band"}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    track_id = created.json()["id"]
    upload = await client.put(
        f"/api/v1/tracks/{track_id}/audio",
        content=encode("flac"),
        headers={**alice.headers, "content-type": "audio/flac"},
    )
    assert upload.status_code in (200, 201), upload.text
    objects = app.state.infra.objects
    assert len(await objects.list("audio/")) == 1
    playlist = await client.post("/api/v1/playlists", json={"name": "Mine"}, headers=alice.headers)
    assert playlist.status_code == 201
    bobs = await client.post("/api/v1/playlists", json={"name": "Bob's"}, headers=bob.headers)

    export = await client.get("/api/v1/me/export", headers=alice.headers)
    sections = export.json()["sections"]
    assert {"users", "catalog", "playlists"} <= sections.keys()
    assert "Home Demo" in export.text and "Mine" in export.text

    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": alice.password}, headers=alice.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert await objects.list("audio/") == []
    assert (await client.get(f"/api/v1/tracks/{track_id}", headers=bob.headers)).status_code == 404
    gone = await client.get(f"/api/v1/playlists/{playlist.json()['id']}", headers=bob.headers)
    assert gone.status_code == 404
    kept = await client.get(f"/api/v1/playlists/{bobs.json()['id']}", headers=bob.headers)
    assert kept.status_code == 200  # other users' data is untouched
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
