"""The analytics section of GET /me/export, and DELETE /me removing every analytics row."""

from __future__ import annotations

from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind, NewPlayCount
from tests.integration.analytics.conftest import World, listen


async def _seed(world: World) -> None:
    batch = {
        "listens": [
            listen(world.tracks[0], "play", 0, client_key="k1"),
            listen(world.tracks[3], "like", 1),
        ]
    }
    assert (await world.submit(batch)).status_code == 201
    assert (await world.submit(listen(world.tracks[0], "play", 2), world.bob)).status_code == 201
    async with world.app.state.infra.db.session() as session:
        await analytics.set_play_counts(
            session,
            [NewPlayCount(world.alice.id, ItemKind.artist, world.artists["Basalt"], 9, "import:t")],
        )
        await analytics.add_follows(
            session,
            [(world.alice.id, world.bob.id), (world.bob.id, world.alice.id)],
            source="test",
        )


async def test_export_holds_the_users_analytics_and_nobody_elses(world: World) -> None:
    await _seed(world)
    response = await world.client.get("/api/v1/me/export", headers=world.alice.headers)
    assert response.status_code == 200, response.text
    section = response.json()["sections"]["analytics"]
    assert [(row["track_id"], row["event"], row["client_key"]) for row in section["listens"]] == [
        (str(world.tracks[0]), "play", "k1"),
        (str(world.tracks[3]), "like", None),
    ]
    assert all(row["source"] == "api" for row in section["listens"])
    kinds = {(row["item_kind"], row["item_id"]): row for row in section["interactions"]}
    assert kinds[("track", str(world.tracks[0]))]["plays"] == 1
    assert kinds[("artist", str(world.artists["Basalt"]))]["plays"] == 9
    assert kinds[("artist", str(world.artists["Basalt"]))]["likes"] == 1
    assert section["imported_play_counts"] == [
        {
            "item_kind": "artist",
            "item_id": str(world.artists["Basalt"]),
            "source": "import:t",
            "plays": 9,
            "imported_at": section["imported_play_counts"][0]["imported_at"],
        }
    ]
    assert section["following"] == [str(world.bob.id)]
    bobs = await world.client.get("/api/v1/me/export", headers=world.bob.headers)
    assert len(bobs.json()["sections"]["analytics"]["listens"]) == 1


async def test_deleting_the_account_removes_its_analytics(world: World) -> None:
    await _seed(world)
    deleted = await world.client.request(
        "DELETE", "/api/v1/me", json={"password": world.alice.password}, headers=world.alice.headers
    )
    assert deleted.status_code == 204, deleted.text
    async with world.app.state.infra.db.session() as session:
        assert await analytics.export_user_data(session, world.alice.id) == {
            "listens": [],
            "interactions": [],
            "imported_play_counts": [],
            "following": [],
            "imported_as": None,
        }
        everyone = await analytics.interactions(session, ItemKind.track)
        # Bob's data stays; his edge to the deleted account goes with it.
        assert {row.user_id for row in everyone} == {world.bob.id}
        assert await analytics.following(session, world.bob.id) == []
        assert await analytics.followers(session, world.bob.id) == []
    assert len((await world.history(world.bob))["items"]) == 1
