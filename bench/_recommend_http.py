"""The HTTP leg of ``recommend_latency``: ``GET /api/v1/me/recommendations`` through the app.

Same generated state as the engine leg: every generated track and its artist is a
row of a throwaway SQLite database (migrated like production), each requesting user
signs up through the API and gets the aggregates (plays, completions, likes, skips)
of their generated events, and the app serves the bench's engine over those track ids
(the serving state is installed in the app's state cache, as a rebuild would leave
it: building it from 600k aggregates is the state rebuild's cost, not a request's).
A request therefore does everything a real one does: authenticate, read the user's
aggregates, run the engine (with the API's diversity 0.2 and artist cap 2), load the
track summaries and serialise. Each user is requested once, so the per-user result
cache never answers.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from asgi_lifespan import LifespanManager
from scipy import sparse
from sqlalchemy import insert

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra import migrate
from audotics.ml.datasets.records import EVENTS
from audotics.ml.datasets.synthetic import SyntheticData
from audotics.ml.recommend import RecommendationEngine
from audotics.ml.recommend.social import FollowedListening
from audotics.services.analytics.models import ItemInteraction
from audotics.services.catalog.models import Artist, Track
from audotics.services.recommendations.serving import ServingState, ServingStateCache

API = "/api/v1"
PASSWORD = "Correct-Horse-Battery-9"
_BATCH = 5000


def _aggregates(data: SyntheticData, user: int) -> dict[int, dict[str, int]]:
    """Per item: the user's event counts in the aggregate table's terms."""
    log = data.interactions
    mask = log.user == user
    out: dict[int, dict[str, int]] = {}
    for item, event, count in zip(
        log.item[mask].tolist(), log.event[mask].tolist(), log.count[mask].tolist(), strict=True
    ):
        cell = out.setdefault(item, {"plays": 0, "completes": 0, "skips": 0, "likes": 0})
        name = EVENTS[event]
        n = int(count)
        if name == "play":
            cell["plays"] += n
        elif name == "complete":
            cell["completes"] += n
        elif name == "skip":
            cell["skips"] += n
        elif name == "like":
            cell["likes"] += n
        else:  # unlike
            cell["likes"] -= n
    return out


async def _load_catalogue(app: Any, data: SyntheticData, track_ids: list[uuid.UUID]) -> None:
    artists = sorted(set(data.item_artist.tolist()))
    artist_ids = {a: uuid.UUID(int=(1 << 64) + a) for a in artists}
    async with app.state.infra.db.session() as session:
        for start in range(0, len(artists), _BATCH):
            chunk = artists[start : start + _BATCH]
            await session.execute(
                insert(Artist),
                [
                    {"id": artist_ids[a], "name": f"Artist {a}", "name_key": f"artist {a}"}
                    for a in chunk
                ],
            )
        for start in range(0, len(track_ids), _BATCH):
            rows = []
            for item in range(start, min(start + _BATCH, len(track_ids))):
                rows.append(
                    {
                        "id": track_ids[item],
                        "title": f"Track {item}",
                        "title_key": f"track {item}",
                        "artist_id": artist_ids[int(data.item_artist[item])],
                        "duration_s": float(data.item_duration_s[item]),
                    }
                )
            await session.execute(insert(Track), rows)
        await session.commit()


async def _sign_up(client: httpx.AsyncClient, name: str) -> tuple[uuid.UUID, dict[str, str]]:
    email = f"{name}@example.org"
    response = await client.post(
        f"{API}/auth/signup", json={"email": email, "username": name, "password": PASSWORD}
    )
    response.raise_for_status()
    user_id = uuid.UUID(response.json()["id"])
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return user_id, {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _run(
    data: SyntheticData,
    rows: sparse.csr_matrix,
    engine: RecommendationEngine,
    requests: int,
    seed: int,
    directory: Path,
) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    settings = Settings(
        environment="test",
        data_dir=directory / "data",
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        auto_migrate=False,
        embedded_worker=False,  # no analysis processes competing for the cores
        argon2_time_cost=1,
        argon2_memory_kib=8,
    )
    app = create_app(settings)
    n_items = rows.shape[1]
    track_ids = [uuid.UUID(int=item + 1) for item in range(n_items)]
    started = time.perf_counter()
    async with LifespanManager(app):
        await _load_catalogue(app, data, track_ids)
        loaded = time.perf_counter() - started
        rng = np.random.default_rng(seed + 1)
        warm_up = 5
        users = rng.choice(rows.shape[0], requests + warm_up, replace=False).tolist()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = []
            for position, user in enumerate(users):
                user_id, header = await _sign_up(client, f"listener{position}")
                headers.append(header)
                cells = [
                    {"user_id": user_id, "item_kind": "track", "item_id": track_ids[item], **c}
                    for item, c in _aggregates(data, int(user)).items()
                ]
                async with app.state.infra.db.session() as session:
                    if cells:
                        await session.execute(insert(ItemInteraction), cells)
                    await session.commit()
            states = ServingStateCache(None, ttl_s=1e9)
            states._state = ServingState(  # what a rebuild over this catalogue leaves
                engine=engine,
                track_ids=tuple(track_ids),
                index_of={track_id: i for i, track_id in enumerate(track_ids)},
                model_version=None,
                built_at=time.monotonic(),
                # Only similar tracks and radio read these; this leg asks for recommendations.
                cf_unit=None,
                co_listening=sparse.csr_matrix((len(track_ids), len(track_ids))),
                listeners=np.zeros(len(track_ids)),
                sound=np.zeros((len(track_ids), 1), dtype=np.float32),
                item_artist=np.asarray(data.item_artist),
                user_ids=(),  # nobody follows anyone in this catalogue
                user_index={},
                followed_listening=FollowedListening(sparse.csr_matrix((1, len(track_ids)))),
            )
            app.state.serving_states = states
            times: list[float] = []
            # CPU time of the whole process (the event loop, aiosqlite's thread): what the
            # request costs however busy the machine is, unlike the wall time.
            cpu: list[float] = []
            returned = 0
            for position, header in enumerate(headers):
                c0, t0 = time.process_time(), time.perf_counter()
                response = await client.get(
                    f"{API}/me/recommendations", params={"limit": 10}, headers=header
                )
                elapsed, used = time.perf_counter() - t0, time.process_time() - c0
                response.raise_for_status()
                if position >= warm_up:
                    times.append(elapsed)
                    cpu.append(used)
                    returned += len(response.json()["items"])
    values = np.array(times) * 1000.0
    cpu_ms = np.array(cpu) * 1000.0
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "cpu_p50_ms": float(np.percentile(cpu_ms, 50)),
        "cpu_p99_ms": float(np.percentile(cpu_ms, 99)),
        "requests": len(times),
        "mean_items": returned / max(len(times), 1),
        "catalogue_load_s": loaded,
    }


def http_leg(
    data: SyntheticData,
    rows: sparse.csr_matrix,
    engine: RecommendationEngine,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="audotics-bench-") as directory:
        return asyncio.run(_run(data, rows, engine, requests, seed, Path(directory)))
