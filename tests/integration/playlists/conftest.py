"""Playlist fixtures: an owner, a collaborator, a stranger, a curator and a few public tracks.

Everything is made through the real HTTP API (tracks through the catalog's
``POST /api/v1/tracks``), on both databases like every ``client`` test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audotics.services.users.schemas import Role
from tests.support.factories import SignedIn, sign_up

API = "/api/v1"


@dataclass
class World:
    client: httpx.AsyncClient
    owner: SignedIn  # alice
    collaborator: SignedIn  # carol (made a collaborator by the tests that need it)
    stranger: SignedIn  # bob
    curator: SignedIn
    tracks: list[uuid.UUID]  # public catalog tracks

    async def create_playlist(self, user: SignedIn | None = None, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "Road trip")
        response = await self.client.post(
            f"{API}/playlists", json=body, headers=(user or self.owner).headers
        )
        assert response.status_code == 201, response.text
        playlist: dict[str, Any] = response.json()
        return playlist

    async def add(
        self,
        playlist_id: str,
        track_ids: list[uuid.UUID],
        user: SignedIn | None = None,
        **extra: Any,
    ) -> list[dict[str, Any]]:
        response = await self.client.post(
            f"{API}/playlists/{playlist_id}/items",
            json={"track_ids": [str(t) for t in track_ids], **extra},
            headers=(user or self.owner).headers,
        )
        assert response.status_code == 201, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def share(self, playlist_id: str, user: SignedIn) -> None:
        response = await self.client.put(
            f"{API}/playlists/{playlist_id}/collaborators/{user.username}",
            headers=self.owner.headers,
        )
        assert response.status_code == 201, response.text

    async def items(self, playlist_id: str, user: SignedIn | None = None) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"{API}/playlists/{playlist_id}/items",
            params={"limit": 100},
            headers=(user or self.owner).headers,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def item_ids(self, playlist_id: str) -> list[str]:
        return [item["id"] for item in await self.items(playlist_id)]


async def create_track(
    client: httpx.AsyncClient, user: SignedIn, title: str, **extra: Any
) -> uuid.UUID:
    response = await client.post(
        f"{API}/tracks",
        json={"title": title, "artist": "The Testers", **extra},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI) -> World:
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    tracks = [await create_track(client, curator, f"Song {i}") for i in range(6)]
    return World(
        client=client,
        owner=await sign_up(client, "alice"),
        collaborator=await sign_up(client, "carol"),
        stranger=await sign_up(client, "bob"),
        curator=curator,
        tracks=tracks,
    )
