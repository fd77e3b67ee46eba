"""Runs the demo: embedded PostgreSQL, demo accounts, six weeks of simulated patients computed by the
real worker, the API and dashboard, and a live emulated strap streaming into one patient.

The URL is printed as soon as the first patient's timeline is complete; the others are seeded in the
background while the pages show a banner with the progress (``GET /v1/background``). Seeding, the
progress display and the live stream are ``somatrace.demo.seed``, ``somatrace.demo.progress`` and
``somatrace.demo.live``; the command is ``somatrace.demo.command``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Coroutine, Generator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import uvicorn
from rich.console import Console
from rich.table import Table

from api.db import migrate
from api.db.runtime import database
from api.settings import Settings
from somatrace.demo.accounts import DEMO_DAYS, PATIENTS, all_logins
from somatrace.demo.errors import DemoError
from somatrace.demo.progress import SeedProgress

if TYPE_CHECKING:
    from api.worker.runner import InProcessWorker
    from somatrace.demo import seed as demo_seed
    from somatrace.demo.live import LiveStream
    from somatrace.demo.story import SimulatedPatient

logger = logging.getLogger(__name__)

#: What the demo needs beyond this module: the server, the worker and analysis, the seeding and the
#: collector (seconds of imports on 2 cores, loaded in a thread while the database starts).
HEAVY_MODULES: Final[tuple[str, ...]] = (
    "api.app",
    "api.routes.background",
    "api.worker.runner",
    "somatrace.demo.seed",
    "somatrace.demo.live",
)
#: Processes running the analysis (2 cores assumed): the first patient's alone, then two at once.
ANALYSIS_PROCESSES: Final[int] = 2

#: Longest wait for the server to start accepting connections, in seconds.
SERVER_START_TIMEOUT_S: Final[float] = 30.0


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
    #: Seconds from the start of the demo until the first patient's timeline was complete.
    first_patient_seconds: float = 0.0


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
        raise DemoError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port"
        ) from exc
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


def _load_heavy_modules() -> None:
    for name in HEAVY_MODULES:
        importlib.import_module(name)


def _warm_analysis() -> int:
    """Runs in a pool process: imports the seeding, worker and analysis libraries before the first
    analysis needs them (this module itself is light); returns the process id."""
    importlib.import_module("somatrace.demo.seed")
    return os.getpid()


def _print_logins(console: Console) -> None:
    table = Table(title="Demo logins (valid in this demo database only)", show_lines=False)
    table.add_column("role")
    table.add_column("email")
    table.add_column("password")
    for login in all_logins():
        table.add_row(login.role, login.email, login.password)
    console.print(table)


@dataclass(frozen=True)
class _Prepared:
    """What the start-up produced alongside the database."""

    conninfo: str
    now: datetime
    first_sim: SimulatedPatient
    staff_hashes: dict[str, str]


async def run_demo(
    console: Console,
    progress: SeedProgress,
    *,
    host: str,
    port: int,
    duration_s: float | None,
    keep_dir: Path | None,
    days: int = DEMO_DAYS,
) -> DemoSummary:
    """The whole demo; returns when ``duration_s`` is over or on Ctrl-C/SIGTERM.

    ``progress`` is started by the caller (it reports the loading of this module already).
    """
    # The port first: a busy one is one line before anything slow (PostgreSQL, imports) starts.
    sock = _bind(host, port)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # An analysis process imports its libraries (seconds on 2 cores) while the database starts.
    pool = ProcessPoolExecutor(
        max_workers=ANALYSIS_PROCESSES, mp_context=multiprocessing.get_context("spawn")
    )
    try:
        loop.run_in_executor(pool, _warm_analysis)  # the first patient's; the other starts later
        with _data_dir(keep_dir) as data_dir, contextlib.ExitStack() as stack:
            settings = Settings(
                database_url=None, data_dir=data_dir, worker_in_process=False, log_level="WARNING"
            )
            console.print(f"Starting the embedded PostgreSQL in {data_dir} …", highlight=False)
            prepared = await _start(stack, settings, progress, days)
            return await _serve_and_seed(
                console,
                settings,
                prepared,
                sock,
                host,
                duration_s,
                stop,
                data_dir,
                days,
                progress,
                pool,
            )
    finally:
        sock.close()
        progress.stop()
        # On Ctrl-C the worker processes (same process group) stop with us; nothing waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start(
    stack: contextlib.ExitStack, settings: Settings, progress: SeedProgress, days: int
) -> _Prepared:
    """Database up and migrated while the libraries load; then the first patient simulated and the
    staff's passwords hashed (threads: PostgreSQL starts in its own processes, imports wait on
    files, argon2 and numpy release the GIL)."""
    progress.begin("start", "Starting the database, loading the server and analysis libraries")

    def start_database() -> str:
        conninfo = stack.enter_context(database(settings))
        migrate.upgrade(conninfo)
        return conninfo

    conninfo, _ = await asyncio.gather(
        asyncio.to_thread(start_database), asyncio.to_thread(_load_heavy_modules)
    )
    from somatrace.demo import seed as demo_seed

    now = datetime.now(UTC)
    first_sim, hashes = await asyncio.gather(
        asyncio.to_thread(demo_seed.simulate, PATIENTS[0], now, days),
        asyncio.to_thread(demo_seed.hash_staff_passwords),
    )
    progress.end("start")
    return _Prepared(conninfo=conninfo, now=now, first_sim=first_sim, staff_hashes=hashes)


async def _serve_and_seed(
    console: Console,
    settings: Settings,
    prepared: _Prepared,
    sock: socket.socket,
    host: str,
    duration_s: float | None,
    stop: asyncio.Event,
    data_dir: Path,
    days: int,
    progress: SeedProgress,
    pool: ProcessPoolExecutor,
) -> DemoSummary:
    from api.app import create_app
    from api.routes.background import register_background
    from api.worker.runner import InProcessWorker
    from somatrace.demo import seed as demo_seed
    from somatrace.demo.live import LiveStream

    conninfo = prepared.conninfo
    bound_port = int(sock.getsockname()[1])
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound_port}"
    app = create_app(settings, conninfo)
    register_background(app, progress.banner)
    server = _QuietServer(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_notify=5)
    )
    server_task = asyncio.create_task(server.serve(sockets=[sock]), name="demo-server")
    live: LiveStream | None = None
    worker: InProcessWorker | None = None
    first_patient_s = 0.0
    try:
        started = time.monotonic()
        while not server.started:
            if server_task.done() or time.monotonic() - started > SERVER_START_TIMEOUT_S:
                raise DemoError("the demo server did not start; see the log above")
            await asyncio.sleep(0.05)
        seed_started = time.perf_counter()

        async def first_ready(result: demo_seed.SeedResult) -> None:
            nonlocal first_patient_s
            first_patient_s = time.monotonic() - progress.started_s
            first = result.patients[0]
            progress.say(
                f"First patient ready after {first_patient_s:.1f} s: "
                f"{first.spec.display_name}'s timeline is complete "
                f"({first.beats_stored:,} beats analysed by the worker)."
            )
            _print_logins(console)
            progress.say(
                f"Somatrace demo ready at {url} - the other patients keep loading in the "
                "background; the pages show how far (Ctrl-C stops it)"
            )

        seeder = demo_seed.Seeder(
            url,
            conninfo,
            progress,
            pool,
            now=prepared.now,
            days=days,
            first_sim=prepared.first_sim,
            staff_hashes=prepared.staff_hashes,
            processes=ANALYSIS_PROCESSES,
            warmed=1,
        )
        seeded = await _until_stopped(seeder.run(first_ready), stop)
        seed_s = time.perf_counter() - seed_started
        progress.stop()
        if seeded is None:
            raise StoppedEarly("stopped while seeding; the temporary demo database is removed")
        console.print(
            f"Seeded {len(seeded.patients)} patients, {seeded.beats_stored:,} beats in "
            f"{seeded.batches} batches, in {seed_s:.1f} s; all patients ready after "
            f"{time.monotonic() - progress.started_s:.1f} s.",
            highlight=False,
            soft_wrap=True,
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
        console.print(
            f"[bold]Somatrace demo running at[/] {url}  (Ctrl-C stops it)", highlight=False
        )
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
            first_patient_seconds=first_patient_s,
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
