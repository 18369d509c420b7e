"""Ownership matrix: strangers never see private playlists and never change public ones;
collaborators edit entries but cannot rename, delete or share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.integration.playlists.conftest import API, World
from tests.support.factories import SignedIn


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # formatted with playlist, item, collaborator, stranger
    body: dict[str, Any] | None = None

    @property
    def is_read(self) -> bool:
        return self.method == "GET"


def playlist_calls(track_id: str) -> list[Call]:
    """Every endpoint that addresses one playlist."""
    return [
        Call("GET", "/playlists/{playlist}"),
        Call("GET", "/playlists/{playlist}/items"),
        Call("GET", "/playlists/{playlist}/collaborators"),
        Call("PATCH", "/playlists/{playlist}", {"name": "pwned", "is_public": True}),
        Call("POST", "/playlists/{playlist}/items", {"track_ids": [track_id]}),
        Call("POST", "/playlists/{playlist}/items", {"track_ids": [track_id], "position": 0}),
        Call("POST", "/playlists/{playlist}/items/move", {"item_id": "{item}", "position": 1}),
        Call("DELETE", "/playlists/{playlist}/items/{item}"),
        Call("PUT", "/playlists/{playlist}/collaborators/{stranger}"),
        Call("DELETE", "/playlists/{playlist}/collaborators/{collaborator}"),
        Call("DELETE", "/playlists/{playlist}/collaborators/{stranger}"),
        Call("DELETE", "/playlists/{playlist}"),
    ]


async def _snapshot(world: World, playlist_id: str) -> dict[str, Any]:
    client, headers = world.client, world.owner.headers
    playlist = (await client.get(f"{API}/playlists/{playlist_id}", headers=headers)).json()
    collaborators = await client.get(
        f"{API}/playlists/{playlist_id}/collaborators", headers=headers
    )
    return {"playlist": playlist, "collaborators": collaborators.json()}


async def _run(world: World, call: Call, user: SignedIn, values: dict[str, str]) -> int:
    body = None
    if call.body is not None:
        body = {k: v.format(**values) if isinstance(v, str) else v for k, v in call.body.items()}
    response = await world.client.request(
        call.method, API + call.path.format(**values), json=body, headers=user.headers
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    return response.status_code


async def _setup(world: World, *, is_public: bool) -> dict[str, str]:
    playlist = await world.create_playlist(name="Alice's", is_public=is_public)
    await world.share(playlist["id"], world.collaborator)
    items = await world.add(playlist["id"], world.tracks[:3])
    return {
        "playlist": playlist["id"],
        "item": items[0]["id"],
        "collaborator": world.collaborator.username,
        "stranger": world.stranger.username,
    }


async def test_stranger_gets_404_on_every_endpoint_of_a_private_playlist(world: World) -> None:
    values = await _setup(world, is_public=False)
    before = await _snapshot(world, values["playlist"])
    got = {
        f"{call.method} {call.path}": await _run(world, call, world.stranger, values)
        for call in playlist_calls(str(world.tracks[4]))
    }
    assert got == dict.fromkeys(got, 404)
    assert await _snapshot(world, values["playlist"]) == before
    # Nor does it show up in any listing.
    mine = await world.client.get(f"{API}/playlists", headers=world.stranger.headers)
    assert mine.json()["total"] == 0
    listed = await world.client.get(f"{API}/users/alice/playlists", headers=world.stranger.headers)
    assert listed.json()["total"] == 0


async def test_the_404_for_private_is_the_404_for_missing(world: World) -> None:
    values = await _setup(world, is_public=False)
    missing = "00000000-0000-4000-8000-000000000000"
    hidden = await world.client.get(
        f"{API}/playlists/{values['playlist']}", headers=world.stranger.headers
    )
    absent = await world.client.get(f"{API}/playlists/{missing}", headers=world.stranger.headers)
    strip = ("instance", "request_id")
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in absent.json().items() if k not in strip
    }


async def test_stranger_reads_a_public_playlist_but_cannot_change_it(world: World) -> None:
    values = await _setup(world, is_public=True)
    before = await _snapshot(world, values["playlist"])
    got = {
        f"{call.method} {call.path}": (call, await _run(world, call, world.stranger, values))
        for call in playlist_calls(str(world.tracks[4]))
    }
    wrong = {
        name: status
        for name, (call, status) in got.items()
        if status != (200 if call.is_read else 403)
    }
    assert wrong == {}
    assert await _snapshot(world, values["playlist"]) == before
    assert before["playlist"]["item_count"] == 3


async def test_collaborator_edits_entries_but_cannot_manage_the_playlist(world: World) -> None:
    values = await _setup(world, is_public=False)
    carol = world.collaborator
    as_carol = await world.client.get(
        f"{API}/playlists/{values['playlist']}", headers=carol.headers
    )
    assert as_carol.status_code == 200
    assert as_carol.json()["access"] == "collaborator"

    owner_only = [
        Call("PATCH", "/playlists/{playlist}", {"name": "mine now"}),
        Call("PATCH", "/playlists/{playlist}", {"is_public": True}),
        Call("PUT", "/playlists/{playlist}/collaborators/{stranger}"),
        Call("DELETE", "/playlists/{playlist}"),
    ]
    before = await _snapshot(world, values["playlist"])
    assert [await _run(world, call, carol, values) for call in owner_only] == [403] * 4
    assert await _snapshot(world, values["playlist"]) == before

    # Another collaborator cannot be removed by Carol either.
    await world.share(values["playlist"], world.stranger)
    kick = Call("DELETE", "/playlists/{playlist}/collaborators/{stranger}")
    assert await _run(world, kick, carol, values) == 403

    allowed = [
        Call("POST", "/playlists/{playlist}/items", {"track_ids": [str(world.tracks[5])]}),
        Call("POST", "/playlists/{playlist}/items/move", {"item_id": "{item}", "position": 2}),
        Call("DELETE", "/playlists/{playlist}/items/{item}"),
    ]
    assert [await _run(world, call, carol, values) for call in allowed] == [201, 200, 204]
    entries = await world.items(values["playlist"])
    assert [e["track_id"] for e in entries] == [str(t) for t in world.tracks[1:3]] + [
        str(world.tracks[5])
    ]

    # Carol may leave; then the playlist is private to her again.
    leave = Call("DELETE", "/playlists/{playlist}/collaborators/{collaborator}")
    assert await _run(world, leave, carol, values) == 204
    assert await _run(world, Call("GET", "/playlists/{playlist}"), carol, values) == 404


async def test_sharing_rules(world: World) -> None:
    values = await _setup(world, is_public=False)
    url = f"{API}/playlists/{values['playlist']}/collaborators"
    headers = world.owner.headers
    again = await world.client.put(f"{url}/carol", headers=headers)
    assert again.status_code == 200  # already a collaborator: nothing new
    self_share = await world.client.put(f"{url}/alice", headers=headers)
    assert self_share.status_code == 422
    nobody = await world.client.put(f"{url}/nobody-at-all", headers=headers)
    assert nobody.status_code == 404
    listed = await world.client.get(url, headers=world.collaborator.headers)
    assert [c["username"] for c in listed.json()] == ["carol"]
    removed = await world.client.delete(f"{url}/carol", headers=headers)
    assert removed.status_code == 204
    not_member = await world.client.delete(f"{url}/carol", headers=headers)
    assert not_member.status_code == 404
    assert (await world.client.get(url, headers=headers)).json() == []
