"""The social source through HTTP on both databases: what the people you follow play
reaches your recommendations, named, from the very next request after a follow, and
leaves with the unfollow."""

from __future__ import annotations

from typing import Any

from tests.integration.analytics.conftest import API, World, listen, world
from tests.support.factories import sign_up

__all__ = ["world"]


async def _recommendations(w: World) -> list[dict[str, Any]]:
    response = await w.client.get(
        f"{API}/me/recommendations", params={"limit": 6}, headers=w.alice.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _explanation_of(items: list[dict[str, Any]], track: Any) -> dict[str, Any] | None:
    for item in items:
        if item["track"]["id"] == str(track):
            explanation: dict[str, Any] = item["explanation"]
            return explanation
    return None


def _score(items: list[dict[str, Any]], track: Any) -> float:
    scores = [float(item["score"]) for item in items if item["track"]["id"] == str(track)]
    return scores[0] if scores else float("-inf")


async def _fans_of_the_first_three(world: World) -> None:
    for n in range(4):  # Aurora Lane's songs are the popular ones, played together
        fan = await sign_up(world.client, f"fan{n}")
        songs = enumerate(world.tracks[:3])
        body = {"listens": [listen(t, "complete", n * 10 + i) for i, t in songs]}
        assert (await world.submit(body, fan)).status_code == 201


async def _bob_plays_the_niche(world: World) -> Any:
    niche = world.tracks[5]  # only Bob plays it
    played = {"listens": [listen(niche, "complete", m) for m in range(3)]}
    assert (await world.submit(played, world.bob)).status_code == 201
    return niche


async def _after_following_bob(
    world: World, listed: list[dict[str, Any]], niche: Any
) -> list[dict[str, Any]]:
    """Alice's recommendations once she follows Bob; ``listed`` (before) is not social."""
    before = _explanation_of(listed, niche)
    assert before is None or before["kind"] != "social", before
    followed = await world.client.put(f"{API}/me/following/bob", headers=world.alice.headers)
    assert followed.status_code == 201
    return await _recommendations(world)


async def test_what_people_you_follow_play_is_recommended_by_name(world: World) -> None:
    await _fans_of_the_first_three(world)
    niche = await _bob_plays_the_niche(world)
    listed = await _recommendations(world)
    items = await _after_following_bob(world, listed, niche)
    explanation = _explanation_of(items, niche)
    assert explanation is not None, items
    assert explanation["kind"] == "social" and explanation["seed_username"] == "bob"
    assert "bob" in explanation["text"]
    assert _score(items, niche) > _score(listed, niche), "a friend's track gains"
    # Bob's private track never reaches Alice, through him or otherwise.
    assert all(item["track"]["id"] != str(world.bobs_private) for item in items)

    unfollowed = await world.client.delete(f"{API}/me/following/bob", headers=world.alice.headers)
    assert unfollowed.status_code == 204
    after = _explanation_of(await _recommendations(world), niche)
    assert after is None or after["kind"] != "social", after


async def test_the_daily_mix_discovers_what_people_you_follow_play(world: World) -> None:
    await _fans_of_the_first_three(world)
    niche = world.tracks[5]
    # Bob shares a song with Alice, so his taste counts (followed people are weighted by
    # how much their listening overlaps yours: ADR 0007), and he plays the niche one.
    played = {
        "listens": [listen(t, "complete", m) for m, t in enumerate([niche] * 3 + [world.tracks[0]])]
    }
    assert (await world.submit(played, world.bob)).status_code == 201
    mine = {"listens": [listen(world.tracks[0], "complete", 10 + m) for m in range(2)]}
    assert (await world.submit(mine)).status_code == 201

    async def mix() -> list[dict[str, Any]]:
        response = await world.client.post(
            f"{API}/playlists/generate",
            json={"kind": "daily_mix", "length": 4},
            headers=world.alice.headers,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    before = _explanation_of(await mix(), niche)
    assert before is None or before["kind"] != "social", before
    assert (
        await world.client.put(f"{API}/me/following/bob", headers=world.alice.headers)
    ).status_code == 201
    explanation = _explanation_of(await mix(), niche)
    assert explanation is not None and explanation["kind"] == "social", explanation
    assert explanation["seed_username"] == "bob" and "bob" in explanation["text"]


async def test_a_follow_sharing_nothing_with_you_still_shows(world: World) -> None:
    """Followed people weigh by taste overlap, with a floor (ADR 0007): Bob plays nothing
    Alice plays, and his track still reaches her, named, once she follows him."""
    await _fans_of_the_first_three(world)
    niche = await _bob_plays_the_niche(world)
    mine = {"listens": [listen(world.tracks[0], "complete", 10 + m) for m in range(2)]}
    assert (await world.submit(mine)).status_code == 201
    listed = await _recommendations(world)
    items = await _after_following_bob(world, listed, niche)
    explanation = _explanation_of(items, niche)
    assert explanation is not None and explanation["kind"] == "social", explanation
    assert explanation["seed_username"] == "bob"
    assert _score(items, niche) > _score(listed, niche), "his track gains from the follow"
