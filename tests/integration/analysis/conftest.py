"""Users, generated audio and an app whose background work the test starts itself."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.factory import Infra, build_infra
from audotics.ml.audio.synth import ClipSpec, render_clip
from audotics.services.catalog import service as catalog
from audotics.services.catalog.analysis_schemas import AnalysisTarget
from audotics.services.users.schemas import Role
from audotics.workers import BackgroundWork, register_handlers
from audotics.workers.analysis import wait_for_sweeps
from tests.support.factories import SignedIn, sign_up

API = "/api/v1"
PROBLEM = "application/problem+json"


def encode_audio(
    samples: np.ndarray, sample_rate: int = 22_050, fmt: str = "FLAC", subtype: str = "PCM_16"
) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def clip(spec: ClipSpec, fmt: str = "FLAC") -> bytes:
    subtype = "MPEG_LAYER_III" if fmt == "MP3" else "PCM_16"
    return encode_audio(render_clip(spec), spec.sample_rate, fmt, subtype)


def slow_clip() -> bytes:
    """Valid audio that takes seconds to analyse: 130 s of 96 kHz stereo (~12 MB FLAC)."""
    bar = render_clip(
        ClipSpec(tempo_bpm=100, key="E", mode="major", seconds=10, sample_rate=96_000)
    )
    mono = np.tile(bar, 13)
    return encode_audio(np.stack([mono, mono[::-1]], axis=1), 96_000)


async def new_track(
    client: httpx.AsyncClient, user: SignedIn, title: str, **fields: Any
) -> uuid.UUID:
    body = {"title": title, "artist": fields.pop("artist", "Analysis Artist"), **fields}
    response = await client.post(f"{API}/tracks", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def put_audio(
    client: httpx.AsyncClient, user: SignedIn, track_id: uuid.UUID, data: bytes
) -> dict[str, Any]:
    response = await client.put(
        f"{API}/tracks/{track_id}/audio",
        content=data,
        headers={**user.headers, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_analysis(
    client: httpx.AsyncClient, user: SignedIn, track_id: uuid.UUID, timeout_s: float = 120.0
) -> dict[str, Any]:
    """The track once its analysis_status is done or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = await client.get(f"{API}/tracks/{track_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["analysis_status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"analysis still {body['analysis_status']}"
        await asyncio.sleep(0.1)


async def state(infra: Infra, track_id: uuid.UUID) -> AnalysisTarget:
    async with infra.db.session() as session:
        found = await catalog.analysis_state(session, track_id)
    assert found is not None
    return found


@pytest.fixture
async def curator(client: httpx.AsyncClient, app: FastAPI) -> SignedIn:
    return await sign_up(client, "curator", app=app, role=Role.curator)


@pytest.fixture
async def listener(client: httpx.AsyncClient) -> SignedIn:
    return await sign_up(client, "listener")


@dataclass
class Manual:
    """The app without its embedded worker: jobs wait in the queue until ``start_work``."""

    app: FastAPI
    client: httpx.AsyncClient
    infra: Infra
    work: BackgroundWork | None = None

    def start_work(self) -> None:
        self.work = BackgroundWork(self.infra, concurrency=2)
        self.work.start()

    async def stop_work(self) -> None:
        if self.work is not None:
            await self.work.shutdown(timeout_s=60)
            self.work = None


@pytest.fixture
async def manual(settings: Settings) -> AsyncIterator[Manual]:
    quiet = settings.model_copy(
        update={"embedded_worker": False, "max_upload_bytes": 64 * 1024 * 1024}
    )
    infra = build_infra(quiet)
    register_handlers(infra)
    await wait_for_sweeps()
    application = create_app(quiet, infra=infra)
    try:
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                state = Manual(application, c, infra)
                try:
                    yield state
                finally:
                    await state.stop_work()
    finally:
        await infra.close()
