"""A throwaway Redis server on 127.0.0.1, one per test session, nothing written to disk."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import apt_install, free_port, wait_for_port

# Enough logical databases that each test can have its own without reusing one mid-session.
DATABASES = 256


def find_or_install_redis_server() -> str | None:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None and apt_install("redis-server"):
        found = shutil.which("redis-server")
    return found


@dataclass
class RedisServer:
    port: int
    root: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @classmethod
    def start(cls, binary: str = "redis-server", attempts: int = 3) -> RedisServer:
        # A free port can be taken by a concurrent test run before we bind it: try again.
        for attempt in range(1, attempts + 1):
            try:
                return cls._start_once(binary)
            except (RuntimeError, TimeoutError):
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(cls, binary: str) -> RedisServer:
        root = Path(tempfile.mkdtemp(prefix="audotics-redis-"))
        port = free_port()
        # Foreground (not daemonized) so the fixture owns the process and can always kill it.
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
                "--databases",
                str(DATABASES),
                "--logfile",
                str(root / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(port=port, root=root, process=process)
        try:
            wait_for_port(port, timeout_s=15.0, alive=lambda: process.poll() is None)
            server._check_owner()
        except BaseException:
            server.stop()
            raise
        return server

    def _check_owner(self) -> None:
        """Make sure the listener on our port is our process, not someone else's server."""
        deadline = time.monotonic() + 5.0
        with socket.create_connection(("127.0.0.1", self.port), timeout=5.0) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                if time.monotonic() > deadline:
                    break
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        if f"process_id:{self.process.pid}\r\n".encode() not in reply:
            raise RuntimeError(f"127.0.0.1:{self.port} is not served by our redis-server")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
