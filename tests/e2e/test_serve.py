"""`audotics serve` on embedded defaults, driven over real HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port, wait_for_port


def _audotics() -> str:
    exe = Path(sys.executable).parent / "audotics"
    return str(exe) if exe.exists() else shutil.which("audotics") or "audotics"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("serve-data")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDOTICS_")}
    env.update(AUDOTICS_DATA_DIR=str(data_dir), AUDOTICS_ARGON2_MEMORY_KIB="1024")
    process = subprocess.Popen(
        [_audotics(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout_s=60, alive=lambda: process.poll() is None)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    assert (data_dir / "audotics.db").exists(), "embedded database lives in the data dir"


def test_probes_and_schema(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        schema = http.get("/openapi.json").json()
        assert "/api/v1/auth/signup" in schema["paths"]


def test_sign_up_to_search_over_http(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        password = "Walk-The-Line-2026"
        signup = http.post(
            "/api/v1/auth/signup",
            json={"email": "june@example.org", "username": "june", "password": password},
        )
        assert signup.status_code == 201, signup.text
        login = http.post("/api/v1/auth/login", json={"email": "june", "password": password})
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        track = http.post(
            "/api/v1/tracks",
            json={"title": "Ring of Marigolds", "artist": "The Carter Quartet"},
            headers=auth,
        )
        assert track.status_code == 201, track.text
        track_id = track.json()["id"]
        playlist = http.post("/api/v1/playlists", json={"name": "Road trip"}, headers=auth)
        assert playlist.status_code == 201
        added = http.post(
            f"/api/v1/playlists/{playlist.json()['id']}/items",
            json={"track_ids": [track_id]},
            headers=auth,
        )
        assert added.status_code in (200, 201), added.text
        found = http.get("/api/v1/search", params={"q": "marigold"}, headers=auth)
        assert found.status_code == 200, found.text
        assert track_id in [item["id"] for item in found.json()["items"]]
        typo = http.get("/api/v1/search", params={"q": "carter quartett"}, headers=auth)
        assert track_id in [item["id"] for item in typo.json()["items"]]
        anonymous = http.get("/api/v1/search", params={"q": "marigold"})
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
