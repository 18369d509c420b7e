"""GET /me/recommendations through HTTP on both databases: co-listening, exclusions,
explanations, fold-in of a new listen in the next response, auth."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.analytics.conftest import API, World, listen, world
from tests.support.factories import sign_up

__all__ = ["world"]  # the analytics world fixture: six public tracks by two artists


async def _recommendations(w: World, **params: Any) -> dict[str, Any]:
    response = await w.client.get(
        f"{API}/me/recommendations", params=params, headers=w.alice.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _co_listeners(w: World) -> None:
    """Four listeners who play Aurora Lane's three songs together, four Basalt's."""
    for n in range(8):
        user = await sign_up(w.client, f"fan{n}")
        group = w.tracks[:3] if n < 4 else w.tracks[3:]
        body = {"listens": [listen(t, "complete", minutes=n * 10 + i) for i, t in enumerate(group)]}
        response = await w.submit(body, user)
        assert response.status_code in (200, 201), response.text


def _ids(body: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(item["track"]["id"]) for item in body["items"]]


async def test_co_listened_tracks_come_first_with_a_reason(world: World) -> None:
    await _co_listeners(world)
    assert (await world.submit(listen(world.tracks[0], "complete"))).status_code in (200, 201)
    body = await _recommendations(world, limit=4)
    ids = _ids(body)
    assert world.tracks[0] not in ids, "a played track is never recommended"
    assert set(ids[:2]) == {world.tracks[1], world.tracks[2]}, body
    first = body["items"][0]["explanation"]
    assert first["kind"] in ("knn", "cf") and first["seed_track_id"] == str(world.tracks[0])
    assert "Song 0" in first["text"]
    assert world.bobs_private not in ids
    assert body["limit"] == 4 and body["offset"] == 0


async def test_a_new_listen_shows_in_the_next_response(world: World) -> None:
    await _co_listeners(world)
    await world.submit(listen(world.tracks[0], "complete"))
    before = _ids(await _recommendations(world, limit=5))
    assert before[0] in (world.tracks[1], world.tracks[2])
    # Alice turns to Basalt: the Basalt songs jump ahead, folded in from her row.
    for minute in range(3):
        await world.submit(listen(world.tracks[3], "complete", minutes=100 + minute))
    after = await _recommendations(world, limit=5)
    ids = _ids(after)
    assert world.tracks[3] not in ids
    assert set(ids[:2]) == {world.tracks[4], world.tracks[5]}, after
    assert after["items"][0]["explanation"]["seed_track_id"] == str(world.tracks[3])


async def test_skipped_tracks_are_excluded_and_artists_capped(world: World) -> None:
    await _co_listeners(world)
    await world.submit(
        {"listens": [listen(world.tracks[0], "complete"), listen(world.tracks[1], "skip", 1)]}
    )
    body = await _recommendations(world, limit=10)
    ids = _ids(body)
    assert world.tracks[1] not in ids, "a skipped-only track is a dislike"
    per_artist: dict[str, int] = {}
    for item in body["items"]:
        name = item["track"]["artist"]["name"]
        per_artist[name] = per_artist.get(name, 0) + 1
    assert max(per_artist.values()) <= 2, per_artist


async def test_a_newcomer_gets_popular_tracks(world: World) -> None:
    await _co_listeners(world)
    body = await _recommendations(world, limit=3)
    assert len(body["items"]) == 3
    assert {item["explanation"]["kind"] for item in body["items"]} == {"popularity"}


async def test_recommendations_need_a_signed_in_user(world: World) -> None:
    response = await world.client.get(f"{API}/me/recommendations")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    bad = await world.client.get(
        f"{API}/me/recommendations", params={"limit": 0}, headers=world.alice.headers
    )
    assert bad.status_code == 422


async def test_a_track_only_the_item_graph_singles_out_is_explained_by_it(world: World) -> None:
    """Every track below is co-listened with Song 0 by exactly one listener, who played Song
    0 the most: knn reads within-user ranks, so Song 0 weighs 1 in both rows and the cosine
    of the listener columns (knn) ranks them all the same, as popularity does. The RP3beta
    graph does not: a listener who played only Song 0 and Song 3 says more about them than
    one who played everything, so Song 3 comes first, explained by the graph from Song 0."""
    focused = await sign_up(world.client, "focused")
    heavy = await sign_up(world.client, "heavy")
    pair = [world.tracks[0], world.tracks[0], world.tracks[3]]
    everything = [world.tracks[i] for i in (0, 0, 1, 2, 4, 5)]
    for user, played in ((focused, pair), (heavy, everything)):
        body = {"listens": [listen(t, "complete", minutes=i) for i, t in enumerate(played)]}
        assert (await world.submit(body, user)).status_code == 201
    assert (await world.submit(listen(world.tracks[0], "complete", 30))).status_code == 201

    body = await _recommendations(world, limit=3)
    first = body["items"][0]
    assert first["track"]["id"] == str(world.tracks[3]), body
    explanation = first["explanation"]
    assert explanation["kind"] == "graph", explanation
    assert explanation["seed_track_id"] == str(world.tracks[0])
    assert explanation["text"].startswith("Fans of Song 0")
    others = {item["explanation"]["kind"] for item in body["items"][1:]}
    assert "graph" not in others, body
