"""On Redis: a worker killed mid-analysis leaves the job to another worker, which finishes it."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.factory import Infra
from audotics.infra.queue.redis_streams import RedisStreamsJobQueue
from audotics.ml.audio.synth import ClipSpec
from audotics.services.users.schemas import Role
from tests.integration.analysis.conftest import (
    API,
    clip,
    new_track,
    put_audio,
    slow_clip,
    state,
)
from tests.support.factories import sign_up

pytestmark = pytest.mark.redis

VISIBILITY_S = 3.0


@pytest.fixture
async def redis_app(
    settings: Settings, redis_url: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The API on Redis without an embedded worker: jobs wait for `audotics worker`."""
    production = settings.model_copy(
        update={
            "redis_url": redis_url,
            "embedded_worker": False,
            "max_upload_bytes": 64 * 1024 * 1024,
            "queue_visibility_timeout_s": VISIBILITY_S,
        }
    )
    application = create_app(production)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


def _start_worker(settings: Settings, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDOTICS_")}
    env.update(
        AUDOTICS_DATA_DIR=str(settings.data_dir),
        AUDOTICS_DATABASE_URL=settings.resolved_database_url,
        AUDOTICS_REDIS_URL=redis_url,
        AUDOTICS_QUEUE_VISIBILITY_TIMEOUT_S=str(VISIBILITY_S),
        AUDOTICS_WORKER_CONCURRENCY="1",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "audotics"), "worker", "--concurrency", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes its children too
        )


async def _until(
    condition: object, process: subprocess.Popen[bytes], log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():  # type: ignore[operator]
        assert process.poll() is None, f"worker exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out; worker log:\n{log.read_text()[-3000:]}"
        await asyncio.sleep(0.05)


async def test_job_of_a_killed_worker_is_redelivered_and_completed(
    redis_app: tuple[FastAPI, httpx.AsyncClient], settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    app, client = redis_app
    infra: Infra = app.state.infra
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    track_id = await new_track(client, curator, "Long Take")
    await put_audio(client, curator, track_id, slow_clip())  # seconds of real analysis
    assert (await infra.queue.stats())["pending"] == 1

    log = tmp_path / "workers.log"
    first = _start_worker(settings, redis_url, log)
    try:

        async def started() -> bool:
            return (await state(infra, track_id)).attempts >= 1

        await _until(started, first, log, timeout_s=90)
        os.killpg(first.pid, signal.SIGKILL)  # mid-job: the attempt is counted, no result yet
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    killed = await state(infra, track_id)
    assert (killed.status, killed.attempts) == ("pending", 1), "finished before the kill"
    assert (await infra.queue.stats())["in_flight"] == 1  # still owned by the dead consumer

    second = _start_worker(settings, redis_url, log)
    try:

        async def finished() -> bool:
            return (await state(infra, track_id)).status != "pending"

        await _until(finished, second, log, timeout_s=180)
        done = await state(infra, track_id)
        assert (done.status, done.attempts) == ("done", 2)
        response = await client.get(f"{API}/tracks/{track_id}/features", headers=curator.headers)
        assert response.status_code == 200, response.text
        assert response.json()["tempo_bpm"] is not None

        async def acknowledged() -> bool:
            return (await infra.queue.stats()) == {"pending": 0, "in_flight": 0, "dead": 0}

        await _until(acknowledged, second, log, timeout_s=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert second.returncode == 0, log.read_text()[-3000:]


async def test_upload_is_refused_whole_when_the_queue_cannot_take_the_job(
    redis_app: tuple[FastAPI, httpx.AsyncClient], redis_url: str
) -> None:
    app, client = redis_app
    owner = await sign_up(client, "owner")
    track_id = await new_track(client, owner, "Unqueued")
    # Make the real Redis refuse the job: the jobs stream key now holds a string.
    stream = inspect.signature(RedisStreamsJobQueue).parameters["stream"].default
    with redis.Redis.from_url(redis_url) as raw:
        raw.delete(stream)
        raw.set(stream, "not a stream")
    response = await client.put(
        f"{API}/tracks/{track_id}/audio",
        content=clip(ClipSpec(100, "A", "minor", seconds=3)),
        headers={**owner.headers, "Content-Type": "audio/flac"},
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "not stored" in response.json()["detail"]
    track = (await client.get(f"{API}/tracks/{track_id}", headers=owner.headers)).json()
    assert track["audio"] is None and track["analysis_status"] == "none"
    assert await app.state.infra.objects.list(f"audio/{track_id}/") == []
