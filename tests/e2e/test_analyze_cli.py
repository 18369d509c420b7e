"""`audotics analyze`: files without a server (the DESIGN.md contract) and `--all` re-analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from audotics.app import create_app
from audotics.config import Settings
from audotics.infra.factory import build_infra
from audotics.ml.audio.synth import ClipSpec
from audotics.ml.audio.types import ANALYSIS_VERSION, EMBEDDING_DIM
from audotics.services.catalog import service as catalog
from audotics.services.users.schemas import Role
from tests.integration.analysis.conftest import clip, new_track, put_audio
from tests.support.factories import sign_up

EXE = str(Path(sys.executable).parent / "audotics")
PITCH_CLASSES = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "analyze", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_analyses_files_as_json_lines_and_reports_failures(tmp_path: Path) -> None:
    flac = tmp_path / "first.flac"
    flac.write_bytes(clip(ClipSpec(120, "A", "minor", seconds=6)))
    mp3 = tmp_path / "second.mp3"
    mp3.write_bytes(clip(ClipSpec(90, "F#", "major", seconds=5), "MP3"))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnothing here")
    missing = tmp_path / "missing.ogg"

    result = _run(str(flac), str(broken), str(mp3), str(missing), "--json")
    assert result.returncode == 1, result.stderr
    first, bad, second, gone = _lines(result.stdout)
    for record, path, seconds in ((first, flac, 6.0), (second, mp3, 5.0)):
        assert record["file"] == str(path)
        assert isinstance(record["tempo_bpm"], float)
        assert record["key"] in PITCH_CLASSES and record["mode"] in ("major", "minor")
        assert isinstance(record["loudness_lufs"], float) and record["loudness_lufs"] < 0
        assert record["duration_s"] == pytest.approx(seconds, abs=0.1)
        assert len(record["embedding"]) == EMBEDDING_DIM
        assert all(isinstance(v, float) for v in record["embedding"])
        assert record["analysis_version"] == ANALYSIS_VERSION
    assert bad["file"] == str(broken) and bad["error"] and bad["code"]
    assert gone["file"] == str(missing) and gone["code"] == "missing"

    ok = _run(str(flac))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"{flac}: ") and "BPM" in ok.stdout and "LUFS" in ok.stdout
    assert _run().returncode == 2
    assert _run(str(flac), "--all").returncode == 2


async def _catalog_with_pending_tracks(settings: Settings, count: int) -> list[uuid.UUID]:
    quiet = settings.model_copy(update={"embedded_worker": False})
    application = create_app(quiet)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            curator = await sign_up(client, "curator", app=application, role=Role.curator)
            ids = []
            for index in range(count):
                track_id = await new_track(client, curator, f"Stored {index}")
                spec = ClipSpec(80 + 20 * index, ("C", "E", "G")[index % 3], "major", seconds=4)
                await put_audio(client, curator, track_id, clip(spec))
                ids.append(track_id)
    return ids


async def _states(settings: Settings, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    infra = build_infra(settings)
    try:
        async with infra.db.session() as session:
            found = {}
            for track_id in ids:
                target = await catalog.analysis_state(session, track_id)
                assert target is not None
                found[track_id] = (target.status, target.attempts)
            return found
    finally:
        await infra.close()


async def test_all_reanalyses_stored_tracks_of_another_version(
    settings: Settings, tmp_path: Path
) -> None:
    ids = await _catalog_with_pending_tracks(settings, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDOTICS_")}
    env.update(
        AUDOTICS_DATA_DIR=str(settings.data_dir),
        AUDOTICS_DATABASE_URL=settings.resolved_database_url,
    )

    first = _run("--all", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert {(line["track_id"], line["status"]) for line in _lines(first.stdout)} == {
        (str(track_id), "done") for track_id in ids
    }
    assert "analysed 3 track(s), 0 failed" in first.stderr
    assert set((await _states(settings, ids)).values()) == {("done", 1)}

    again = _run("--all", env=env)
    assert again.returncode == 0 and "analysed 0 track(s)" in again.stderr

    # An analysis version bump for one track: only that one is analysed again.
    infra = build_infra(settings)
    try:
        async with infra.db.session() as session:
            await session.execute(
                text(
                    "UPDATE track_audio_features SET analysis_version = 'old' WHERE track_id = :t"
                ),
                {"t": ids[1] if infra.db.is_postgresql else ids[1].hex},
            )
    finally:
        await infra.close()
    bumped = _run("--all", "--json", env=env)
    assert bumped.returncode == 0, bumped.stderr
    assert [line["track_id"] for line in _lines(bumped.stdout)] == [str(ids[1])]
    states = await _states(settings, ids)
    assert states[ids[1]] == ("done", 2) and states[ids[0]] == ("done", 1)

    forced = _run("--all", "--force", "--json", env=env)
    assert forced.returncode == 0, forced.stderr
    assert len(_lines(forced.stdout)) == 3
    assert [attempts for _, attempts in (await _states(settings, ids)).values()] == [2, 3, 2]
