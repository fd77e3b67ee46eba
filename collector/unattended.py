"""Unattended recording (``somatrace record --unattended``): runs for ever, waits for the paired strap,
records whenever it is worn, reconnects after each absence, uploads in the background and keeps a
status file for ``somatrace status``.

The link is ``collector.ble``, storage ``collector.writer``/``collector.spool``, upload
``collector.uploader``; logging to the journal is set up by the command (``collector.journal``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from collector.ble import Backoff, BleBackend, BluetoothUnavailable, LinkState, StrapClient
from collector.recorder import Recorder
from collector.spool import Spool
from collector.status import RecorderStatus, StatusError, write_status
from collector.uploader import Uploader
from collector.writer import SpoolWriter

logger = logging.getLogger(__name__)

#: Reconnection backoff of an unattended recorder: quick after a drop, a scan every minute or so
#: while the strap is away (it is in a drawer all day).
UNATTENDED_BACKOFF: Final[Backoff] = Backoff(initial_s=1.0, max_s=60.0)
#: Wait before trying again when no Bluetooth adapter is usable (booting, adapter switched off).
ADAPTER_RETRY_S: Final[float] = 30.0


@dataclass(frozen=True)
class UnattendedSummary:
    """Totals of one unattended run (until it was stopped)."""

    runs: int
    connections: int
    beats_recorded: int
    adapter_outages: int


class UnattendedRecorder:
    """Keeps a :class:`Recorder` running until ``stop``: a recorder that ends because no Bluetooth
    adapter is usable is started again after ``adapter_retry_s``.

    Parameters
    ----------
    spool, writer, uploader:
        Where beats go (``writer`` defaults to a ``SpoolWriter`` of ``spool``); ``uploader`` None
        records only.
    target:
        The paired strap's address or name.
    status_path:
        Status file for ``somatrace status``, rewritten every ``status_interval_s``; None: none.
    backend, clock:
        bleak backend override and the wall clock stamping events (tests and the emulator).
    scan_timeout_s, backoff, adapter_retry_s:
        One search's length, the reconnection backoff and the wait after an adapter outage.
    """

    def __init__(
        self,
        spool: Spool,
        target: str,
        *,
        uploader: Uploader | None = None,
        writer: SpoolWriter | None = None,
        status_path: Path | None = None,
        status_interval_s: float = 2.0,
        backend: BleBackend | None = None,
        clock: Callable[[], float] = time.time,
        scan_timeout_s: float = 10.0,
        backoff: Backoff = UNATTENDED_BACKOFF,
        adapter_retry_s: float = ADAPTER_RETRY_S,
        space_check_s: float = 10.0,
    ) -> None:
        self.spool = spool
        self.target = target
        self.uploader = uploader
        self.writer = writer or SpoolWriter(spool)
        self.status_path = status_path
        self.status_interval_s = status_interval_s
        self.backend = backend
        self.clock = clock
        self.scan_timeout_s = scan_timeout_s
        self.backoff = backoff
        self.adapter_retry_s = adapter_retry_s
        self.space_check_s = space_check_s
        self.started_s = time.time()
        #: The current strap client and recorder (replaced after an adapter outage).
        self.client: StrapClient | None = None
        self.recorder: Recorder | None = None
        self.last_error: str | None = None
        self.last_error_s: float | None = None
        self._runs = self._connections = self._beats = self._outages = 0
        self._status_warned = False

    async def run(self, stop: asyncio.Event) -> UnattendedSummary:
        """Record until ``stop`` is set (SIGTERM from systemd, Ctrl-C)."""
        logger.info(
            "unattended recording of strap %s into %s%s",
            self.target,
            self.spool.path,
            "" if self.uploader is None else f", uploading to {self.uploader.ingest_url}",
        )
        status_task = asyncio.create_task(self._write_status_loop(stop), name="status")
        try:
            while not stop.is_set():
                self.client = StrapClient(
                    self.target,
                    backend=self.backend,
                    clock=self.clock,
                    scan_timeout_s=self.scan_timeout_s,
                    backoff=self.backoff,
                )
                self.recorder = Recorder(
                    self.spool,
                    self.client,
                    uploader=self.uploader,
                    writer=self.writer,
                    clock=self.clock,
                    space_check_s=self.space_check_s,
                )
                self._runs += 1
                try:
                    summary = await self.recorder.run(stop)
                except BluetoothUnavailable as exc:
                    self._outages += 1
                    self._error(f"{exc}; trying again in {self.adapter_retry_s:g} s")
                    self._count(self.recorder)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.adapter_retry_s)
                    continue
                self._count(self.recorder)
                logger.info(
                    "stopped: %d beats in %d connection(s) this run, %d waiting for upload",
                    summary.beats_spooled,
                    summary.connections,
                    summary.beats_pending,
                )
        finally:
            stop.set()
            await asyncio.gather(status_task, return_exceptions=True)
            self._write_status()
        return UnattendedSummary(self._runs, self._connections, self._beats, self._outages)

    def _count(self, recorder: Recorder) -> None:
        self._connections += recorder.state.connections
        self._beats += recorder.state.beats_spooled + recorder.state.beats_buffered

    def _error(self, message: str) -> None:
        self.last_error, self.last_error_s = message, time.time()
        logger.error("%s", message)

    def status(self) -> RecorderStatus:
        """What ``somatrace status`` shows about this process now."""
        state = self.recorder.state if self.recorder is not None else None
        disk = self.writer.state()
        uploader = self.uploader
        # The most pressing error: the server's, else the link's while not connected, else the
        # adapter's (times are known for the adapter's only).
        last_error, last_error_s = self.last_error, self.last_error_s
        link_down = state is None or state.link_state is not LinkState.CONNECTED
        if link_down and self.client is not None and self.client.last_error:
            last_error, last_error_s = self.client.last_error, None
        if uploader is not None and uploader.last_error:
            last_error, last_error_s = uploader.last_error, None
        return RecorderStatus(
            pid=os.getpid(),
            updated_s=time.time(),
            started_s=self.started_s,
            interval_s=self.status_interval_s,
            target=self.target,
            spool_path=str(self.spool.path),
            link_state=(state.link_state.value if state is not None else LinkState.IDLE.value),
            strap_name=state.strap.name if state is not None and state.strap else None,
            strap_address=state.strap.address if state is not None and state.strap else None,
            battery_pct=state.battery_pct if state is not None else None,
            contact=state.contact if state is not None else None,
            heart_rate_bpm=state.heart_rate_bpm if state is not None else None,
            last_beat_s=state.last_beat_wall_s if state is not None else None,
            connections=self._connections + (state.connections if state is not None else 0),
            beats_recorded=self._beats
            + ((state.beats_spooled + state.beats_buffered) if state is not None else 0),
            disk_full=disk.full,
            disk_free_bytes=disk.free_bytes,
            disk_low=disk.low,
            beats_buffered=disk.buffered_beats,
            beats_lost=disk.lost_beats,
            uploading=uploader is not None,
            last_upload_s=uploader.last_upload_s if uploader is not None else None,
            upload_error=uploader.last_error if uploader is not None else None,
            token_rejected=uploader.token_rejected if uploader is not None else False,
            clock_offset_s=uploader.clock_check.offset_s if uploader is not None else None,
            last_error=last_error,
            last_error_s=last_error_s,
        )

    def _write_status(self) -> None:
        if self.status_path is None:
            return
        try:
            write_status(self.status_path, self.status())
            self._status_warned = False
        except StatusError as exc:
            if not self._status_warned:
                logger.error("%s", exc)
                self._status_warned = True

    async def _write_status_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self._write_status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.status_interval_s)
