"""`audotics worker` creates the Redis consumer group and stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from audotics.infra.queue.redis_streams import RedisStreamsJobQueue

_defaults = inspect.signature(RedisStreamsJobQueue).parameters
JOBS_STREAM = _defaults["stream"].default
JOBS_GROUP = _defaults["group"].default


def test_worker_process_creates_group_and_exits_on_sigterm(redis_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDOTICS_")}
    env.update(AUDOTICS_DATA_DIR=str(tmp_path), AUDOTICS_REDIS_URL=redis_url)
    exe = Path(sys.executable).parent / "audotics"
    process = subprocess.Popen(
        [str(exe), "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 30
        groups: list[dict[str, object]] = []
        while time.monotonic() < deadline and not groups:
            with contextlib.suppress(redis.ResponseError):  # stream not created yet
                groups = client.xinfo_groups(JOBS_STREAM)
            time.sleep(0.2)
        assert [g["name"] for g in groups] == [JOBS_GROUP.encode()], "worker made no group"
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"consuming" in output
