"""Recorder: wires the strap client to the beat clock, the durable spool, ECG file and uploader.

Every beat is committed to the spool before it is counted as spooled (while the spool's disk is full,
``collector.writer`` holds it in memory); the live state feeds the terminal view and the status file.
BLE is left to ``collector.ble``, beat times to ``collector.beats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from collector.beats import BeatClock
from collector.ble import (
    BatteryLevel,
    Connected,
    Disconnected,
    EcgData,
    EcgUnavailable,
    LinkState,
    Malformed,
    Measurement,
    StateChanged,
    StrapClient,
    StrapEvent,
)
from collector.ecg import EcgWriter
from collector.errors import CollectorError
from collector.quirks import profile_for
from collector.spool import Spool, SpoolError
from collector.uploader import Uploader
from collector.verdict import rmssd_ms
from collector.writer import SpoolWriter
from wire import StrapInfo

logger = logging.getLogger(__name__)

#: Beats in the rolling RMSSD of the live view (about half a minute at rest).
LIVE_RMSSD_BEATS = 30


@dataclass
class LiveState:
    """What the terminal view shows, updated as events arrive."""

    link_state: LinkState = LinkState.IDLE
    strap: StrapInfo | None = None
    manufacturer: str | None = None
    heart_rate_bpm: int | None = None
    last_rr_ms: float | None = None
    rmssd_ms: float | None = None
    contact: bool | None = None
    battery_pct: int | None = None
    notifications: int = 0
    beats_spooled: int = 0
    beats_uploaded: int = 0
    beats_pending: int = 0
    dropped: int = 0
    gaps: int = 0
    malformed: int = 0
    connections: int = 0
    ecg_samples: int = 0
    ecg_note: str | None = None
    upload_error: str | None = None
    last_error: str | None = None
    started_wall_s: float = field(default_factory=time.time)
    #: Wall time of the newest beat recorded (Unix seconds of its t_ms), or None.
    last_beat_wall_s: float | None = None
    #: Beats held in memory while the spool's disk is full, beats discarded from that buffer.
    beats_buffered: int = 0
    beats_lost: int = 0
    disk_full: bool = False
    disk_free_bytes: int | None = None


@dataclass(frozen=True)
class RecordingSummary:
    """What one recording run did."""

    duration_s: float
    beats_spooled: int
    beats_uploaded: int
    beats_pending: int
    dropped: int
    gaps: int
    malformed: int
    connections: int
    ecg_samples: int
    ecg_path: Path | None
    session_rr_ms: tuple[float, ...]
    session_breaks: tuple[bool, ...]


class Recorder:
    """Runs a :class:`StrapClient` and turns its events into spooled beats.

    Parameters
    ----------
    spool:
        Where beats are committed (before they are shown or uploaded).
    client:
        The strap client (its events are consumed here).
    uploader:
        Optional uploader run alongside; woken after each commit.
    ecg_path:
        CSV file for Polar ECG samples when the client streams ECG.
    clock:
        Wall clock, Unix seconds (the client's clock stamps events; this one stamps the summary).
    writer:
        Writes beats to ``spool`` (a ``SpoolWriter`` with default limits when None).
    space_check_s:
        How often free space on the spool's disk is measured (and held beats retried), seconds.
    """

    def __init__(
        self,
        spool: Spool,
        client: StrapClient,
        *,
        uploader: Uploader | None = None,
        ecg_path: Path | None = None,
        clock: Callable[[], float] = time.time,
        writer: SpoolWriter | None = None,
        space_check_s: float = 10.0,
    ) -> None:
        self.spool = spool
        self.writer = writer or SpoolWriter(spool)
        self.space_check_s = space_check_s
        self.client = client
        self.uploader = uploader
        self.ecg_path = ecg_path
        self._clock = clock
        self.state = LiveState(started_wall_s=clock())
        self.beat_clock = BeatClock(resume_after_ms=spool.last_beat_ms())
        self._ecg: EcgWriter | None = None
        self._recent_rr_ms: deque[float] = deque(maxlen=LIVE_RMSSD_BEATS)
        self._session_rr_ms: list[float] = []
        self._session_breaks: list[bool] = []
        self._next_is_break = True
        self.events_processed = 0

    async def run(self, stop: asyncio.Event) -> RecordingSummary:
        """Record until ``stop`` is set, then drain the events and return the summary.

        Raises
        ------
        BluetoothUnavailable
            From the client, when no adapter is usable at start.
        """
        started = self._clock()
        await self._refresh_counts()
        client_task = asyncio.create_task(self.client.run(stop), name="strap-client")
        upload_task = (
            asyncio.create_task(self.uploader.run(stop), name="uploader")
            if self.uploader is not None
            else None
        )
        space_task = asyncio.create_task(self._watch_space(stop), name="disk-space")
        try:
            while True:
                getter = asyncio.ensure_future(self.client.events.get())
                done, _ = await asyncio.wait(
                    {getter, client_task}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    await self._handle(getter.result())
                    continue
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                while not self.client.events.empty():
                    await self._handle(self.client.events.get_nowait())
                break
            client_task.result()  # re-raise BluetoothUnavailable and other failures
        finally:
            if not client_task.done():
                stop.set()
                await asyncio.gather(client_task, return_exceptions=True)
            space_task.cancel()
            await asyncio.gather(space_task, return_exceptions=True)
            if self.writer.buffered_beats:
                await asyncio.to_thread(self.writer.flush)
                self._update_disk()
            if self.writer.buffered_beats:
                logger.error(
                    "stopping with %d beats held in memory: the spool's disk is still full and they"
                    " are lost",
                    self.writer.buffered_beats,
                )
            if upload_task is not None:
                stop.set()
                results = await asyncio.gather(upload_task, return_exceptions=True)
                if isinstance(results[0], CollectorError):
                    self.state.upload_error = str(results[0])
                assert self.uploader is not None
                await self.uploader.aclose()
            if self._ecg is not None:
                self._ecg.close()
        await self._refresh_counts()
        return RecordingSummary(
            duration_s=self._clock() - started,
            beats_spooled=self.state.beats_spooled,
            beats_uploaded=self.state.beats_uploaded,
            beats_pending=self.state.beats_pending,
            dropped=self.state.dropped,
            gaps=self.state.gaps,
            malformed=self.state.malformed,
            connections=self.state.connections,
            ecg_samples=self.state.ecg_samples,
            ecg_path=self._ecg.path if self._ecg is not None else None,
            session_rr_ms=tuple(self._session_rr_ms),
            session_breaks=tuple(self._session_breaks),
        )

    async def _watch_space(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = self.writer.committed_beats
            await asyncio.to_thread(self.writer.check_space)
            self.state.beats_spooled += self.writer.committed_beats - before
            self._update_disk()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.space_check_s)

    def _update_disk(self) -> None:
        disk = self.writer.state()
        self.state.beats_buffered = disk.buffered_beats
        self.state.beats_lost = disk.lost_beats
        self.state.disk_full = disk.full
        self.state.disk_free_bytes = disk.free_bytes

    async def _refresh_counts(self) -> None:
        stats = await asyncio.to_thread(self.spool.stats)
        self.state.beats_uploaded = stats.uploaded
        self.state.beats_pending = stats.pending
        if self.uploader is not None:
            self.state.upload_error = self.uploader.last_error

    async def _handle(self, event: StrapEvent) -> None:
        self.events_processed += 1
        state = self.state
        if isinstance(event, Measurement):
            state.notifications += 1
            out = self.beat_clock.on_notification(event.measurement, event.wall_s)
            committed = 0
            if out.beats or out.gaps or out.dropped:
                before = self.writer.committed_beats
                await asyncio.to_thread(self.writer.append, out.beats, out.gaps, out.dropped)
                committed = self.writer.committed_beats - before
                self._update_disk()
            state.heart_rate_bpm = event.measurement.heart_rate_bpm
            state.contact = out.contact
            state.dropped += out.dropped
            state.gaps += len(out.gaps)
            if out.gaps:
                self._recent_rr_ms.clear()
            for beat in out.beats:
                self._recent_rr_ms.append(beat.rr_ms)
                self._session_rr_ms.append(beat.rr_ms)
                self._session_breaks.append(self._next_is_break)
                self._next_is_break = False
            state.beats_spooled += committed
            if out.beats:
                state.last_beat_wall_s = out.beats[-1].t_ms / 1000
                state.last_rr_ms = out.beats[-1].rr_ms
                state.rmssd_ms = rmssd_ms(list(self._recent_rr_ms))
                if self.uploader is not None:
                    self.uploader.wake()
                if committed and state.beats_spooled % 50 < committed:
                    await self._refresh_counts()
        elif isinstance(event, Connected):
            info = event.info
            state.strap = info
            state.manufacturer = event.manufacturer
            state.connections += 1
            state.battery_pct = info.battery_pct
            self.beat_clock.on_connect(
                event.wall_s, profile_for(event.manufacturer, info.model, info.name)
            )
            logger.info(
                "connected to %s (%s), battery %s %%", info.name, info.address, info.battery_pct
            )
            try:
                await asyncio.to_thread(self.spool.set_strap_info, info)
            except SpoolError as exc:  # kept for the next connection
                logger.error("cannot store the strap's info: %s", exc)
        elif isinstance(event, Disconnected):
            logger.info("strap disconnected: %s", event.reason)
            self.beat_clock.on_disconnect(event.wall_s)
            self._recent_rr_ms.clear()
            self._next_is_break = True
            if self._ecg is not None:
                self._ecg.on_disconnect()
        elif isinstance(event, Malformed):
            state.malformed += 1
            logger.warning(
                "ignored malformed %s packet %s: %s", event.source, event.packet.hex(), event.reason
            )
        elif isinstance(event, BatteryLevel):
            state.battery_pct = event.battery_pct
        elif isinstance(event, EcgData):
            if self.ecg_path is not None:
                if self._ecg is None:
                    self._ecg = EcgWriter(self.ecg_path)
                self._ecg.write_frame(event.frame)
                state.ecg_samples += len(event.frame.samples_uv)
        elif isinstance(event, EcgUnavailable):
            state.ecg_note = event.reason
        elif isinstance(event, StateChanged):
            state.link_state = event.state
            if event.detail:
                state.last_error = event.detail
