"""Creating, reading, listing, changing and deleting playlists, and rejecting bad input."""

from __future__ import annotations

import uuid

from tests.integration.playlists.conftest import API, World, create_track

PROBLEM = "application/problem+json"


async def test_create_get_update_delete(world: World) -> None:
    client, alice = world.client, world.owner
    created = await world.create_playlist(name="  Morning  ", description="coffee")
    assert created["name"] == "Morning"  # surrounding whitespace dropped
    assert created["owner"] == {"id": str(alice.id), "username": "alice"}
    assert (created["kind"], created["is_public"], created["access"]) == ("manual", False, "owner")
    assert (created["version"], created["item_count"]) == (1, 0)
    assert created["created_at"].endswith("Z")  # UTC on both databases
    playlist_id = created["id"]

    response = await client.get(f"{API}/playlists/{playlist_id}", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["items"] == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
        "next_offset": None,
    }

    patched = await client.patch(
        f"{API}/playlists/{playlist_id}",
        json={"name": "Evening", "description": "coffee\n\tand toast", "is_public": True},
        headers=alice.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["is_public"]) == ("Evening", True)
    assert body["description"] == "coffee\n\tand toast"  # line breaks and tabs are fine
    assert body["version"] == 2
    assert patched.headers["etag"] == '"2"'

    deleted = await client.delete(f"{API}/playlists/{playlist_id}", headers=alice.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"{API}/playlists/{playlist_id}", headers=alice.headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == PROBLEM


async def test_my_playlists_include_collaborations_and_paginate(world: World) -> None:
    client, alice, carol = world.client, world.owner, world.collaborator
    mine = [await world.create_playlist(name=f"Mine {i}") for i in range(3)]
    theirs = await world.create_playlist(user=carol, name="Carol's")
    response = await client.put(
        f"{API}/playlists/{theirs['id']}/collaborators/alice", headers=carol.headers
    )
    assert response.status_code == 201
    await world.create_playlist(user=carol, name="Carol's private")

    first = await client.get(f"{API}/playlists", params={"limit": 3}, headers=alice.headers)
    assert first.status_code == 200
    page = first.json()
    assert (page["total"], page["next_offset"]) == (4, 3)
    second = await client.get(
        f"{API}/playlists", params={"limit": 3, "offset": 3}, headers=alice.headers
    )
    listed = page["items"] + second.json()["items"]
    # Most recently changed first: sharing bumped Carol's playlist last.
    assert [p["name"] for p in listed] == ["Carol's", "Mine 2", "Mine 1", "Mine 0"]
    assert listed[0]["access"] == "collaborator"
    assert {p["id"] for p in listed[1:]} == {p["id"] for p in mine}


async def test_public_playlists_of_a_user(world: World) -> None:
    client = world.client
    public = await world.create_playlist(name="Shared", is_public=True)
    await world.create_playlist(name="Secret")
    for headers in (world.stranger.headers, world.owner.headers, {}):
        response = await client.get(f"{API}/users/alice/playlists", headers=headers)
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["items"]] == [public["id"]]
    anonymous = await client.get(f"{API}/playlists/{public['id']}")
    assert anonymous.status_code == 200
    assert anonymous.json()["access"] == "reader"
    unknown = await client.get(f"{API}/users/nobody-here/playlists", headers=world.owner.headers)
    assert unknown.status_code == 404


async def test_items_page_with_track_summaries(world: World) -> None:
    playlist = await world.create_playlist()
    await world.add(playlist["id"], world.tracks[:5])
    response = await world.client.get(
        f"{API}/playlists/{playlist['id']}",
        params={"limit": 2, "offset": 2},
        headers=world.owner.headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["item_count"] == 5
    page = body["items"]
    assert (page["total"], page["next_offset"]) == (5, 4)
    assert [item["position"] for item in page["items"]] == [2, 3]
    first = page["items"][0]
    assert first["available"] is True
    assert first["track"]["id"] == str(world.tracks[2])
    assert first["track"]["title"] == "Song 2"
    assert first["track"]["artist"]["name"] == "The Testers"
    assert first["added_by"] == str(world.owner.id)


async def test_hidden_and_deleted_tracks_become_placeholders(world: World) -> None:
    client, carol = world.client, world.collaborator
    playlist = await world.create_playlist()
    await world.share(playlist["id"], carol)
    carols_own = await create_track(client, carol, "Carol's demo")  # private to Carol
    doomed = world.tracks[1]
    await world.add(playlist["id"], [world.tracks[0], doomed])
    await world.add(playlist["id"], [carols_own], user=carol)
    deleted = await client.delete(f"{API}/tracks/{doomed}", headers=world.curator.headers)
    assert deleted.status_code == 204, deleted.text

    seen_by_alice = await world.items(playlist["id"])
    assert [item["available"] for item in seen_by_alice] == [True, False, False]
    assert seen_by_alice[1]["track"] is None
    assert seen_by_alice[2]["track_id"] == str(carols_own)
    seen_by_carol = await world.items(playlist["id"], user=carol)
    assert [item["available"] for item in seen_by_carol] == [True, False, True]


async def test_unknown_or_hidden_tracks_are_422_and_add_nothing(world: World) -> None:
    client, alice = world.client, world.owner
    playlist = await world.create_playlist()
    await world.add(playlist["id"], [world.tracks[0]])
    bobs_private = await create_track(client, world.stranger, "Bob's demo")
    unknown = uuid.uuid4()
    response = await client.post(
        f"{API}/playlists/{playlist['id']}/items",
        json={"track_ids": [str(world.tracks[1]), str(unknown), str(bobs_private)]},
        headers=alice.headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert set(response.json()["invalid_track_ids"]) == {str(unknown), str(bobs_private)}
    after = await client.get(f"{API}/playlists/{playlist['id']}", headers=alice.headers)
    assert (after.json()["item_count"], after.json()["version"]) == (1, 2)


async def test_malformed_input_is_rejected(world: World) -> None:
    client, headers = world.client, world.owner.headers
    playlist = await world.create_playlist()
    items_url = f"{API}/playlists/{playlist['id']}/items"
    cases = [
        ("post", f"{API}/playlists", {"name": ""}, 422),
        ("post", f"{API}/playlists", {"name": "   "}, 422),
        ("post", f"{API}/playlists", {"name": "x" * 201}, 422),
        ("post", f"{API}/playlists", {"name": "nul\u0000byte"}, 422),
        ("post", f"{API}/playlists", {"name": "ok", "description": "bell\u0007"}, 422),
        ("patch", f"{API}/playlists/{playlist['id']}", {"name": "two\nlines"}, 422),
        ("post", f"{API}/playlists", {"name": "ok", "kind": "generated"}, 422),
        ("patch", f"{API}/playlists/{playlist['id']}", {}, 422),
        ("patch", f"{API}/playlists/{playlist['id']}", {"name": None}, 422),
        ("get", f"{API}/playlists/not-a-uuid", None, 422),
        ("post", items_url, {"track_ids": ["not-a-uuid"]}, 422),
        ("post", items_url, {"track_ids": []}, 422),
        ("post", items_url, {"track_ids": [str(world.tracks[0])], "position": -1}, 422),
        ("post", items_url, {"track_ids": [str(uuid.uuid4())] * 501}, 422),
        ("post", f"{items_url}/move", {"item_id": str(uuid.uuid4())}, 422),
        ("delete", f"{items_url}/not-a-uuid", None, 422),
    ]
    for method, url, body, expected in cases:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, body, response.text)
        assert response.headers["content-type"] == PROBLEM
    bad_json = await client.post(
        items_url,
        content=b'{"track_ids": [',
        headers={**headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["type"] == "/problems/malformed-json"
    unchanged = await client.get(f"{API}/playlists/{playlist['id']}", headers=headers)
    assert (unchanged.json()["version"], unchanged.json()["item_count"]) == (1, 0)


async def test_requests_need_a_signed_in_user(world: World) -> None:
    playlist = await world.create_playlist(is_public=True)
    private = await world.create_playlist(name="Private")
    assert (await world.client.get(f"{API}/playlists/{private['id']}")).status_code == 404
    assert (await world.client.get(f"{API}/playlists")).status_code == 401
    create = await world.client.post(f"{API}/playlists", json={"name": "x"})
    assert create.status_code == 401
    patch = await world.client.patch(f"{API}/playlists/{playlist['id']}", json={"name": "x"})
    assert patch.status_code == 401


async def test_item_cap(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from audotics.services.playlists import service

    monkeypatch.setattr(service, "MAX_ITEMS_PER_PLAYLIST", 3)
    playlist = await world.create_playlist()
    await world.add(playlist["id"], world.tracks[:2])
    response = await world.client.post(
        f"{API}/playlists/{playlist['id']}/items",
        json={"track_ids": [str(t) for t in world.tracks[2:4]]},
        headers=world.owner.headers,
    )
    assert response.status_code == 409
    assert response.json()["title"] == "Playlist full"
    assert len(await world.items(playlist["id"])) == 2
    await world.add(playlist["id"], world.tracks[2:3])
    assert len(await world.items(playlist["id"])) == 3
