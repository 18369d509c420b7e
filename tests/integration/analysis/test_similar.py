"""GET /tracks/{id}/similar?by=sound: nearest neighbours among the tracks the caller may see.

(by=cf and by=hybrid: tests/integration/recommendations/test_similar_tracks.py.)
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from audotics.infra.objects.base import ObjectStore
from audotics.ml.audio.synth import ClipSpec
from audotics.services.catalog.similarity import SoundIndex, snapshot_key
from tests.integration.analysis.conftest import (
    API,
    PROBLEM,
    clip,
    new_track,
    put_audio,
    wait_for_analysis,
)
from tests.support.factories import SignedIn, sign_up

# Varied tempo, key, mode and timbre (brightness); each is rendered twice with tiny changes.
BASES = [
    (70, "C", "major", 0.1),
    (95, "F#", "minor", 0.9),
    (120, "A", "minor", 0.5),
    (140, "D", "major", 0.3),
    (165, "G#", "minor", 0.7),
    (85, "E", "major", 0.95),
    (110, "A#", "major", 0.6),
    (130, "C#", "minor", 0.2),
]


def _variant(base: int, variant: int) -> bytes:
    tempo, key, mode, brightness = BASES[base]
    spec = ClipSpec(
        tempo_bpm=tempo * (1 + 0.004 * variant),
        key=key,
        mode=mode,
        seconds=10,
        brightness=brightness + 0.03 * variant,
        loudness=0.5 - 0.05 * variant,
        seed=10 * base + variant,
    )
    return clip(spec)


async def _upload(
    client: httpx.AsyncClient, user: SignedIn, base: int, variant: int, **fields: object
) -> uuid.UUID:
    track_id = await new_track(client, user, f"Base {base} take {variant}", **fields)
    await put_audio(client, user, track_id, _variant(base, variant))
    return track_id


async def _similar(
    client: httpx.AsyncClient, user: SignedIn, track_id: uuid.UUID, **params: object
) -> httpx.Response:
    return await client.get(f"{API}/tracks/{track_id}/similar", params=params, headers=user.headers)


async def _similar_ids(
    client: httpx.AsyncClient, user: SignedIn, track_id: uuid.UUID, limit: int = 5
) -> list[uuid.UUID]:
    response = await _similar(client, user, track_id, by="sound", limit=limit)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["seed_id"] == str(track_id) and body["by"] == "sound"
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    return [uuid.UUID(item["track"]["id"]) for item in body["items"]]


async def test_takes_of_the_same_piece_are_each_others_nearest_neighbours(
    client: httpx.AsyncClient, curator: SignedIn
) -> None:
    takes = {
        (base, variant): await _upload(client, curator, base, variant)
        for base in range(len(BASES))
        for variant in (0, 1)
    }
    for track_id in takes.values():
        assert (await wait_for_analysis(client, curator, track_id))["analysis_status"] == "done"
    for (base, variant), track_id in takes.items():
        found = await _similar_ids(client, curator, track_id, limit=5)
        assert track_id not in found
        assert len(found) == 5
        assert found[0] == takes[(base, 1 - variant)], (base, variant)


async def test_similar_follows_visibility_new_analyses_and_deletions(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn
) -> None:
    owner = await sign_up(client, "owner")
    stranger = await sign_up(client, "stranger")
    public = await _upload(client, curator, 2, 0)
    neighbour = await _upload(client, curator, 3, 0)
    private = await _upload(client, owner, 2, 1)  # the public track's twin, owner's only
    for track_id in (public, neighbour, private):
        await wait_for_analysis(client, curator if track_id != private else owner, track_id)

    assert (await _similar_ids(client, owner, public))[0] == private
    assert private not in await _similar_ids(client, stranger, public)
    assert (await _similar(client, stranger, private)).status_code == 404

    # A track analysed after the index was built is found without a restart.
    later = await _upload(client, curator, 2, 1)
    await wait_for_analysis(client, curator, later)
    assert (await _similar_ids(client, stranger, public))[0] == later

    # A deleted track is never answered, even though the index still held it.
    response = await client.delete(f"{API}/tracks/{later}", headers=curator.headers)
    assert response.status_code == 204
    assert later not in await _similar_ids(client, stranger, public)
    assert await _similar_ids(client, stranger, public) == [neighbour]


async def test_similar_answers_problems_for_bad_requests(
    client: httpx.AsyncClient, curator: SignedIn
) -> None:
    silent = await new_track(client, curator, "No Audio Yet")

    async def problem(track_id: object, status: int, **params: object) -> dict[str, object]:
        response = await client.get(
            f"{API}/tracks/{track_id}/similar", params=params, headers=curator.headers
        )
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        body: dict[str, object] = response.json()
        return body

    await problem(uuid.uuid4(), 404)
    assert (await problem(silent, 409))["title"] == "No audio"
    assert (await problem(silent, 409, by="hybrid"))["title"] == "Nothing to base it on"
    await problem(silent, 422, by="nearest")
    await problem(silent, 422, limit=0)
    await problem(silent, 422, limit=101)
    await problem("nope", 422)
    assert (await client.get(f"{API}/tracks/{silent}/similar")).status_code == 401


async def test_index_snapshot_is_saved_and_restores(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn
) -> None:
    ids = [await _upload(client, curator, base, 0) for base in (0, 1, 4)]
    for track_id in ids:
        await wait_for_analysis(client, curator, track_id)
    expected = await _similar_ids(client, curator, ids[0])
    objects: ObjectStore = app.state.infra.objects
    assert await objects.exists(snapshot_key())

    restored = SoundIndex(objects)
    async with app.state.infra.db.session() as session:
        answer = await restored.similar(session, curator.id, ids[0], 5)
    assert [item.track.id for item in answer.items] == expected
    assert len(restored) == 3

    await objects.put(snapshot_key(), b"\x10\x00\x00\x00garbage")
    rebuilt = SoundIndex(objects)
    async with app.state.infra.db.session() as session:
        answer = await rebuilt.similar(session, curator.id, ids[0], 5)
    assert [item.track.id for item in answer.items] == expected
    assert await objects.get(snapshot_key()) != b"\x10\x00\x00\x00garbage"  # rewritten
