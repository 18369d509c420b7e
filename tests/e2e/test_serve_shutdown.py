"""A SIGTERM to `audotics serve` alone (as an init system or container runtime sends it)
stops the server and its analysis processes: none may outlive it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.test_serve import _audotics
from tests.support.servers import free_port, wait_for_port


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_sigterm_stops_the_analysis_pool(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDOTICS_")}
    env.update(
        AUDOTICS_DATA_DIR=str(tmp_path / "data"),
        AUDOTICS_ARGON2_MEMORY_KIB="1024",
        AUDOTICS_WORKER_CONCURRENCY="2",
    )
    process = subprocess.Popen(
        [_audotics(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout_s=60, alive=lambda: process.poll() is None)
        deadline = time.monotonic() + 60
        pool: set[int] = set()
        # The embedded worker warms two analysis processes (and a resource tracker).
        while time.monotonic() < deadline and len(pool) < 2:
            pool = {
                child
                for child in _children(process.pid)
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
            }
            time.sleep(0.2)
        assert len(pool) >= 2, "the analysis pool never started"
        process.send_signal(signal.SIGTERM)  # the server only, not its process group
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in pool):
            time.sleep(0.1)
        assert not [pid for pid in pool if _alive(pid)], "analysis processes outlived the server"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
