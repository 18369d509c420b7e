"""POST /api/v1/listens: single and batched, idempotent, visibility-checked, all or nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from asgi_lifespan import LifespanManager

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.events.base import Event
from audotics.infra.factory import build_infra
from audotics.services.analytics.service import LISTEN_RECORDED
from tests.integration.analytics.conftest import World, listen
from tests.support.factories import sign_up

PROBLEM = "application/problem+json"


async def _count(world: World) -> int:
    return len((await world.history(limit=200))["items"])


async def test_single_listen_is_stored_and_read_back(world: World) -> None:
    body = listen(world.tracks[0], "play", 0, play_duration_s=181.5)
    response = await world.submit(body)
    assert response.status_code == 201, response.text
    assert response.json() == {"received": 1, "new": 1, "duplicates": 0}

    (item,) = (await world.history())["items"]
    assert item["track_id"] == str(world.tracks[0])
    assert item["event"] == "play"
    assert datetime.fromisoformat(item["occurred_at"]) == datetime.fromisoformat(
        body["occurred_at"]
    )
    assert item["play_duration_s"] == 181.5
    assert item["source"] == "api"
    assert item["client_key"] is None
    assert item["track"]["title"] == "Song 0"
    assert item["track"]["artist"]["name"] == "Aurora Lane"


async def test_batch_is_stored_and_resending_changes_nothing(world: World) -> None:
    batch = {
        "listens": [
            listen(world.tracks[0], "play", 0),
            listen(world.tracks[0], "complete", 3),
            listen(world.tracks[1], "skip", 4, play_duration_s=12),
            listen(world.tracks[3], "like", 5, client_key="phone-42"),
        ]
    }
    first = await world.submit(batch)
    assert first.status_code == 201, first.text
    assert first.json() == {"received": 4, "new": 4, "duplicates": 0}

    again = await world.submit(batch)
    assert again.status_code == 200, again.text
    assert again.json() == {"received": 4, "new": 0, "duplicates": 4}
    assert await _count(world) == 4
    stats = await world.stats()
    assert stats["events"] == {"play": 1, "skip": 1, "like": 1, "unlike": 0, "complete": 1}

    # One new listen among old ones: only it is stored, the aggregates move by one.
    batch["listens"].append(listen(world.tracks[0], "play", 60))
    mixed = await world.submit(batch)
    assert mixed.status_code == 201
    assert mixed.json() == {"received": 5, "new": 1, "duplicates": 4}
    top = (await world.stats())["top_tracks"]
    assert top[0]["track_id"] == str(world.tracks[0])
    assert top[0]["plays"] == 2
    assert top[0]["completes"] == 1


async def test_client_key_identifies_a_listen(world: World) -> None:
    first = await world.submit(listen(world.tracks[0], "play", 0, client_key="k-1"))
    assert first.json()["new"] == 1
    # Same key, different content: the stored listen wins, nothing changes.
    second = await world.submit(listen(world.tracks[1], "skip", 30, client_key="k-1"))
    assert second.status_code == 200
    assert second.json() == {"received": 1, "new": 0, "duplicates": 1}
    (item,) = (await world.history())["items"]
    assert item["track_id"] == str(world.tracks[0])
    assert item["client_key"] == "k-1"
    # Without a key, the same track/event/time is the same listen, whatever the offset says.
    offset = (datetime(2024, 3, 1, 14, 0, tzinfo=UTC).astimezone()).isoformat()
    plain = {"track_id": str(world.tracks[2]), "event": "play", "occurred_at": offset}
    shifted = dict(plain, occurred_at="2024-03-01T16:00:00+02:00")
    assert (await world.submit(plain)).json()["new"] == 1
    assert (await world.submit(shifted)).json()["new"] == 0


async def test_duplicates_within_one_batch_count_once(world: World) -> None:
    same = listen(world.tracks[0], "play", 0)
    response = await world.submit({"listens": [same, same, dict(same)]})
    assert response.status_code == 201
    assert response.json() == {"received": 3, "new": 1, "duplicates": 2}


async def test_listens_are_per_user(world: World) -> None:
    body = listen(world.tracks[0], "play", 0)
    assert (await world.submit(body)).json()["new"] == 1
    # The same listen from another user is that user's own, not a duplicate.
    assert (await world.submit(body, world.bob)).json()["new"] == 1
    assert len((await world.history(world.bob))["items"]) == 1


async def test_someone_elses_private_track_rejects_the_whole_batch(world: World) -> None:
    batch = {
        "listens": [
            listen(world.tracks[0], "play", 0),
            listen(world.bobs_private, "play", 1),
            listen(uuid.uuid4(), "play", 2),
        ]
    }
    response = await world.submit(batch)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["invalid_indexes"] == [1, 2]
    assert "nothing was stored" in problem["detail"]
    assert await _count(world) == 0
    assert (await world.stats())["top_tracks"] == []
    # The owner may record listens of their own private track.
    own = await world.submit(listen(world.bobs_private, "play", 1), world.bob)
    assert own.status_code == 201


async def test_invalid_listens_are_rejected_and_nothing_is_stored(world: World) -> None:
    good = listen(world.tracks[0], "play", 0)
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    cases = [
        ({"listens": [good] * 1001}, "at most 1000"),
        ({"listens": []}, "listens"),
        ({"listens": [good, dict(good, event="dance")]}, "listens.1"),
        (dict(good, event="dance"), "event"),
        (dict(good, occurred_at=future), "future"),
        (dict(good, occurred_at="1969-12-31T23:59:59Z"), "1970"),
        (dict(good, occurred_at="yesterday"), "occurred_at"),
        (dict(good, occurred_at="9999-12-31T23:59:59-05:00"), "out of range"),
        (dict(good, play_duration_s=-1), "play_duration_s"),
        (dict(good, client_key=""), "client_key"),
        (dict(good, client_key="a\nb"), "client_key"),
        (dict(good, rating=5), "rating"),
        ({"track_id": "not-a-uuid", "event": "play", "occurred_at": good["occurred_at"]}, ""),
        ([good], ""),
    ]
    for body, hint in cases:
        response = await world.submit(body)
        assert response.status_code == 422, body if not isinstance(body, dict) else hint
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert hint in problem["detail"] + str(problem.get("errors")), (hint, problem)
    assert await _count(world) == 0


async def test_epoch_seconds_and_naive_times_are_utc(world: World) -> None:
    epoch = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
    naive = "2024-01-02T05:00:00"
    batch = {
        "listens": [
            {"track_id": str(world.tracks[0]), "event": "play", "occurred_at": epoch},
            {"track_id": str(world.tracks[1]), "event": "play", "occurred_at": naive},
        ]
    }
    assert (await world.submit(batch)).status_code == 201
    items = (await world.history())["items"]
    moments = [datetime.fromisoformat(item["occurred_at"]) for item in items]
    assert moments == [
        datetime(2024, 1, 2, 5, 0, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    ]


async def test_submitting_needs_authentication(world: World) -> None:
    response = await world.client.post("/api/v1/listens", json=listen(world.tracks[0]))
    assert response.status_code == 401


async def test_new_listens_publish_one_event_per_batch(settings: Settings) -> None:
    infra = build_infra(settings)
    received: asyncio.Queue[Event] = asyncio.Queue()

    async def handler(event: Event) -> None:
        await received.put(event)

    infra.events.subscribe(LISTEN_RECORDED, "test-probe", handler)
    application = create_app(settings, infra=infra)
    try:
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                user = await sign_up(client, "eve")
                curator_track = await client.post(
                    "/api/v1/tracks",
                    json={"title": "Mine", "artist": "Eve"},
                    headers=user.headers,
                )
                track = uuid.UUID(curator_track.json()["id"])
                batch = {"listens": [listen(track, "play", 0), listen(track, "complete", 4)]}
                response = await client.post("/api/v1/listens", json=batch, headers=user.headers)
                assert response.status_code == 201
                event = await asyncio.wait_for(received.get(), timeout=10)
                assert event.payload == {
                    "user_id": str(user.id),
                    "new": 2,
                    "track_ids": [str(track)],
                    "source": "api",
                }
                # A batch of duplicates stores nothing and announces nothing.
                again = await client.post("/api/v1/listens", json=batch, headers=user.headers)
                assert again.status_code == 200
                third = await client.post(
                    "/api/v1/listens", json=listen(track, "like", 9), headers=user.headers
                )
                assert third.status_code == 201
                event = await asyncio.wait_for(received.get(), timeout=10)
                assert event.payload["new"] == 1
                assert received.empty()
    finally:
        await infra.close()
