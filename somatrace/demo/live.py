"""The demo's live view: an emulated chest strap (bumble) read by the real collector (bleak client,
beat clock, spool, uploader) streaming beats to the demo server in real time for one patient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Final

from analysis.simulate import simulate_rr
from collector.ble import StrapClient
from collector.emulation.radio import VirtualRadio
from collector.emulation.strap import EmulatedStrap
from collector.recorder import Recorder, RecordingSummary
from collector.spool import Spool
from collector.uploader import Uploader
from somatrace.demo.errors import DemoError
from wire import ms_to_ticks

logger = logging.getLogger(__name__)

#: The live strap's name and address (distinct from the seeded history's strap).
LIVE_STRAP_NAME: Final[str] = "Polar H10 LIVE0001"
LIVE_STRAP_ADDRESS: Final[str] = "C7:3A:1F:2B:00:99"
#: Seconds of RR series prepared for the live strap (it loops if the demo runs longer).
LIVE_SERIES_S: Final[float] = 3600.0
#: How often the uploader sends spooled beats, in seconds (the demo wants a moving view).
LIVE_UPLOAD_INTERVAL_S: Final[float] = 2.0
#: Longest wait for the collector to connect and subscribe to the emulated strap, in seconds.
LIVE_CONNECT_TIMEOUT_S: Final[float] = 20.0


class LiveStream:
    """Runs strap → collector → server until :meth:`stop`.

    Parameters
    ----------
    server_url:
        The demo server, e.g. ``http://127.0.0.1:8765``.
    device_token:
        The live patient's device token (from ``POST /v1/patients/{id}/devices``).
    spool_path:
        Where the collector's SQLite spool lives for the demo run.
    seed:
        Seed of the simulated RR series the strap replays.
    """

    def __init__(
        self, server_url: str, device_token: str, spool_path: Path, *, seed: int = 7
    ) -> None:
        self.server_url = server_url
        self.device_token = device_token
        self.spool_path = spool_path
        self.seed = seed
        self.radio = VirtualRadio()
        self.strap = EmulatedStrap(name=LIVE_STRAP_NAME, address=LIVE_STRAP_ADDRESS, battery_pct=92)
        self.spool: Spool | None = None
        self.uploader: Uploader | None = None
        self.recorder: Recorder | None = None
        self.beats_sent = 0
        self._stop = asyncio.Event()
        self._recorder_task: asyncio.Task[RecordingSummary] | None = None
        self._feed_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Power the strap, connect the collector to it and start streaming beats in real time."""
        await self.radio.start()
        await self.radio.add_strap(self.strap)
        self.spool = Spool(self.spool_path)
        self.uploader = Uploader(
            self.spool,
            self.server_url,
            self.device_token,
            poll_interval_s=LIVE_UPLOAD_INTERVAL_S,
            backoff_initial_s=0.5,
            backoff_max_s=5.0,
        )
        client = StrapClient(LIVE_STRAP_ADDRESS, backend=self.radio.backend, scan_timeout_s=2.0)
        self.recorder = Recorder(self.spool, client, uploader=self.uploader)
        self._recorder_task = asyncio.create_task(
            self.recorder.run(self._stop), name="demo-recorder"
        )
        try:
            await self.strap.wait_subscribed(timeout_s=LIVE_CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            await self.stop()
            raise DemoError("the collector did not connect to the emulated strap in time") from exc
        self._feed_task = asyncio.create_task(self._feed(), name="demo-strap-feed")

    async def _feed(self) -> None:
        """Notify one beat at a time, paced by its RR interval on the event loop's clock."""
        loop = asyncio.get_running_loop()
        rr_ms = await asyncio.to_thread(simulate_rr, LIVE_SERIES_S, seed=self.seed)
        due = loop.time()
        while not self._stop.is_set():
            for rr in rr_ms.tolist():
                due += rr / 1000.0
                await asyncio.sleep(max(0.0, due - loop.time()))
                if self._stop.is_set():
                    return
                if await self.strap.send(round(60000.0 / rr), [ms_to_ticks(rr)]):
                    self.beats_sent += 1

    async def stop(self) -> RecordingSummary | None:
        """Stop streaming, let the recorder drain, upload what is left, power everything off."""
        self._stop.set()
        if self._feed_task is not None:
            self._feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed_task
        summary: RecordingSummary | None = None
        if self._recorder_task is not None:
            try:
                summary = await asyncio.wait_for(self._recorder_task, LIVE_CONNECT_TIMEOUT_S)
            except Exception:  # the recorder's own error is logged; stopping must go on
                logger.exception("live recorder ended with an error")
        if self.uploader is not None:
            try:
                await self.uploader.upload_pending()
            except Exception:  # network or server gone during shutdown: beats stay spooled
                logger.exception("final upload of live beats failed")
        await self.radio.close()
        if self.spool is not None:
            self.spool.close()
        return summary
