"""A catalogue where sound and listening disagree, with features, listens and a trained model.

Twelve public tracks by three artists (``A0``..``A3`` by Aurora, ``B*`` by Basalt,
``C*`` by Cinder). Their sound embeddings group them *by take number* (A0, B0 and C0
sound alike, and so on), while their listeners group them *by artist* (four fans per
artist play all four of that artist's songs). So the sound neighbours of A0 are B0 and
C0 and its listening neighbours A1..A3: ``by=sound`` and ``by=cf`` must disagree.
A ``new`` track sounds like take 0 and has no listens (cold start), Bob has a private
track that also sounds like take 0, and ``silent`` has no audio.

Everything goes through the real app and its services on both databases: tracks and
listens through HTTP, audio uploaded for real; the analysis worker is off and the
features are stored with the catalog's own ``store_analysis`` (the values chosen here,
so mood filters have known answers), and the CF model is trained with ``implicit`` on
the real training log and published to the app's registry, as ``audotics train`` does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from audotics.app import create_app
from audotics.config import Settings
from audotics.ml.audio.types import ANALYSIS_VERSION, EMBEDDING_DIM, AudioFeatures
from audotics.ml.cf.confidence import ConfidenceWeights, build_confidence
from audotics.ml.cf.registry import ModelRegistry
from audotics.ml.cf.train import ALSParams, train_als
from audotics.services.analytics import service as analytics
from audotics.services.catalog import service as catalog
from audotics.services.users.schemas import Role
from tests.integration.analytics.conftest import listen
from tests.support.audio import encode
from tests.support.factories import SignedIn, sign_up

API = "/api/v1"
PROBLEM = "application/problem+json"
ARTISTS = ("Aurora", "Basalt", "Cinder")
_CLOCK = itertools.count()  # minutes after the analytics fixtures' base time: distinct listens


def embedding(take: int, artist: int) -> list[float]:
    """Take ``take`` of any artist sounds alike; the artist adds a faint colour."""
    vector = np.zeros(EMBEDDING_DIM)
    vector[take * 8] = 1.0
    vector[take * 8 + 1 + artist] = 0.15
    vector[48 + artist] = 0.05
    return list(vector / np.linalg.norm(vector))


def features(take: int, artist: int, vector: list[float]) -> AudioFeatures:
    """Tempo and energy rise with the take, valence with the artist."""
    return AudioFeatures(
        analysis_version=ANALYSIS_VERSION,
        duration_s=1.0,
        window={"start_s": 0.0, "end_s": 1.0},
        tempo_bpm=80.0 + 20.0 * take,
        tempo_confidence=0.9,
        key="A",
        mode="minor",
        key_confidence=0.8,
        loudness_lufs=-14.0,
        dynamic_range_db=6.0,
        energy=0.1 + 0.25 * take,
        danceability=0.5,
        acousticness=0.3,
        instrumentalness=0.2,
        valence=0.2 + 0.3 * artist,
        onset_rate=2.0,
        spectral_centroid=1500.0,
        spectral_rolloff=3000.0,
        spectral_flatness=0.1,
        spectral_bandwidth=1200.0,
        zero_crossing_rate=0.05,
        embedding=vector,
    )


@dataclass
class Catalogue:
    client: httpx.AsyncClient
    app: FastAPI
    curator: SignedIn
    alice: SignedIn
    bob: SignedIn
    tracks: dict[str, uuid.UUID]  # "A0".."C3", "new", "silent"
    artists: dict[str, uuid.UUID]
    bobs_private: uuid.UUID
    features: dict[uuid.UUID, AudioFeatures]

    def name_of(self, track_id: uuid.UUID) -> str:
        if track_id == self.bobs_private:
            return "bobs_private"
        return next(name for name, tid in self.tracks.items() if tid == track_id)

    async def listen(self, user: SignedIn, *names: str, event: str = "complete") -> None:
        body = {
            "listens": [listen(self.tracks[name], event, minutes=next(_CLOCK)) for name in names]
        }
        response = await self.client.post(f"{API}/listens", json=body, headers=user.headers)
        assert response.status_code in (200, 201), response.text

    async def similar(self, user: SignedIn, track: uuid.UUID, **params: Any) -> httpx.Response:
        return await self.client.get(
            f"{API}/tracks/{track}/similar", params=params, headers=user.headers
        )

    async def generate(self, user: SignedIn, **body: Any) -> httpx.Response:
        return await self.client.post(f"{API}/playlists/generate", json=body, headers=user.headers)

    async def train(self) -> str:
        """Train on everything listened so far, publish, and have the app serve it."""
        async with self.app.state.infra.db.session() as session:
            log = await analytics.training_log(session)
        weights = ConfidenceWeights()
        model = train_als(
            build_confidence(log, weights),
            ALSParams(factors=8, iterations=12, regularization=0.1),
            item_ids=log.item_ids,
            user_ids=log.user_ids,
            extra_params=weights.to_dict(),
        )
        meta = await ModelRegistry(self.app.state.infra.objects).publish(
            model, engine="implicit", snapshot={"id": "test"}, train_seconds=0.0
        )
        assert await self.app.state.model_holder.refresh()
        return meta.version


async def _track(
    client: httpx.AsyncClient, user: SignedIn, title: str, artist: str, audio: bool = True
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/tracks", json={"title": title, "artist": artist}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    track: dict[str, Any] = response.json()
    if audio:
        uploaded = await client.put(
            f"{API}/tracks/{track['id']}/audio",
            content=encode("wav", 0.5, 200 + 10 * len(title)),
            headers={**user.headers, "Content-Type": "application/octet-stream"},
        )
        assert uploaded.status_code == 200, uploaded.text
    return track


async def _analyse(app: FastAPI, track_id: uuid.UUID, values: AudioFeatures) -> None:
    async with app.state.infra.db.session() as session:
        state = await catalog.analysis_state(session, track_id)
        assert state is not None
        stored = await catalog.store_analysis(session, track_id, state.audio_sha256, values)
        assert stored is not None


@pytest.fixture
async def quiet_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app without its analysis worker: features are the ones the test stores."""
    application = create_app(settings.model_copy(update={"embedded_worker": False}))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def catalogue(quiet_app: FastAPI) -> AsyncIterator[Catalogue]:
    transport = httpx.ASGITransport(app=quiet_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        curator = await sign_up(client, "curator", app=quiet_app, role=Role.curator)
        tracks: dict[str, uuid.UUID] = {}
        artists: dict[str, uuid.UUID] = {}
        stored: dict[uuid.UUID, AudioFeatures] = {}
        for a, artist in enumerate(ARTISTS):
            for take in range(4):
                made = await _track(client, curator, f"{artist[0]}{take} song", artist)
                track_id = uuid.UUID(made["id"])
                tracks[f"{artist[0]}{take}"] = track_id
                artists[artist] = uuid.UUID(made["artist"]["id"])
                stored[track_id] = features(take, a, embedding(take, a))
        new = await _track(client, curator, "Brand New", "Newcomer")
        tracks["new"] = uuid.UUID(new["id"])
        stored[tracks["new"]] = features(0, 2, embedding(0, 2))
        silent = await _track(client, curator, "No Audio", "Newcomer", audio=False)
        tracks["silent"] = uuid.UUID(silent["id"])
        bob = await sign_up(client, "bob")
        private = await _track(client, bob, "Bedroom Demo", "Bob Himself")
        bobs_private = uuid.UUID(private["id"])
        stored[bobs_private] = features(0, 1, embedding(0, 1))
        for track_id, values in stored.items():
            await _analyse(quiet_app, track_id, values)
        world = Catalogue(
            client=client,
            app=quiet_app,
            curator=curator,
            alice=await sign_up(client, "alice"),
            bob=bob,
            tracks=tracks,
            artists=artists,
            bobs_private=bobs_private,
            features=stored,
        )
        for n in range(12):
            fan = await sign_up(client, f"fan{n}")
            letter = ARTISTS[n % 3][0]
            await world.listen(fan, *(f"{letter}{take}" for take in range(4)))
        yield world
