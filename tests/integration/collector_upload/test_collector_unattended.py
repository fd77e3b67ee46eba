"""The unattended collector at a bedside, end to end: the emulated strap vanishes and returns many
times, the server side refuses one batch with a 4xx in the middle, the spool's own small disk (a
tmpfs mount) fills up and frees again — and in the end every beat the strap sent is on the real API
(PostgreSQL) exactly once, the refused batch was quarantined and visible, and ``somatrace status``
reported each of those states."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collector.ble import Backoff, LinkState
from collector.cli import PairingConfig, save_config
from collector.emulation.radio import VirtualRadio
from collector.emulation.session import Notification, load_rr_csv, stream_lockstep, wait_until
from collector.emulation.strap import EmulatedStrap, VirtualClock
from collector.spool import Spool
from collector.status import read_spool, read_status, status_lines
from collector.unattended import UnattendedRecorder
from collector.uploader import Uploader
from collector.writer import SpoolWriter

from .conftest import Api, free_port, stored

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"
CYCLES = 12
NOTES_PER_CYCLE = 60
REFUSED_REQUEST = 3  # the proxy refuses the third batch it sees


class Proxy:
    """The clinic's reverse proxy in front of the API: forwards ingest requests, but refuses one
    batch with 400 (as a web application firewall does), in the API's error envelope."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests = 0
        self.refused: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

        async def ingest(request: Request) -> Response:
            body = await request.body()
            self.requests += 1
            if self.requests == REFUSED_REQUEST:
                self.refused.append(json.loads(body)["batch_id"])
                return JSONResponse(
                    {
                        "error": {
                            "code": "blocked",
                            "message": "request blocked by the clinic's firewall",
                            "fields": {},
                        }
                    },
                    status_code=400,
                )
            async with httpx.AsyncClient() as client:
                upstream = await client.post(
                    self.upstream + "/v1/ingest/beats",
                    content=body,
                    headers={
                        "Authorization": request.headers["authorization"],
                        "Content-Type": "application/json",
                    },
                )
            return Response(upstream.content, upstream.status_code, media_type="application/json")

        app = Starlette(routes=[Route("/v1/ingest/beats", ingest, methods=["POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("proxy did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of the test's own (root needed, as in CI), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.fail(
            "this test mounts a small tmpfs for the spool and must run as root (as CI does)"
        )
    mount = tmp_path / "spooldisk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)], check=True
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(filler: Path) -> None:
    """Take every free byte of the file system holding ``filler`` (created beforehand: on a full
    disk even an empty file may not be creatable)."""
    with filler.open("ab", buffering=0) as f:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    async with VirtualRadio() as r:
        yield r


async def somatrace(*args: str) -> tuple[int, str]:
    """The real command line in a child process (so the recorder's event loop keeps running)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "somatrace.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_unattended_bedside_night(
    api: Api, radio: VirtualRadio, small_disk: Path, tmp_path: Path
) -> None:
    session: list[Notification] = load_rr_csv(DATA / "polar_h10_rr.csv")
    clock = VirtualClock(time.time() - 3 * 3600)  # last night, well before the server's "now"
    strap = await radio.add_strap(EmulatedStrap(clock=clock, name="Polar H10 BEDSIDE1"))
    spool_path = small_disk / "spool.sqlite3"
    status_path = tmp_path / "run" / "collector-status.json"
    config = tmp_path / "collector.json"
    seen: dict[str, bool] = {}
    with Proxy(api.url) as proxy:
        save_config(config, PairingConfig(proxy.url, api.token, strap.address))
        spool = Spool(spool_path)
        uploader = Uploader(
            spool,
            proxy.url,
            api.token,
            max_batch_beats=40,
            poll_interval_s=0.1,
            min_interval_s=0.05,
            backoff_initial_s=0.05,
            backoff_max_s=0.3,
            retry_rejected_token=True,
        )
        writer = SpoolWriter(spool, low_space_bytes=512 * 1024, repeat_s=0.5, retry_s=0.05)
        runner = UnattendedRecorder(
            spool,
            strap.address,
            uploader=uploader,
            writer=writer,
            status_path=status_path,
            status_interval_s=0.05,
            backend=radio.backend,
            clock=clock,
            scan_timeout_s=0.3,
            backoff=Backoff(0.01, 0.2),
            space_check_s=0.05,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))

        async def status_says(*needles: str) -> str:
            code, out = await somatrace(
                "status", "--status-file", str(status_path), "--spool", str(spool_path)
            )
            assert code == 0, out
            for needle in needles:
                assert needle in out, out
            return out

        sent: list[int] = []
        filler = small_disk / "filler.bin"
        filler.touch()
        for cycle in range(CYCLES):
            await strap.wait_subscribed()
            client = runner.client
            assert client is not None
            await wait_until(lambda c=client: c.state is LinkState.CONNECTED, 10)
            notes = session[cycle * NOTES_PER_CYCLE : (cycle + 1) * NOTES_PER_CYCLE]
            half = len(notes) // 2
            await stream_lockstep(strap, client, notes[:half])
            if cycle == 1:
                await wait_until(lambda: bool(proxy.refused) and bool(spool.quarantined()), 30)
                await wait_until(lambda: read_status(status_path) is not None, 10)
                await status_says("running", "connected", "quarantined", "HTTP 400", "firewall")
                seen["quarantine"] = True
            if cycle == 4:
                fill(filler)  # the spool's disk fills up in the middle of the night
            await stream_lockstep(strap, client, notes[half:])
            sent += [t for n in notes for t in n.rr_ticks]
            if cycle == 4:
                # SQLite reuses its write-ahead log, so the first beats may still fit: record on
                # until a write needs a new page of a disk that has none.
                more = list(itertools.islice(itertools.cycle(session), 4000))
                for start in range(0, len(more), 20):
                    chunk = more[start : start + 20]
                    if writer.full:
                        break
                    await stream_lockstep(strap, client, chunk)
                    sent += [t for n in chunk for t in n.rr_ticks]
                assert writer.full
                await stream_lockstep(strap, client, session[720:760])  # recorded into memory
                sent += [t for n in session[720:760] for t in n.rr_ticks]
                assert writer.buffered_beats > 0
                await wait_until(
                    lambda: (s := read_status(status_path)) is not None and s.disk_full
                )
                await status_says("FULL", "held in memory")
                seen["disk_full"] = True
            if cycle == 6:
                filler.unlink()  # space returns
                await wait_until(lambda: not writer.full and writer.buffered_beats == 0, 30)
                await wait_until(
                    lambda: (s := read_status(status_path)) is not None and not s.disk_full
                )
                out = await status_says("free")
                assert "FULL" not in out
                seen["disk_back"] = True
            await strap.vanish()  # out of range: the patient got up
            await wait_until(lambda c=client: c.state is not LinkState.CONNECTED, 10)
            for n in session[760:770]:  # beats nobody hears are not "sent"
                delivered = await strap.send(n.heart_rate_bpm, n.rr_ticks)
                assert not delivered
            clock.advance(20.0)
            if cycle == 2:
                await wait_until(
                    lambda: (
                        (s := read_status(status_path)) is not None
                        and s.link_state in ("searching", "waiting to reconnect")
                    ),
                    10,
                )
                out = await status_says("strap", "last error", "not found")
                assert "searching" in out or "waiting to reconnect" in out, out
                seen["strap_away"] = True
            await strap.reappear()

        await strap.wait_subscribed()
        # Everything but the refused batch reaches the server.
        await wait_until(lambda: spool.stats().pending == spool.stats().quarantined_beats, 60)
        assert spool.stats().quarantined_batches == 1
        code, out = await somatrace("upload", "--status", "--spool", str(spool_path))
        assert code == 0 and "firewall" in out and "--retry-quarantined" in out, out
        # Retried on demand: the same batch goes through this time.
        code, out = await somatrace(
            "upload", "--retry-quarantined", "--config", str(config), "--spool", str(spool_path)
        )
        assert code == 0, out
        assert "Retrying 1 quarantined batch" in out
        await wait_until(lambda: spool.stats().pending == 0, 60)
        await status_says("quarantined  none")
        stop.set()
        summary = await asyncio.wait_for(task, 30)
        spool.close()

    on_server = stored(api)
    assert [r for _, r in on_server] == sent  # every beat, once, in order
    assert len({t for t, _ in on_server}) == len(on_server)
    assert summary.connections >= CYCLES + 1
    assert len(proxy.refused) == 1
    assert seen == {"quarantine": True, "disk_full": True, "disk_back": True, "strap_away": True}
    final = read_status(status_path)
    assert final is not None and final.beats_lost == 0
    view = read_spool(spool_path)
    assert view is not None and view.stats.pending == 0 and view.quarantined == []
    rows = dict(status_lines(status_path, final, view, time.time()))
    assert rows["quarantined"] == "none"
    print(
        f"\nunattended run: {len(sent)} beats sent by the strap in {summary.connections} "
        f"connections, {len(on_server)} on the server, {proxy.requests} ingest requests, "
        f"1 batch quarantined and retried, disk full once"
    )
