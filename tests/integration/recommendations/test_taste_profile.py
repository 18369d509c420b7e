"""GET /api/v1/me/taste-profile and the serving data, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from audotics.ml.datasets.records import EVENTS
from audotics.services.recommendations import serving_data
from audotics.services.users.schemas import Role
from tests.support.factories import SignedIn, sign_up

API = "/api/v1"
BASE = datetime(2024, 3, 4, 21, 0, tzinfo=UTC)  # a Monday, 21:00 UTC


async def make_tracks(client: httpx.AsyncClient, app: FastAPI) -> list[dict[str, Any]]:
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    made = []
    for i in range(4):
        artist, genre = ("Aurora Lane", "Ambient") if i < 2 else ("Basalt", "Metal")
        response = await client.post(
            f"{API}/tracks",
            json={"title": f"Song {i}", "artist": artist, "genres": [genre]},
            headers=curator.headers,
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


async def listen(
    client: httpx.AsyncClient, user: SignedIn, track: dict[str, Any], event: str, minutes: int
) -> None:
    body = {
        "track_id": track["id"],
        "event": event,
        "occurred_at": (BASE + timedelta(minutes=minutes)).isoformat(),
    }
    response = await client.post(f"{API}/listens", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


async def profile_of(client: httpx.AsyncClient, user: SignedIn) -> dict[str, Any]:
    response = await client.get(f"{API}/me/taste-profile", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_profile_reflects_the_callers_listens_and_refreshes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    tracks = await make_tracks(client, app)
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")

    empty = await profile_of(client, alice)
    assert empty["counts"]["events"] == 0 and empty["counts"]["first_listen"] is None
    assert empty["top_artists"] == [] and sum(empty["listening_hours"]) == 0

    await listen(client, alice, tracks[0], "play", 0)
    await listen(client, alice, tracks[0], "like", 1)
    await listen(client, alice, tracks[1], "complete", 2)
    await listen(client, alice, tracks[2], "skip", 3)
    await listen(client, bob, tracks[3], "play", 0)

    profile = await profile_of(client, alice)
    counts = profile["counts"]
    assert (counts["plays"], counts["events"], counts["distinct_artists"]) == (2, 4, 2)
    assert datetime.fromisoformat(counts["first_listen"]) == BASE
    assert datetime.fromisoformat(counts["last_listen"]) == BASE + timedelta(minutes=3)
    assert profile["counts"]["events"] == 4 and profile["counts"]["distinct_tracks"] == 3
    # Basalt was only skipped: it carries no weight.
    assert [a["artist"]["name"] for a in profile["top_artists"]] == ["Aurora Lane"]
    assert profile["top_artists"][0]["weight"] == 1.0
    assert [g["genre"]["name"] for g in profile["top_genres"]] == ["Ambient"]
    assert [t["track"]["id"] for t in profile["top_tracks"]] == [tracks[0]["id"], tracks[1]["id"]]
    assert profile["top_tracks"][0]["engagement"] == 4.0  # play 1 + like 3
    assert profile["listening_hours"][21] == 4 and sum(profile["listening_hours"]) == 4
    assert profile["listening_weekdays"][0] == 4

    bobs = await profile_of(client, bob)
    assert [a["artist"]["name"] for a in bobs["top_artists"]] == ["Basalt"]
    assert bobs["counts"]["events"] == 1
    assert profile["collaborative"] is None, "no CF model is trained yet"

    # Served from the cache until a new listen changes the history.
    assert await profile_of(client, alice) == profile
    for minute in range(4, 10):
        await listen(client, alice, tracks[3], "complete", minute)
    refreshed = await profile_of(client, alice)
    assert refreshed["counts"]["events"] == 10
    assert refreshed["top_artists"][0]["artist"]["name"] == "Basalt"


async def test_unauthenticated_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/me/taste-profile")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


async def test_serving_data_arrays(client: httpx.AsyncClient, app: FastAPI) -> None:
    tracks = await make_tracks(client, app)
    alice = await sign_up(client, "alice")
    await listen(client, alice, tracks[3], "play", 5)
    await listen(client, alice, tracks[1], "skip", 1)
    await listen(client, alice, tracks[3], "complete", 6)

    cache = serving_data.SnapshotCache(ttl_s=3600, check_interval_s=0)
    async with app.state.infra.db.session() as session:
        snapshot = await cache.get(session)
        assert await cache.get(session) is snapshot and cache.builds == 1
        history = await serving_data.load_user_history(session, alice.id, snapshot)

    assert list(snapshot.track_ids) == [uuid.UUID(t["id"]) for t in tracks]
    assert snapshot.artist_names == ("Aurora Lane", "Basalt")
    assert snapshot.artist.tolist() == [0, 0, 1, 1]
    assert snapshot.genre_names == ("Ambient", "Metal")
    assert snapshot.genres.tolist() == [[True, False]] * 2 + [[False, True]] * 2
    assert snapshot.popularity.tolist() == [0, 0, 0, 2]
    assert snapshot.embeddings.shape == (4, 64) and not snapshot.embedding_mask.any()
    assert np.isnan(snapshot.feature("tempo_bpm")).all()
    assert (np.diff(snapshot.created_at) >= 0).all()

    assert history.items.tolist() == [1, 3, 3]
    assert [EVENTS[code] for code in history.events] == ["skip", "play", "complete"]
    assert history.timestamps[0] == (BASE + timedelta(minutes=1)).timestamp()

    # A new track changes the catalog version: the next read rebuilds.
    await make_more(client, app)
    async with app.state.infra.db.session() as session:
        rebuilt = await cache.get(session)
    assert cache.builds == 2 and len(rebuilt) == 5


async def make_more(client: httpx.AsyncClient, app: FastAPI) -> None:
    curator = await sign_up(client, "curator2", app=app, role=Role.curator)
    response = await client.post(
        f"{API}/tracks", json={"title": "Late", "artist": "Basalt"}, headers=curator.headers
    )
    assert response.status_code == 201, response.text


async def test_own_private_tracks_count_in_the_profile(client: httpx.AsyncClient) -> None:
    bob = await sign_up(client, "bob")
    response = await client.post(
        f"{API}/tracks",
        json={"title": "Bedroom Demo", "artist": "Bob Himself"},
        headers=bob.headers,
    )
    assert response.status_code == 201, response.text
    await listen(client, bob, response.json(), "complete", 0)
    profile = await profile_of(client, bob)
    assert [a["artist"]["name"] for a in profile["top_artists"]] == ["Bob Himself"]
    assert profile["top_tracks"][0]["track"]["title"] == "Bedroom Demo"
