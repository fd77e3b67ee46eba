"""Runs the ASGI app under uvicorn for ``somatrace serve``: in this process, or as N worker processes
that share nothing in memory (each has its own pool; throttling, the analysis queue and everything
else that must be shared lives in PostgreSQL).

uvicorn's own proxy-header handling is off: it trusts ``X-Forwarded-For`` from loopback, which would let
any local client choose its address. ``api.proxies`` believes only ``SOMATRACE_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Final

from fastapi import FastAPI

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
    }


def run_in_process(app: FastAPI, settings: Settings, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` in this process until stopped."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, **uvicorn_options(settings))


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
