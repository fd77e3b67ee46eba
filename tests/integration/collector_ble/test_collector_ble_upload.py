"""Strap to server: the emulated strap's beats go through the real client, recorder, spool and
uploader to a real local HTTP ingest endpoint (the API's contract), and ``upload`` flushes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from collector.beats import Beat
from collector.ble import Backoff, StrapClient
from collector.cli import PairingConfig, register, save_config
from collector.emulation.radio import VirtualRadio
from collector.emulation.session import Notification, stream_lockstep, wait_until
from collector.emulation.strap import EmulatedStrap, VirtualClock
from collector.recorder import Recorder
from collector.spool import Spool
from collector.uploader import Uploader

pytestmark = pytest.mark.integration

TOKEN = "device-token-c2"


class IngestServer:
    """``POST /v1/ingest/beats`` storing beats by time, idempotent per ``t_ms``, bearer-checked."""

    def __init__(self) -> None:
        self.beats: dict[int, int] = {}
        self.batches: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/ingest/beats":
                    self.send_error(404)
                    return
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_error(401)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    accepted = duplicates = 0
                    for beat in body["beats"]:
                        if beat["t_ms"] in outer.beats:
                            duplicates += 1
                        else:
                            outer.beats[beat["t_ms"]] = beat["rr_ticks"]
                            accepted += 1
                    outer.batches.append(body["batch_id"])
                payload = json.dumps(
                    {"batch_id": body["batch_id"], "accepted": accepted, "duplicates": duplicates}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def ordered_ticks(self) -> list[int]:
        with self.lock:
            return [self.beats[t] for t in sorted(self.beats)]


@pytest.fixture
def server() -> Iterator[IngestServer]:
    s = IngestServer()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


async def test_recorded_session_reaches_the_server_exactly_once(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification], server: IngestServer
) -> None:
    clock = VirtualClock(1_714_920_600.0)
    strap = await radio.add_strap(EmulatedStrap(clock=clock))
    client = StrapClient(
        strap.address,
        backend=radio.backend,
        clock=clock,
        scan_timeout_s=0.5,
        backoff=Backoff(0.01, 0.05),
    )
    spool = Spool(tmp_path / "spool.sqlite3")
    uploader = Uploader(spool, server.url, TOKEN, max_batch_beats=100, poll_interval_s=0.05)
    recorder = Recorder(spool, client, uploader=uploader, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    await strap.wait_subscribed()
    await stream_lockstep(strap, client, session)
    expected = [t for n in session for t in n.rr_ticks]
    await wait_until(lambda: len(server.beats) == len(expected), 60)
    stop.set()
    summary = await asyncio.wait_for(task, 30)
    assert server.ordered_ticks() == expected
    assert len(set(server.batches)) == len(server.batches)
    assert summary.beats_spooled == len(expected)
    assert spool.stats().pending == 0


def test_upload_command_flushes_the_spool(tmp_path: Path, server: IngestServer) -> None:
    spool_path = tmp_path / "spool.sqlite3"
    spool = Spool(spool_path)
    spool.append([Beat(t_ms=1_714_920_600_000 + 800 * i, rr_ticks=819) for i in range(1, 251)])
    spool.close()
    config = tmp_path / "collector.json"
    save_config(config, PairingConfig(server_url=server.url, device_token=TOKEN, strap="X"))
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(
        app, ["upload", "--config", str(config), "--spool", str(spool_path)]
    )
    assert result.exit_code == 0, result.output
    assert "250 new beats" in result.output
    assert len(server.beats) == 250
    assert Spool(spool_path).stats().pending == 0
    # A second flush has nothing left to send.
    result = CliRunner().invoke(
        app, ["upload", "--config", str(config), "--spool", str(spool_path)]
    )
    assert result.exit_code == 0 and "0 new beats" in result.output
