"""Analytics fixtures: a curator's public tracks by two artists, two listeners, a private track.

Everything is made through the real HTTP API, on both databases like every
``client`` test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audotics.services.users.schemas import Role
from tests.support.factories import SignedIn, sign_up

API = "/api/v1"
# A fixed past moment, so derived dedup keys are reproducible within a test.
BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


@dataclass
class World:
    client: httpx.AsyncClient
    app: FastAPI
    alice: SignedIn
    bob: SignedIn
    curator: SignedIn
    tracks: list[uuid.UUID]  # public: 0-2 by "Aurora Lane", 3-5 by "Basalt"
    artists: dict[str, uuid.UUID]
    bobs_private: uuid.UUID

    async def submit(self, body: Any, user: SignedIn | None = None) -> httpx.Response:
        return await self.client.post(
            f"{API}/listens", json=body, headers=(user or self.alice).headers
        )

    async def history(self, user: SignedIn | None = None, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            f"{API}/me/listens", params=params, headers=(user or self.alice).headers
        )
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    async def stats(self, user: SignedIn | None = None, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            f"{API}/me/stats", params=params, headers=(user or self.alice).headers
        )
        assert response.status_code == 200, response.text
        stats: dict[str, Any] = response.json()
        return stats


def listen(
    track: uuid.UUID, event: str = "play", minutes: float = 0, **extra: Any
) -> dict[str, Any]:
    return {"track_id": str(track), "event": event, "occurred_at": at(minutes), **extra}


async def _track(
    client: httpx.AsyncClient, user: SignedIn, title: str, artist: str
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/tracks", json={"title": title, "artist": artist}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    track: dict[str, Any] = response.json()
    return track


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI) -> World:
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    made = [
        await _track(client, curator, f"Song {i}", "Aurora Lane" if i < 3 else "Basalt")
        for i in range(6)
    ]
    bob = await sign_up(client, "bob")
    private = await _track(client, bob, "Bedroom Demo", "Bob Himself")
    return World(
        client=client,
        app=app,
        alice=await sign_up(client, "alice"),
        bob=bob,
        curator=curator,
        tracks=[uuid.UUID(track["id"]) for track in made],
        artists={track["artist"]["name"]: uuid.UUID(track["artist"]["id"]) for track in made},
        bobs_private=uuid.UUID(private["id"]),
    )
