"""Run an emulated strap as its own process: a bumble controller reachable over a TCP HCI transport
joins the strap's in-process radio, so ``somatrace record --transport tcp-client:HOST:PORT`` can
record without a real strap. RR values stream in real time; the collector is left to the client."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from pathlib import Path

from bumble import hci
from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import Transport

from collector.emulation.session import Notification, load_rr_csv, stream_realtime
from collector.emulation.strap import EcgSource, EmulatedStrap, StrapEmulationError
from wire import ms_to_ticks

logger = logging.getLogger(__name__)

#: Synthetic session when no CSV is given: 0.9 s mean RR with a 5-beat respiratory swing of ±50 ms.
SYNTHETIC_BEATS = 60
#: How often the server checks that the collector's TCP connection is still there.
CENTRAL_WATCH_INTERVAL_S = 0.5


def synthetic_session() -> list[Notification]:
    """A calm sinus rhythm with respiratory sinus arrhythmia, one beat per notification."""
    out = []
    for i in range(SYNTHETIC_BEATS):
        rr_ms = 900.0 + 50.0 * math.sin(2 * math.pi * i / 5)
        out.append(Notification(round(60_000 / rr_ms), (ms_to_ticks(rr_ms),)))
    return out


async def serve_strap(
    port: int,
    *,
    host: str = "127.0.0.1",
    rr_csv: Path | None = None,
    ecg_npz: Path | None = None,
    name: str = "Polar H10 7E3A1F2B",
    ready: asyncio.Event | None = None,
) -> None:
    """Serve one emulated strap until cancelled.

    Parameters
    ----------
    port, host:
        TCP address where the central's controller listens (``tcp-server:HOST:PORT``).
    rr_csv:
        ``t_offset_ms,rr_ms,hr_bpm`` session to loop; a synthetic rhythm when None.
    ecg_npz:
        Polar ECG source (``t0_ns``, ``t_offset_us``, ``ecg_uV``) for the PMD stream.
    ready:
        Set once the transport listens and the strap advertises.
    """
    if not 0 < port < 65536:
        raise StrapEmulationError(f"port must be 1..65535, got {port}")
    notifications = load_rr_csv(rr_csv) if rr_csv is not None else synthetic_session()
    ecg_source = EcgSource.from_npz(ecg_npz) if ecg_npz is not None else None
    link = LocalLink()  # type: ignore[no-untyped-call]
    try:
        transport = await open_transport(f"tcp-server:{host}:{port}")
    except OSError as exc:
        raise StrapEmulationError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        strap = EmulatedStrap(name=name, ecg_source=ecg_source, ecg_realtime=True)
        port_controller = _CentralPortController(
            "central-port", host_source=transport.source, host_sink=transport.sink, link=link
        )
        await strap.start(link)
        port_controller.on_reset = lambda: _schedule_drop(strap)
        logger.info("emulated strap %s (%s) on tcp-server:%s:%d", name, strap.address, host, port)
        if ready is not None:
            ready.set()
        watcher = asyncio.create_task(_drop_when_central_leaves(transport, strap))
        try:
            await stream_realtime(strap, notifications)
        finally:
            watcher.cancel()
    finally:
        await transport.close()


class _CentralPortController(Controller):
    """The controller the collector's host drives over TCP. A host starting up sends HCI Reset; a
    link left over from a collector that was killed is dropped then, as a real strap's supervision
    timeout would, so that the strap advertises again."""

    on_reset: Callable[[], None] | None = None

    def on_hci_reset_command(
        self, command: hci.HCI_Reset_Command
    ) -> hci.HCI_StatusReturnParameters:
        if self.on_reset is not None:
            self.on_reset()
        return super().on_hci_reset_command(command)


_background: set[asyncio.Task[None]] = set()


def _schedule_drop(strap: EmulatedStrap) -> None:
    if strap.connected:
        logger.info("a new collector attached: dropping the link left by the previous one")
        task = asyncio.get_running_loop().create_task(strap.drop())
        _background.add(task)
        task.add_done_callback(_background.discard)


def _central_attached(transport: Transport) -> bool:
    """Whether a collector is attached to the TCP HCI transport (bumble's TCP server sink keeps the
    accepted connection in ``transport``; None once the client closed or was killed)."""
    return getattr(transport.sink, "transport", None) is not None


async def _drop_when_central_leaves(transport: Transport, strap: EmulatedStrap) -> None:
    """A collector killed with SIGKILL never disconnects: drop its link so the strap advertises
    again, as a real strap does after a supervision timeout."""
    while True:
        await asyncio.sleep(CENTRAL_WATCH_INTERVAL_S)
        if strap.connected and not _central_attached(transport):
            logger.info("collector went away without disconnecting: dropping its link")
            await strap.drop()
