"""Concurrent edits by the owner and a collaborator: nothing lost, no shared positions."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.playlists.conftest import API, World
from tests.support.factories import SignedIn


async def test_concurrent_appends_and_inserts_all_land_in_a_consistent_order(
    world: World,
) -> None:
    client, alice, carol = world.client, world.owner, world.collaborator
    playlist = await world.create_playlist()
    playlist_id = playlist["id"]
    await world.share(playlist_id, carol)
    start_version = 2

    async def append(user: SignedIn, n: int) -> dict[str, Any]:
        response = await client.post(
            f"{API}/playlists/{playlist_id}/items",
            json={"track_ids": [str(world.tracks[n % len(world.tracks)])]},
            headers=user.headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        assert response.headers["etag"] == f'"{body["version"]}"'
        return body

    results = await asyncio.gather(*(append(alice if n % 2 else carol, n) for n in range(20)))

    items = await world.items(playlist_id)
    assert len(items) == 20
    assert [item["position"] for item in items] == list(range(20))
    # Every request saw its own version, and its entry is where its response said it is:
    # appends serialise on the playlist lock, so the k-th to commit landed at position k.
    versions = sorted(result["version"] for result in results)
    assert versions == list(range(start_version + 1, start_version + 21))
    for result in results:
        (entry,) = result["items"]
        assert items[entry["position"]]["id"] == entry["id"]
        assert entry["position"] == result["version"] - start_version - 1
    assert {item["added_by"] for item in items} == {str(alice.id), str(carol.id)}

    # Concurrent inserts at the front land too, between the same neighbours.
    fronts = await asyncio.gather(
        *(
            client.post(
                f"{API}/playlists/{playlist_id}/items",
                json={"track_ids": [str(world.tracks[0])], "position": 0},
                headers=(alice if n % 2 else carol).headers,
            )
            for n in range(10)
        )
    )
    assert all(response.status_code == 201 for response in fronts)
    final = await world.items(playlist_id)
    assert len(final) == 30
    assert len({item["id"] for item in final}) == 30
    front_ids = {response.json()["items"][0]["id"] for response in fronts}
    assert {item["id"] for item in final[:10]} == front_ids
    # The last insert to commit is first; the earlier appends keep their relative order.
    last_front = max(fronts, key=lambda response: response.json()["version"])
    assert final[0]["id"] == last_front.json()["items"][0]["id"]
    assert [item["id"] for item in final[10:]] == [item["id"] for item in items]
