"""A throwaway PostgreSQL cluster on 127.0.0.1 with trust auth, one per test session."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import apt_install, free_port, wait_for_port


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def find_or_install_pg_bin() -> Path | None:
    found = _pg_bin()
    if found is None and apt_install("postgresql"):
        found = _pg_bin()
    return found


@dataclass
class PostgresServer:
    port: int
    root: Path
    bin_dir: Path
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            return ["su", self.run_as, "-s", "/bin/sh", "-c", " ".join(map(_quote, command))]
        return command

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresServer:
        # initdb refuses to run as root: use the postgres system user then.
        run_as = None
        if os.geteuid() == 0:
            run_as = "postgres"
            pwd.getpwnam(run_as)  # KeyError when the package did not create the user
        root = Path(tempfile.mkdtemp(prefix="audotics-pg-"))
        if run_as:
            shutil.chown(root, user=run_as, group=run_as)
        server = cls(port=free_port(), root=root, bin_dir=bin_dir, run_as=run_as)
        data = root / "data"
        subprocess.run(
            server._cmd(
                "initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            server._cmd(
                "pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"
            ),
            check=True,
            capture_output=True,
        )
        wait_for_port(server.port)
        return server

    def stop(self) -> None:
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)
