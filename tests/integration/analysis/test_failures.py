"""Hostile audio, crashing analysis processes and attempt bounds: recorded, never fatal."""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid

import numpy as np
import pytest
import soundfile

from audotics.ml.audio.synth import ClipSpec, render_clip
from audotics.ml.audio.types import ANALYSIS_VERSION, AudioFeatures
from audotics.services.catalog import service as catalog
from audotics.services.users.schemas import Role
from audotics.workers import analysis as worker
from tests.integration.analysis.conftest import (
    API,
    Manual,
    clip,
    encode_audio,
    new_track,
    put_audio,
    slow_clip,
    state,
    wait_for_analysis,
)
from tests.support.factories import sign_up

SPEC = ClipSpec(tempo_bpm=110, key="B", mode="minor", seconds=8)


@pytest.fixture(scope="session")
def eight_hours_of_silence(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("hostile") / "silence.flac"
    with soundfile.SoundFile(path, "w", 8000, 1, format="FLAC", subtype="PCM_16") as out:
        block = np.zeros(8000 * 600, dtype=np.int16)
        for _ in range(48):  # 8 h
            out.write(block)
    return path.read_bytes()


def _hostile(name: str, silence: bytes) -> bytes:
    flac = clip(SPEC)
    if name == "truncated":
        return flac[: len(flac) // 3]
    if name == "zero-length":
        return b""
    if name == "not-audio":
        return os.urandom(4096)
    if name == "mp3-named-flac":
        return clip(SPEC, "MP3")
    if name == "nan-samples":
        samples = render_clip(SPEC)
        samples[1000:9000] = np.nan
        samples[12_000] = np.inf
        return encode_audio(samples, fmt="WAV", subtype="FLOAT")
    if name == "8h-silence":
        return silence
    raise AssertionError(name)


async def _replace_object(manual: Manual, track_id: uuid.UUID, data: bytes) -> None:
    """Corrupt the stored object behind the job's back (storage rot, a bypassed probe)."""
    (info,) = await manual.infra.objects.list(f"audio/{track_id}/")
    await manual.infra.objects.put(info.key, data)


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("truncated", "failed", "undecodable audio (corrupt)"),
        ("zero-length", "failed", "undecodable audio (empty)"),
        ("not-audio", "failed", "undecodable audio (unrecognised-format)"),
        ("mp3-named-flac", "done", None),
        ("nan-samples", "done", None),
        ("8h-silence", "done", None),
    ],
)
async def test_hostile_audio_is_recorded_and_the_worker_carries_on(
    manual: Manual, eight_hours_of_silence: bytes, name: str, status: str, reason: str | None
) -> None:
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    hostile = await new_track(manual.client, curator, f"Hostile {name}")
    await put_audio(manual.client, curator, hostile, clip(SPEC))
    await _replace_object(manual, hostile, _hostile(name, eight_hours_of_silence))
    healthy = await new_track(manual.client, curator, "Healthy")
    await put_audio(manual.client, curator, healthy, clip(ClipSpec(95, "E", "major", seconds=6)))
    manual.start_work()

    track = await wait_for_analysis(manual.client, curator, hostile)
    assert track["analysis_status"] == status
    after = await state(manual.infra, hostile)
    assert after.attempts == 1  # deterministic outcomes are not retried
    features = await manual.client.get(f"{API}/tracks/{hostile}/features", headers=curator.headers)
    if status == "failed":
        assert features.status_code == 409
        problem = features.json()
        assert problem["analysis_status"] == "failed"
        assert problem["analysis_error"].startswith(reason)
        assert reason in problem["detail"]
    else:
        assert features.status_code == 200, features.text
        body = features.json()
        assert all(not isinstance(v, float) or math.isfinite(v) for v in body.values()), body
        if name == "8h-silence":
            assert body["loudness_lufs"] is None and body["tempo_bpm"] is None
            assert body["window"]["end_s"] - body["window"]["start_s"] <= 120.0 + 1e-6
    assert (await wait_for_analysis(manual.client, curator, healthy))["analysis_status"] == "done"
    assert await manual.infra.queue.dead_letters() == []


async def _kill_analysis_processes_on_attempts(
    manual: Manual, track_id: uuid.UUID, attempts: set[int], timeout_s: float = 120
) -> None:
    """SIGKILL the analysis child while it works on each of ``attempts`` (a real crash)."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while killed != attempts:
        assert time.monotonic() < deadline, f"killed on {killed}, wanted {attempts}"
        current = (await state(manual.infra, track_id)).attempts
        runner = worker._runner
        pool = runner._pool if runner is not None else None
        children = list(getattr(pool, "_processes", {}).values()) if pool else []
        if current in attempts - killed and children:
            for child in children:
                child.kill()
            killed.add(current)
        await asyncio.sleep(0.02)


async def test_crashed_analysis_is_retried_and_then_succeeds(manual: Manual) -> None:
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    track_id = await new_track(manual.client, curator, "Crash Once")
    await put_audio(manual.client, curator, track_id, slow_clip())
    manual.start_work()
    await _kill_analysis_processes_on_attempts(manual, track_id, {1})
    track = await wait_for_analysis(manual.client, curator, track_id)
    assert track["analysis_status"] == "done"
    after = await state(manual.infra, track_id)
    assert after.attempts == 2
    async with manual.infra.db.session() as session:
        assert (await catalog.analysis_state(session, track_id)) is not None
    response = await manual.client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
    assert response.status_code == 200


async def test_retries_are_bounded(manual: Manual) -> None:
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    track_id = await new_track(manual.client, curator, "Always Crashes")
    await put_audio(manual.client, curator, track_id, slow_clip())
    manual.start_work()
    await _kill_analysis_processes_on_attempts(manual, track_id, {1, 2, 3})
    track = await wait_for_analysis(manual.client, curator, track_id)
    assert track["analysis_status"] == "failed"
    after = await state(manual.infra, track_id)
    assert after.attempts == catalog.ANALYSIS_MAX_ATTEMPTS == 3
    response = await manual.client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
    assert response.status_code == 409
    assert "analysis process died" in response.json()["analysis_error"]
    stats = await manual.infra.queue.stats()
    assert stats["pending"] == 0  # nothing left to retry


async def test_a_file_that_kills_its_worker_every_time_is_given_up(
    manual: Manual, listener_bytes: bytes
) -> None:
    curator = await sign_up(manual.client, "curator", app=manual.app, role=Role.curator)
    track_id = await new_track(manual.client, curator, "Poison")
    body = await put_audio(manual.client, curator, track_id, listener_bytes)
    sha = body["audio"]["sha256"]
    # Three deliveries whose worker died after counting its attempt...
    for _ in range(3):
        async with manual.infra.db.session() as session:
            begin, _ = await catalog.begin_analysis(session, track_id, sha)
            assert begin is catalog.Begin.start
    # (bookkeeping that clients don't see leaves the track's updated_at alone)
    seen = await manual.client.get(f"{API}/tracks/{track_id}", headers=curator.headers)
    assert seen.json()["updated_at"] == body["updated_at"]
    # ...so the next one, whoever delivers it, gives up instead of trying again.
    manual.start_work()
    track = await wait_for_analysis(manual.client, curator, track_id)
    assert track["analysis_status"] == "failed"
    after = await state(manual.infra, track_id)
    assert after.attempts == 3
    response = await manual.client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
    assert response.json()["analysis_error"].startswith("gave up after 3 attempts")


@pytest.fixture
def listener_bytes() -> bytes:
    return clip(ClipSpec(120, "C", "major", seconds=3))


def _features(**overrides: object) -> AudioFeatures:
    values: dict[str, object] = dict(
        analysis_version=ANALYSIS_VERSION,
        duration_s=3.0,
        window={"start_s": 0.0, "end_s": 3.0},
        tempo_bpm=float("nan"),
        tempo_confidence=0.5,
        key="H",  # not a pitch class
        mode="minor",
        key_confidence=float("inf"),
        loudness_lufs=-12.0,
        dynamic_range_db=None,
        energy=0.5,
        danceability=0.5,
        acousticness=0.5,
        instrumentalness=0.5,
        valence=0.5,
        onset_rate=2.0,
        spectral_centroid=1000.0,
        spectral_rolloff=3000.0,
        spectral_flatness=0.1,
        spectral_bandwidth=900.0,
        zero_crossing_rate=0.05,
        chroma=[1 / 12] * 11 + [float("nan")],
        mfcc_mean=[1.0] * 13,
        mfcc_var=[2.0] * 13,
        embedding=[3.0] + [0.0] * 63,
    )
    values.update(overrides)
    return AudioFeatures(**values)  # type: ignore[arg-type]


async def test_store_sanitises_non_finite_values_and_refuses_a_bad_embedding(
    manual: Manual, listener_bytes: bytes
) -> None:
    owner = await sign_up(manual.client, "owner")
    track_id = await new_track(manual.client, owner, "Numbers")
    sha = (await put_audio(manual.client, owner, track_id, listener_bytes))["audio"]["sha256"]
    async with manual.infra.db.session() as session:
        with pytest.raises(catalog.InvalidFeatures):
            await catalog.store_analysis(
                session, track_id, sha, _features(embedding=[float("nan")] * 64)
            )
        with pytest.raises(catalog.InvalidFeatures):
            await catalog.store_analysis(session, track_id, sha, _features(embedding=[0.0] * 64))
        untouched = await catalog.analysis_state(session, track_id)
        assert untouched is not None and untouched.status == "pending"
        event = await catalog.store_analysis(session, track_id, sha, _features())
        assert event is not None and event["tempo_bpm"] is None and event["key"] is None
        assert await catalog.store_analysis(session, track_id, "0" * 64, _features()) is None
    response = await manual.client.get(
        f"{API}/tracks/{track_id}/features", params={"embedding": True}, headers=owner.headers
    )
    body = response.json()
    assert body["tempo_bpm"] is None and body["key_confidence"] is None
    assert body["key"] is None and body["mode"] is None
    assert body["chroma"] is None  # a list with a NaN is dropped whole
    assert body["embedding"][0] == pytest.approx(1.0) and sum(body["embedding"][1:]) == 0.0
