"""Order of entries: append, insert, move, remove, duplicates, rebalancing and If-Match."""

from __future__ import annotations

from typing import Any

import pytest

from audotics.services.playlists import ordering
from tests.integration.playlists.conftest import API, World


async def _move(world: World, playlist_id: str, **body: Any) -> dict[str, Any]:
    response = await world.client.post(
        f"{API}/playlists/{playlist_id}/items/move", json=body, headers=world.owner.headers
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


async def test_append_insert_move_remove(world: World) -> None:
    t = world.tracks
    playlist_id = (await world.create_playlist())["id"]
    a, b = await world.add(playlist_id, t[0:2])
    assert [(a["position"], a["track_id"]), (b["position"], b["track_id"])] == [
        (0, str(t[0])),
        (1, str(t[1])),
    ]
    (c,) = await world.add(playlist_id, [t[2]], position=1)  # between a and b
    assert c["position"] == 1
    d, e = await world.add(playlist_id, [t[3], t[4]], position=0)  # at the front, in order
    assert (d["position"], e["position"]) == (0, 1)
    (f,) = await world.add(playlist_id, [t[5]], position=99)  # past the end appends
    assert f["position"] == 5
    assert await world.item_ids(playlist_id) == [x["id"] for x in (d, e, a, c, b, f)]

    moved = await _move(world, playlist_id, item_id=f["id"], before_item_id=a["id"])
    assert moved["item"]["position"] == 2
    assert await world.item_ids(playlist_id) == [x["id"] for x in (d, e, f, a, c, b)]
    moved = await _move(world, playlist_id, item_id=d["id"], after_item_id=b["id"])
    assert moved["item"]["position"] == 5
    assert await world.item_ids(playlist_id) == [x["id"] for x in (e, f, a, c, b, d)]
    moved = await _move(world, playlist_id, item_id=b["id"], position=0)
    assert moved["item"]["position"] == 0
    assert await world.item_ids(playlist_id) == [x["id"] for x in (b, e, f, a, c, d)]
    moved = await _move(world, playlist_id, item_id=e["id"], position=1000)  # to the end
    assert moved["item"]["position"] == 5
    assert await world.item_ids(playlist_id) == [x["id"] for x in (b, f, a, c, d, e)]

    removed = await world.client.delete(
        f"{API}/playlists/{playlist_id}/items/{a['id']}", headers=world.owner.headers
    )
    assert removed.status_code == 204
    items = await world.items(playlist_id)
    assert [x["id"] for x in items] == [x["id"] for x in (b, f, c, d, e)]
    assert [x["position"] for x in items] == [0, 1, 2, 3, 4]
    again = await world.client.delete(
        f"{API}/playlists/{playlist_id}/items/{a['id']}", headers=world.owner.headers
    )
    assert again.status_code == 404


async def test_same_track_twice_is_two_entries(world: World) -> None:
    playlist_id = (await world.create_playlist())["id"]
    first, second = await world.add(playlist_id, [world.tracks[0], world.tracks[0]])
    assert first["id"] != second["id"]
    await world.client.delete(
        f"{API}/playlists/{playlist_id}/items/{first['id']}", headers=world.owner.headers
    )
    assert await world.item_ids(playlist_id) == [second["id"]]


async def test_move_rejects_bad_anchors(world: World) -> None:
    playlist_id = (await world.create_playlist())["id"]
    other_id = (await world.create_playlist(name="Other"))["id"]
    a, b = await world.add(playlist_id, world.tracks[:2])
    (foreign,) = await world.add(other_id, world.tracks[:1])
    url = f"{API}/playlists/{playlist_id}/items/move"
    cases = [
        ({"item_id": a["id"], "before_item_id": foreign["id"]}, 422),
        ({"item_id": a["id"], "before_item_id": a["id"]}, 422),
        ({"item_id": a["id"], "before_item_id": b["id"], "position": 1}, 422),
        ({"item_id": foreign["id"], "position": 0}, 404),
    ]
    for body, expected in cases:
        response = await world.client.post(url, json=body, headers=world.owner.headers)
        assert response.status_code == expected, (body, response.text)
    assert await world.item_ids(playlist_id) == [a["id"], b["id"]]


async def test_repeated_inserts_and_moves_at_one_spot_rebalance(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each insert or move into the same gap halves it: ~20 exhaust it and force a rebalance.
    rebalances = 0
    original = ordering.rebalance

    async def counting(*args: Any) -> None:
        nonlocal rebalances
        rebalances += 1
        await original(*args)

    monkeypatch.setattr(ordering, "rebalance", counting)
    playlist_id = (await world.create_playlist())["id"]
    first, last = await world.add(playlist_id, world.tracks[:2])
    inserted = []
    for _ in range(24):
        (item,) = await world.add(playlist_id, [world.tracks[2]], position=1)
        assert item["position"] == 1
        inserted.append(item["id"])
    assert rebalances >= 1
    assert await world.item_ids(playlist_id) == [first["id"], *reversed(inserted), last["id"]]

    rebalances = 0
    other_id = (await world.create_playlist(name="Swaps"))["id"]
    p, x, y, q = await world.add(other_id, world.tracks[:4])
    for _ in range(12):
        moved = await _move(world, other_id, item_id=y["id"], before_item_id=x["id"])
        assert moved["item"]["position"] == 1
        moved = await _move(world, other_id, item_id=x["id"], before_item_id=y["id"])
        assert moved["item"]["position"] == 1
    assert rebalances >= 1
    assert await world.item_ids(other_id) == [p["id"], x["id"], y["id"], q["id"]]


async def test_if_match_guards_every_mutation(world: World) -> None:
    client, headers = world.client, world.owner.headers
    playlist_id = (await world.create_playlist())["id"]
    url = f"{API}/playlists/{playlist_id}"

    ok = await client.patch(url, json={"name": "v2"}, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"name": "lost"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"2"'
    assert stale.json()["current_version"] == 2
    for weak_or_junk in ('W/"2"', "two", '"3"'):
        rejected = await client.patch(
            url, json={"name": "lost"}, headers={**headers, "If-Match": weak_or_junk}
        )
        assert rejected.status_code == 412, weak_or_junk

    added = await client.post(
        f"{url}/items",
        json={"track_ids": [str(world.tracks[0])]},
        headers={**headers, "If-Match": "2"},  # a bare version works too
    )
    assert added.status_code == 201
    assert added.headers["etag"] == '"3"'
    item_id = added.json()["items"][0]["id"]
    stale_add = await client.post(
        f"{url}/items",
        json={"track_ids": [str(world.tracks[1])]},
        headers={**headers, "If-Match": '"2"'},
    )
    assert stale_add.status_code == 412
    stale_remove = await client.delete(
        f"{url}/items/{item_id}", headers={**headers, "If-Match": '"2"'}
    )
    assert stale_remove.status_code == 412
    stale_delete = await client.delete(url, headers={**headers, "If-Match": '"2"'})
    assert stale_delete.status_code == 412

    current = await client.get(url, headers=headers)
    assert current.json()["name"] == "v2"
    assert current.json()["item_count"] == 1
    assert current.headers["etag"] == '"3"'
    removed = await client.delete(f"{url}/items/{item_id}", headers={**headers, "If-Match": "*"})
    assert removed.status_code == 204
    assert removed.headers["etag"] == '"4"'
    deleted = await client.delete(url, headers={**headers, "If-Match": '"4"'})
    assert deleted.status_code == 204
