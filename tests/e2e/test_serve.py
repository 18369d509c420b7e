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
