"""GET /api/v1/me/listens (keyset pages, filters) and GET /api/v1/me/stats, scoped to the caller."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from tests.integration.analytics.conftest import World, at, listen
from tests.support.factories import SignedIn


async def _record(
    world: World, listens: list[dict[str, object]], user: SignedIn | None = None
) -> None:
    response = await world.submit({"listens": listens}, user)
    assert response.status_code == 201, response.text


async def test_pages_walk_the_whole_history_newest_first(world: World) -> None:
    # 25 listens, several sharing one instant, so the cursor must break ties by id.
    listens = [listen(world.tracks[i % 6], "play", minutes=i // 3) for i in range(25)]
    await _record(world, listens)
    seen: list[dict[str, object]] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = await world.history(**params)
        seen.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == 25
    assert len({item["id"] for item in seen}) == 25
    keys = [(datetime.fromisoformat(str(i["occurred_at"])), str(i["id"])) for i in seen]
    assert keys == sorted(keys, reverse=True)


async def test_history_filters_by_event_and_time(world: World) -> None:
    await _record(
        world,
        [
            listen(world.tracks[0], "play", 0),
            listen(world.tracks[0], "skip", 10),
            listen(world.tracks[1], "play", 20),
            listen(world.tracks[2], "like", 30),
            listen(world.tracks[2], "complete", 40),
        ],
    )
    skips = await world.history(event="skip")
    assert [item["event"] for item in skips["items"]] == ["skip"]
    several = await world.history(event=["play", "like"])
    assert [item["event"] for item in several["items"]] == ["like", "play", "play"]
    window = await world.history(since=at(10), until=at(30))
    assert [item["event"] for item in window["items"]] == ["play", "skip"]
    assert (await world.history(since=at(41)))["items"] == []


async def test_bad_history_parameters_are_problems(world: World) -> None:
    headers = world.alice.headers
    for params in (
        {"cursor": "not-a-cursor"},
        {"event": "dance"},
        {"limit": 0},
        {"limit": 201},
        {"since": at(10), "until": at(5)},
        {"since": "last tuesday"},
        {"until": "9999-12-31T23:59:59-05:00"},
        {"cursor": base64.urlsafe_b64encode(f"0001-01-01T00:00:00+05:00|{uuid.uuid4()}".encode())},
    ):
        response = await world.client.get("/api/v1/me/listens", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_history_is_only_ever_your_own(world: World) -> None:
    await _record(world, [listen(world.tracks[0], "play", 0), listen(world.tracks[1], "like", 1)])
    await _record(world, [listen(world.bobs_private, "play", 2)], world.bob)
    alices = await world.history()
    bobs = await world.history(world.bob)
    assert {item["track_id"] for item in alices["items"]} == {
        str(world.tracks[0]),
        str(world.tracks[1]),
    }
    assert [item["track_id"] for item in bobs["items"]] == [str(world.bobs_private)]
    # Bob's cursor cannot open Alice's history: cursors only position, the caller decides.
    page = await world.history(limit=1)
    assert page["next_cursor"]
    as_bob = await world.history(world.bob, cursor=page["next_cursor"])
    assert all(item["track_id"] == str(world.bobs_private) for item in as_bob["items"])
    assert (await world.stats(world.bob))["listens"] == 1
    assert (await world.stats())["listens"] == 2
    for path in ("/api/v1/me/listens", "/api/v1/me/stats"):
        assert (await world.client.get(path)).status_code == 401


async def test_stats_count_events_hours_and_top_items(world: World) -> None:
    aurora, basalt = world.artists["Aurora Lane"], world.artists["Basalt"]
    await _record(
        world,
        [
            listen(world.tracks[0], "play", 0),  # 12:00 UTC
            listen(world.tracks[0], "play", 70),  # 13:10
            listen(world.tracks[0], "complete", 74),
            listen(world.tracks[1], "play", 80),  # 13:20
            listen(world.tracks[3], "play", 150),  # 14:30
            listen(world.tracks[4], "play", 151),
            listen(world.tracks[5], "play", 152),
            listen(world.tracks[5], "skip", 153),
            listen(world.tracks[3], "like", 154),
            listen(world.tracks[3], "unlike", 155),
            listen(world.tracks[3], "like", 156),
        ],
    )
    stats = await world.stats(top=2)
    assert stats["listens"] == 11
    assert stats["events"] == {"play": 6, "skip": 1, "like": 2, "unlike": 1, "complete": 1}
    assert stats["distinct_tracks"] == 5
    assert datetime.fromisoformat(stats["first_at"]) == datetime.fromisoformat(at(0))
    assert datetime.fromisoformat(stats["last_at"]) == datetime.fromisoformat(at(156))
    assert len(stats["hours"]) == 24
    assert stats["hours"][12] == 1
    assert stats["hours"][13] == 3  # two plays and a completion
    assert stats["hours"][14] == 3
    assert sum(stats["hours"]) == 7
    top_tracks = stats["top_tracks"]
    assert [t["track_id"] for t in top_tracks] == [
        str(world.tracks[0]),
        str(min(world.tracks[1], world.tracks[3], world.tracks[4], world.tracks[5], key=str)),
    ]
    assert top_tracks[0]["plays"] == 2
    assert top_tracks[0]["completes"] == 1
    assert top_tracks[0]["track"]["title"] == "Song 0"
    # A tie on plays goes to more completions.
    assert [(a["artist_id"], a["name"], a["plays"]) for a in stats["top_artists"]] == [
        (str(aurora), "Aurora Lane", 3),
        (str(basalt), "Basalt", 3),
    ]
    everything = await world.stats(top=50)
    liked = next(t for t in everything["top_tracks"] if t["track_id"] == str(world.tracks[3]))
    assert liked["likes"] == 1  # like, unlike, like
    skipped = next(t for t in everything["top_tracks"] if t["track_id"] == str(world.tracks[5]))
    assert skipped["skips"] == 1
    basalt_row = next(a for a in everything["top_artists"] if a["name"] == "Basalt")
    assert (basalt_row["plays"], basalt_row["skips"], basalt_row["likes"]) == (3, 1, 1)


async def test_empty_stats(world: World) -> None:
    stats = await world.stats()
    assert stats["listens"] == 0
    assert stats["hours"] == [0] * 24
    assert stats["first_at"] is None
    assert stats["top_tracks"] == []
    assert stats["top_artists"] == []
    response = await world.client.get(
        "/api/v1/me/stats", params={"top": 51}, headers=world.alice.headers
    )
    assert response.status_code == 422
