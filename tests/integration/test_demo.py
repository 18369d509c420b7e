"""`audotics demo` loads users, a catalog with real audio and a playlist, idempotently."""

from __future__ import annotations

import asyncio
import io

import httpx
import soundfile as sf
from asgi_lifespan import LifespanManager

from audotics.app import create_app
from audotics.config import Settings
from audotics.demo import DEMO_USERS, demo_catalog, load_demo
from audotics.ml.datasets.demo_listening import DEMO_GENRE_INDEX


def test_demo_catalog_is_deterministic_and_varied() -> None:
    first, second = demo_catalog(), demo_catalog()
    assert first == second
    assert len(first) == 300
    assert len({t.clip.key for t in first}) == 12
    assert {t.clip.mode for t in first} == {"major", "minor"}
    tempos = [t.clip.tempo_bpm for t in first]
    assert min(tempos) >= 60 and max(tempos) <= 180 and max(tempos) - min(tempos) > 60
    assert len({(t.artist, t.title) for t in first}) == len(first)


async def _demo_sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    listener = DEMO_USERS[0]
    login = await client.post(
        "/api/v1/auth/login", json={"email": listener.email, "password": listener.password}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_demo_loads_once_and_is_usable(settings: Settings) -> None:
    lines = await load_demo(settings, tracks=6, community=0)
    assert "6 new, 6 rendered" in lines[0]
    again = await load_demo(settings, tracks=6, community=0)
    assert "0 new, 0 rendered" in again[0]
    assert any(DEMO_USERS[0].password in line for line in lines)

    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = await _demo_sign_in(client)
            tracks = await client.get("/api/v1/tracks", headers=headers)
            assert tracks.json()["total"] == 6
            track = tracks.json()["items"][0]
            audio = await client.get(f"/api/v1/tracks/{track['id']}/stream", headers=headers)
            assert audio.status_code == 200
            assert audio.content[:4] == b"fLaC"
            info = sf.info(io.BytesIO(audio.content))
            assert 7.5 < info.duration < 14.5
            mine = await client.get("/api/v1/playlists", headers=headers)
            assert [p["name"] for p in mine.json()["items"]] == ["Demo favourites"]


async def test_demo_recommendations_are_personal_on_first_run(settings: Settings) -> None:
    """Demo listening and a trained model: the demo account's recommendations come from
    the model, lean to the genre it loves, and its taste profile says so."""
    lines = await load_demo(settings, tracks=40, community=12)
    model_line = next(line for line in lines if line.startswith("recommendation model: "))
    version = model_line.split(": ", 1)[1]
    assert any("13 listeners" in line for line in lines)
    again = await load_demo(settings, tracks=40, community=12)
    assert any("(0 new)" in line for line in again), again
    assert any(line.startswith("demo follows: ") and "(0 new)" in line for line in again)
    assert model_line in again, "no new listens, no retraining"
    loved = sorted({t.genres[-1] for t in demo_catalog()[:40]})[DEMO_GENRE_INDEX]

    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = await _demo_sign_in(client)
            for _ in range(100):  # the model loads in the background at start-up
                recs = (
                    await client.get("/api/v1/me/recommendations?limit=5", headers=headers)
                ).json()
                if recs["model_version"] == version:
                    break
                await asyncio.sleep(0.1)
            assert recs["model_version"] == version
            genres = [item["track"]["genres"] for item in recs["items"]]
            # 40 tracks: each genre is one artist, and at most two per artist are shown.
            assert all(loved in names for names in genres[:2]), genres
            following = (await client.get("/api/v1/me/following", headers=headers)).json()
            assert following["total"] == 3, following  # demo listeners of the same taste
            profile = (await client.get("/api/v1/me/taste-profile", headers=headers)).json()
            assert profile["counts"]["plays"] > 10
            top = [g["genre"]["name"] for g in profile["top_genres"][:2]]  # genre and parent
            assert loved in top, profile["top_genres"]
            cf = profile["collaborative"]
            assert cf["model_version"] == version and len(cf["factors"]) == 32
            assert cf["tracks_in_model"] > 0 and any(abs(x) > 1e-4 for x in cf["factors"])
            # A listen moves the folded-in factors at once: no retraining.
            other = next(i for i in recs["items"] if loved not in i["track"]["genres"])
            listens = [
                {"track_id": other["track"]["id"], "event": "complete", "occurred_at": when}
                for when in ("2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z")
            ]
            posted = await client.post(
                "/api/v1/listens", json={"listens": listens}, headers=headers
            )
            assert posted.status_code in (200, 201), posted.text
            moved = (await client.get("/api/v1/me/taste-profile", headers=headers)).json()
            assert moved["collaborative"]["factors"] != cf["factors"]
