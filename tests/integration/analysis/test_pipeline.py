"""Upload -> job -> analysis -> features stored, searchable, event published; stale jobs."""

from __future__ import annotations

import asyncio
import math
import uuid

import httpx
import pytest
from fastapi import FastAPI

from audotics.infra.events.base import Event
from audotics.ml.audio.synth import ClipSpec
from audotics.ml.audio.types import ANALYSIS_VERSION, EMBEDDING_DIM
from audotics.services.catalog import service as catalog
from audotics.services.users.schemas import Role
from tests.integration.analysis.conftest import (
    API,
    PROBLEM,
    Manual,
    clip,
    new_track,
    put_audio,
    state,
    wait_for_analysis,
)
from tests.support.factories import SignedIn, sign_up


async def _search_ids(
    client: httpx.AsyncClient, user: SignedIn, **params: object
) -> set[uuid.UUID]:
    response = await client.get(f"{API}/search", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return {uuid.UUID(hit["id"]) for hit in response.json()["items"]}


async def test_upload_is_analysed_and_its_features_are_served_and_searchable(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn
) -> None:
    track_id = await new_track(client, curator, "Midnight Analysis")
    spec = ClipSpec(tempo_bpm=128, key="A", mode="minor", seconds=12, brightness=0.6)
    uploaded = await put_audio(client, curator, track_id, clip(spec))
    assert uploaded["analysis_status"] == "pending"

    track = await wait_for_analysis(client, curator, track_id)
    assert track["analysis_status"] == "done"
    response = await client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
    assert response.status_code == 200, response.text
    features = response.json()
    assert features["analysis_version"] == ANALYSIS_VERSION
    assert features["embedding"] is None  # only on request
    assert features["window"]["end_s"] == pytest.approx(12.0, abs=0.1)
    tempo = features["tempo_bpm"]
    assert tempo is not None and 40 <= tempo <= 240
    assert features["key"] in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    assert features["mode"] in ("major", "minor")
    assert features["loudness_lufs"] < 0
    assert len(features["chroma"]) == 12
    assert all(0.0 <= features[name] <= 1.0 for name in ("energy", "danceability", "valence"))

    with_vector = await client.get(
        f"{API}/tracks/{track_id}/features", params={"embedding": "true"}, headers=curator.headers
    )
    embedding = with_vector.json()["embedding"]
    assert len(embedding) == EMBEDDING_DIM
    assert math.fsum(v * v for v in embedding) == pytest.approx(1.0, abs=1e-4)

    # Search was re-indexed with the features: filters find the track, and only then.
    near = {"tempo_min": tempo - 1, "tempo_max": tempo + 1}
    assert track_id in await _search_ids(client, curator, **near)
    assert track_id in await _search_ids(client, curator, q="midnight", **near)
    assert track_id not in await _search_ids(client, curator, tempo_min=tempo + 5)
    key_filter = {"key": features["key"], "mode": features["mode"]}
    assert track_id in await _search_ids(client, curator, **key_filter)
    other_mode = "major" if features["mode"] == "minor" else "minor"
    assert track_id not in await _search_ids(client, curator, key=features["key"], mode=other_mode)


async def test_features_endpoint_answers_404_and_409_problems(manual: Manual) -> None:
    client = manual.client
    owner = await sign_up(client, "owner")
    stranger = await sign_up(client, "stranger")
    no_audio = await new_track(client, owner, "Silent Draft")
    waiting = await new_track(client, owner, "Queued")
    await put_audio(client, owner, waiting, clip(ClipSpec(90, "D", "major", seconds=4)))

    async def problem(track_id: uuid.UUID, user: SignedIn, status: int) -> dict[str, object]:
        response = await client.get(f"{API}/tracks/{track_id}/features", headers=user.headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        body: dict[str, object] = response.json()
        assert body["detail"]
        return body

    pending = await problem(waiting, owner, 409)
    assert pending["analysis_status"] == "pending" and "not been analysed" in str(pending["detail"])
    assert (await problem(no_audio, owner, 409))["title"] == "No audio"
    await problem(waiting, stranger, 404)  # someone else's private track does not exist
    await problem(uuid.uuid4(), owner, 404)
    response = await client.get(f"{API}/tracks/not-a-uuid/features", headers=owner.headers)
    assert response.status_code == 422
    response = await client.get(f"{API}/tracks/{waiting}/features")
    assert response.status_code == 401


async def test_event_is_published_and_repeated_jobs_do_no_work(manual: Manual) -> None:
    seen: asyncio.Queue[Event] = asyncio.Queue()

    async def on_analyzed(event: Event) -> None:
        await seen.put(event)

    manual.infra.events.subscribe(catalog.ANALYZED_EVENT, "test-listener", on_analyzed)
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    track_id = await new_track(manual.client, curator, "Evented")
    body = await put_audio(
        manual.client, curator, track_id, clip(ClipSpec(100, "G", "major", seconds=5))
    )
    manual.start_work()
    event = await asyncio.wait_for(seen.get(), timeout=120)
    assert event.payload["track_id"] == str(track_id)
    assert event.payload["audio_sha256"] == body["audio"]["sha256"]
    assert event.payload["analysis_version"] == ANALYSIS_VERSION
    assert event.payload["owner_id"] is None

    # At-least-once delivery: the same job again changes nothing and costs no attempt.
    await manual.infra.queue.enqueue(
        catalog.ANALYZE_JOB,
        catalog.analysis_job_payload(track_id, body["audio"]["sha256"], None),
    )
    await _until_queue_idle(manual)
    after = await state(manual.infra, track_id)
    assert (after.status, after.attempts) == ("done", 1)
    assert seen.empty()


async def _until_queue_idle(manual: Manual, timeout_s: float = 60) -> None:
    async def idle() -> None:
        while (await manual.infra.queue.stats())["pending"]:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(idle(), timeout_s)


async def test_job_for_replaced_audio_is_dropped(manual: Manual) -> None:
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    track_id = await new_track(manual.client, curator, "Replaced")
    first = await put_audio(
        manual.client, curator, track_id, clip(ClipSpec(80, "C", "major", seconds=5))
    )
    second = await put_audio(
        manual.client, curator, track_id, clip(ClipSpec(140, "F#", "minor", seconds=9))
    )
    assert first["audio"]["sha256"] != second["audio"]["sha256"]
    manual.start_work()  # two jobs wait: the first names audio that is gone
    await _until_queue_idle(manual)
    after = await state(manual.infra, track_id)
    assert (after.status, after.attempts) == ("done", 1)
    assert after.audio_sha256 == second["audio"]["sha256"]
    response = await manual.client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
    assert response.json()["window"]["end_s"] == pytest.approx(9.0, abs=0.1)
    assert await manual.infra.queue.dead_letters() == []
