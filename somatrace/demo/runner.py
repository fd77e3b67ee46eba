"""Runs the demo: embedded PostgreSQL, demo accounts, six weeks of simulated patients computed by the
real worker, the API and dashboard, and a live emulated strap streaming into one patient.

Seeding and the live stream are ``somatrace.demo.seed`` and ``somatrace.demo.live``; the command is ``somatrace.demo.command``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Coroutine, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.app import create_app
from api.db import migrate
from api.db.runtime import database
from api.settings import Settings
from api.worker.runner import InProcessWorker
from somatrace.demo import seed as demo_seed
from somatrace.demo.accounts import DEMO_DAYS, all_logins
from somatrace.demo.errors import DemoError
from somatrace.demo.live import LiveStream

logger = logging.getLogger(__name__)

#: Longest wait for the server to start accepting connections, in seconds.
SERVER_START_TIMEOUT_S: Final[float] = 30.0

_STAGES: Final[dict[str, str]] = {
    "simulate": "Simulating the patients",
    "accounts": "Creating accounts, sessions, journal (HTTP)",
    "beats": "Storing beats (ingest path)",
    "analysis": "Computing markers (worker)",
}


@dataclass(frozen=True)
class DemoSummary:
    """What a demo run produced (printed at the end; ``--headless`` tests read it)."""

    patients: int
    beats_stored: int
    windows_computed: int
    daily_values: int
    live_beats_received: int
    seed_seconds: float
    url: str


class StoppedEarly(Exception):
    """Ctrl-C (or SIGTERM) before the demo was ready: not an error, but no summary either."""


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the demo owns Ctrl-C and stops things in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0 = any free port); a port in use is a clear error."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DemoError(f"cannot listen on {host}:{port}: {exc.strerror}; use --port") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def _data_dir(keep: Path | None) -> Iterator[Path]:
    """The demo's data dir: ``keep`` if given (left in place), else a temporary one (removed)."""
    if keep is not None:
        if keep.exists() and any(keep.iterdir()):
            raise DemoError(f"--data-dir {keep} is not empty; the demo seeds a new database")
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    path = Path(tempfile.mkdtemp(prefix="somatrace-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _ProgressView:
    """A rich progress bar per seeding stage."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            task_id = self.progress.add_task(_STAGES.get(stage, stage), total=total or None)
            self.tasks[stage] = int(task_id)
        task = self.tasks[stage]
        self.progress.update(task, completed=done, total=total or None)  # type: ignore[arg-type]


def _print_welcome(console: Console, url: str) -> None:
    table = Table(title="Demo logins (valid in this demo database only)", show_lines=False)
    table.add_column("role")
    table.add_column("email")
    table.add_column("password")
    for login in all_logins():
        table.add_row(login.role, login.email, login.password)
    console.print(table)
    console.print(f"[bold]Somatrace demo running at[/] {url}  (Ctrl-C stops it)", highlight=False)


async def run_demo(
    console: Console,
    *,
    host: str,
    port: int,
    duration_s: float | None,
    keep_dir: Path | None,
    days: int = DEMO_DAYS,
) -> DemoSummary:
    """The whole demo; returns when ``duration_s`` is over or on Ctrl-C/SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        with _data_dir(keep_dir) as data_dir:
            settings = Settings(
                database_url=None, data_dir=data_dir, worker_in_process=False, log_level="WARNING"
            )
            console.print(f"Starting the embedded PostgreSQL in {data_dir} …", highlight=False)
            with database(settings) as conninfo:
                await asyncio.to_thread(migrate.upgrade, conninfo)
                return await _serve_and_seed(
                    console, settings, conninfo, host, port, duration_s, stop, data_dir, days
                )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve_and_seed(
    console: Console,
    settings: Settings,
    conninfo: str,
    host: str,
    port: int,
    duration_s: float | None,
    stop: asyncio.Event,
    data_dir: Path,
    days: int,
) -> DemoSummary:
    sock = _bind(host, port)
    bound_port = int(sock.getsockname()[1])
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound_port}"
    app = create_app(settings, conninfo)
    server = _QuietServer(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_notify=5)
    )
    server_task = asyncio.create_task(server.serve(sockets=[sock]), name="demo-server")
    live: LiveStream | None = None
    worker: InProcessWorker | None = None
    try:
        started = time.monotonic()
        while not server.started:
            if server_task.done() or time.monotonic() - started > SERVER_START_TIMEOUT_S:
                raise DemoError("the demo server did not start; see the log above")
            await asyncio.sleep(0.05)
        view = _ProgressView(console)
        seed_started = time.perf_counter()
        with view.progress:
            seeded = await _until_stopped(demo_seed.seed(url, conninfo, view, days=days), stop)
        seed_s = time.perf_counter() - seed_started
        if seeded is None:
            raise StoppedEarly("stopped while seeding; the temporary demo database is removed")
        console.print(
            f"Seeded {len(seeded.patients)} patients, {seeded.beats_stored:,} beats in "
            f"{seeded.batches} batches, in {seed_s:.1f} s.",
            highlight=False,
        )
        live_patient = next(p for p in seeded.patients if p.spec.live)
        assert live_patient.live_device_token is not None
        assert live_patient.live_device_id is not None
        live_device_id = live_patient.live_device_id
        # Seeding ran its own worker passes; from now on a worker follows the live uploads.
        worker = InProcessWorker(conninfo)
        worker.start()
        live = LiveStream(url, live_patient.live_device_token, data_dir / "live-spool.sqlite3")
        await live.start()
        console.print(
            f"Live strap streaming into {live_patient.spec.display_name} "
            "(collector → spool → upload).",
            highlight=False,
        )
        _print_welcome(console, url)
        if duration_s is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration_s)
        else:
            await stop.wait()
        console.print("Stopping …")
        await live.stop()
        live = None
        with contextlib.suppress(DemoError):
            await demo_seed.run_worker_until_idle(conninfo)
        counts = await asyncio.to_thread(demo_seed.counts, conninfo)
        live_beats = await asyncio.to_thread(demo_seed.device_beats, conninfo, live_device_id)
        return DemoSummary(
            patients=counts["patients"],
            beats_stored=counts["beats"],
            windows_computed=counts["windows"],
            daily_values=counts["daily_values"],
            live_beats_received=live_beats,
            seed_seconds=seed_s,
            url=url,
        )
    finally:
        if live is not None:
            await live.stop()
        if worker is not None:
            await worker.stop()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server_task, 15)
        sock.close()


async def _until_stopped(
    work: Coroutine[Any, Any, demo_seed.SeedResult], stop: asyncio.Event
) -> demo_seed.SeedResult | None:
    """Run the seeding coroutine unless Ctrl-C comes first (then cancel it and return None)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopper.cancel()
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
