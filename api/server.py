"""Runs the ASGI app under uvicorn for ``somatrace serve``: in this process, or as N worker processes
that share nothing in memory (each has its own pool; throttling, the analysis queue and everything
else that must be shared lives in PostgreSQL).

uvicorn's own proxy-header handling is off: it trusts ``X-Forwarded-For`` from loopback, which would let
any local client choose its address. ``api.proxies`` believes only ``SOMATRACE_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
from typing import Any, Final

from fastapi import FastAPI

from api.errors import ConfigError
from api.metrics import MULTIPROC_ENV
from api.settings import Settings

logger = logging.getLogger(__name__)

#: Import path of the app factory every worker process calls (``api.asgi``).
APP_FACTORY: Final[str] = "api.asgi:app_from_environment"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn settings shared by one process and N: no proxy headers, no server banner, our logging."""
    return {
        "proxy_headers": False,
        "server_header": False,
        "access_log": False,
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": 10,
        # collectors upload every 5-30 s: keep their connections open between uploads
        "timeout_keep_alive": 35,
    }


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (bound as uvicorn binds: ``SO_REUSEADDR``); a port in use
    or an address this machine does not have is a ``ConfigError`` naming the setting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            "SOMATRACE_PORT",
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another port with "
            "--port or SOMATRACE_PORT (or another address with --host or SOMATRACE_HOST)",
        ) from exc
    return sock


def run_in_process(app: FastAPI, settings: Settings, sock: socket.socket) -> None:
    """Serve ``app`` in this process on the listening socket ``sock`` (from ``bind_listener``) until
    stopped."""
    import uvicorn

    host, port = sock.getsockname()[:2]  # for uvicorn's "running on" line
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **uvicorn_options(settings)))
    # Ctrl-C: uvicorn re-raises the signal it handled once it has shut down; uvicorn.run ignores it too
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


class WorkerThread:
    """The analysis worker on a thread of its own (the supervising ``serve`` process of N workers)."""

    def __init__(self, settings: Settings, conninfo: str) -> None:
        self.settings = settings
        self.conninfo = conninfo
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="analysis worker", daemon=True)

    def _run(self) -> None:
        from api.worker.runner import run_worker_supervised

        async def main() -> None:
            self._task = asyncio.current_task()
            await run_worker_supervised(
                self.conninfo,
                name="somatrace-serve",
                heartbeat_s=self.settings.worker_heartbeat_s,
                stalled_after_s=self.settings.worker_stalled_after_s,
            )

        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=30)


def run_workers(settings: Settings, conninfo: str, host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes on one socket; each builds its own app from the environment.

    The children find the database through ``SOMATRACE_DATABASE_URL`` (set here, so an embedded
    database started by this process is theirs too) and never run the analysis worker themselves:
    when it should run in-process, it runs once, on a thread of this supervising process.
    """
    import uvicorn

    os.environ["SOMATRACE_DATABASE_URL"] = conninfo
    os.environ["SOMATRACE_WORKER_IN_PROCESS"] = "false"
    # counters of all processes in one /metrics answer (prometheus-client multiprocess mode)
    metrics_dir = tempfile.mkdtemp(prefix="somatrace-metrics-")
    os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
    in_process = settings.worker_in_process
    if in_process is None:
        in_process = settings.embedded
    worker = WorkerThread(settings, conninfo) if in_process else None
    if worker is not None:
        worker.start()
        logger.info("analysis worker running in the supervising process")
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **uvicorn_options(settings),
        )
    finally:
        if worker is not None:
            worker.stop()
        shutil.rmtree(metrics_dir, ignore_errors=True)
