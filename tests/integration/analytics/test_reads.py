"""The plain-column reads recommendations make on every request: a user's aggregates and
whom they follow, as the ORM rows show them."""

from __future__ import annotations

from audotics.fields import as_utc
from audotics.services.analytics import repository
from audotics.services.analytics import service as analytics
from audotics.services.analytics.models import ItemInteraction
from audotics.services.analytics.schemas import Interaction, ItemKind
from tests.integration.analytics.conftest import API, World, listen, world

__all__ = ["world"]


def _as_interaction(row: ItemInteraction) -> Interaction:
    return Interaction(
        user_id=row.user_id,
        item_kind=ItemKind(row.item_kind),
        item_id=row.item_id,
        plays=row.plays,
        completes=row.completes,
        skips=row.skips,
        likes=row.likes,
        last_at=as_utc(row.last_at) if row.last_at else None,
    )


async def test_interactions_are_the_stored_aggregates(world: World) -> None:
    t = world.tracks
    alices = [
        listen(t[0], "play", 1),
        listen(t[0], "play", 2),
        listen(t[0], "complete", 3),
        listen(t[1], "skip", 4),
        listen(t[2], "like", 5),
        listen(t[2], "unlike", 6),
        listen(t[3], "like", 7),
    ]
    response = await world.submit({"listens": alices})
    assert response.status_code == 201, response.text
    response = await world.submit({"listens": [listen(t[4], "play", 8)]}, world.bob)
    assert response.status_code == 201, response.text
    async with world.app.state.infra.db.session() as session:
        mine = await analytics.interactions(session, ItemKind.track, world.alice.id)
        everyone = await analytics.interactions(session, ItemKind.track)
        artists = await analytics.interactions(session, ItemKind.artist, world.alice.id)
        stored = {
            user: await repository.all_interactions(session, user)
            for user in (world.alice.id, world.bob.id)
        }
    expected = {
        user: sorted(
            (_as_interaction(row) for row in rows if row.item_kind == "track"),
            key=lambda i: i.item_id,
        )
        for user, rows in stored.items()
    }
    assert sorted(mine, key=lambda i: i.item_id) == expected[world.alice.id]
    counts = {i.item_id: (i.plays, i.completes, i.skips, i.likes) for i in mine}
    assert counts == {
        t[0]: (2, 1, 0, 0),
        t[1]: (0, 0, 1, 0),
        t[2]: (0, 0, 0, 0),
        t[3]: (0, 0, 0, 1),
    }
    assert all(i.last_at is not None and i.last_at.tzinfo is not None for i in mine)
    # Everyone's: grouped by user (the order the serving state's rebuild relies on).
    assert [i.user_id for i in everyone] == sorted(i.user_id for i in everyone)
    assert sorted(everyone, key=lambda i: (i.user_id, i.item_id)) == sorted(
        expected[world.alice.id] + expected[world.bob.id], key=lambda i: (i.user_id, i.item_id)
    )
    assert artists and {i.item_kind for i in artists} == {ItemKind.artist}


async def test_following_is_oldest_edge_first(world: World) -> None:
    for name in ("bob", "curator"):
        response = await world.client.put(f"{API}/me/following/{name}", headers=world.alice.headers)
        assert response.status_code == 201, response.text
    async with world.app.state.infra.db.session() as session:
        first = await analytics.following(session, world.alice.id)
    await world.client.delete(f"{API}/me/following/bob", headers=world.alice.headers)
    await world.client.put(f"{API}/me/following/bob", headers=world.alice.headers)
    async with world.app.state.infra.db.session() as session:
        again = await analytics.following(session, world.alice.id)
        nobody = await analytics.following(session, world.bob.id)
    assert first == [world.bob.id, world.curator.id]
    assert again == [world.curator.id, world.bob.id]
    assert nobody == []
