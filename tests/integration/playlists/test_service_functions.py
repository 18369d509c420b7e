"""Functions other services call: generated playlists, personal-data export and deletion."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from audotics.problems import NotFound, Unprocessable
from audotics.services.playlists import service
from audotics.services.playlists.schemas import PlaylistCreate
from tests.integration.playlists.conftest import API, World


async def test_generated_playlist_is_filled_by_replace_tracks(world: World, app: FastAPI) -> None:
    db = app.state.infra.db
    async with db.session() as session:
        created = await service.create_playlist(
            session,
            world.owner.id,
            PlaylistCreate(name="Daily mix 1"),
            kind="generated",
            generator={"type": "daily_mix", "model_version": "test"},
        )
        await service.replace_tracks(session, created.id, world.tracks[:3])
    async with db.session() as session:
        refreshed = await service.replace_tracks(session, created.id, world.tracks[3:5])
    assert refreshed.item_count == 2

    response = await world.client.get(f"{API}/playlists/{created.id}", headers=world.owner.headers)
    body = response.json()
    assert (body["kind"], body["generator"]["type"]) == ("generated", "daily_mix")
    assert [i["track_id"] for i in body["items"]["items"]] == [str(t) for t in world.tracks[3:5]]
    assert all(item["added_by"] is None for item in body["items"]["items"])

    # Its entries are the recommender's: editing them over HTTP is a conflict.
    edit = await world.client.post(
        f"{API}/playlists/{created.id}/items",
        json={"track_ids": [str(world.tracks[0])]},
        headers=world.owner.headers,
    )
    assert edit.status_code == 409
    # Unknown tracks are refused and the previous entries stay.
    with pytest.raises(Unprocessable):
        async with db.session() as session:
            await service.replace_tracks(session, created.id, [world.tracks[0], uuid.uuid4()])
    assert len(await world.items(str(created.id))) == 2
    with pytest.raises(NotFound):
        async with db.session() as session:
            await service.replace_tracks(session, uuid.uuid4(), [])


async def test_export_and_delete_user_data(world: World, app: FastAPI) -> None:
    alice, carol = world.owner, world.collaborator
    own = await world.create_playlist(name="Alice's", description="d")
    await world.add(own["id"], world.tracks[:2])
    carols = await world.create_playlist(user=carol, name="Carol's")
    response = await world.client.put(
        f"{API}/playlists/{carols['id']}/collaborators/alice", headers=carol.headers
    )
    assert response.status_code == 201
    (contributed,) = await world.add(carols["id"], world.tracks[2:3], user=alice)
    await world.add(carols["id"], world.tracks[3:4], user=carol)

    db = app.state.infra.db
    async with db.session() as session:
        exported = await service.export_user_data(session, alice.id)
    (playlist,) = exported["playlists"]
    assert (playlist["id"], playlist["name"], playlist["description"]) == (
        own["id"],
        "Alice's",
        "d",
    )
    assert [i["track_id"] for i in playlist["items"]] == [str(t) for t in world.tracks[:2]]
    assert [i["position"] for i in playlist["items"]] == [0, 1]
    assert playlist["created_at"].endswith("+00:00")
    assert [c["playlist_id"] for c in exported["collaborations"]] == [carols["id"]]
    assert [c["item_id"] for c in exported["contributions"]] == [contributed["id"]]
    async with db.session() as session:
        carol_export = await service.export_user_data(session, carol.id)
    assert [p["id"] for p in carol_export["playlists"]] == [carols["id"]]
    assert carol_export["contributions"] == []  # entries in her own playlist are under playlists

    async with db.session() as session:
        await service.delete_user_data(session, alice.id)
    async with db.session() as session:
        after = await service.export_user_data(session, alice.id)
    assert after == {"playlists": [], "collaborations": [], "contributions": []}
    gone = await world.client.get(f"{API}/playlists/{own['id']}", headers=alice.headers)
    assert gone.status_code == 404
    # Carol's playlist keeps the entry Alice added, no longer attributed to her.
    entries = await world.items(carols["id"], user=carol)
    assert [(e["id"], e["added_by"]) for e in entries] == [
        (contributed["id"], None),
        (entries[1]["id"], str(carol.id)),
    ]
    collaborators = await world.client.get(
        f"{API}/playlists/{carols['id']}/collaborators", headers=carol.headers
    )
    assert collaborators.json() == []
