"""RR sessions for the emulated strap: load a recorded session and stream it, in lockstep with a
client (tests: fast and exact) or in real time (demo). Beat handling is left to the collector."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collector.ble import StrapClient
from collector.emulation.hrm import FlagForm
from collector.emulation.strap import EmulatedStrap, StrapEmulationError
from wire import RR_TICKS_PER_S, ms_to_ticks


@dataclass(frozen=True)
class Notification:
    """One notification of a recorded session: the strap's HR and its RR values in ticks."""

    heart_rate_bpm: int
    rr_ticks: tuple[int, ...]


def load_rr_csv(path: Path) -> list[Notification]:
    """Load a ``t_offset_ms,rr_ms,hr_bpm`` CSV; a row without ``hr_bpm`` arrived in the same
    notification as the row before it. RR ticks are ``round(rr_ms * 1024 / 1000)``.

    Raises
    ------
    StrapEmulationError
        When the file is missing, lacks the columns or holds a non-number.
    """
    notifications: list[list[int]] = []
    rates: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    ticks = ms_to_ticks(float(row["rr_ms"]))
                    hr = row.get("hr_bpm") or ""
                    if hr.strip() or not notifications:
                        notifications.append([ticks])
                        rates.append(
                            round(float(hr)) if hr.strip() else round(60_000 / float(row["rr_ms"]))
                        )
                    else:
                        notifications[-1].append(ticks)
                except (KeyError, TypeError, ValueError) as exc:
                    raise StrapEmulationError(f"{path}:{line}: bad RR row: {exc}") from exc
    except OSError as exc:
        raise StrapEmulationError(f"cannot read RR session {path}: {exc}") from exc
    return [Notification(hr, tuple(t)) for hr, t in zip(rates, notifications, strict=True)]


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``predicate`` on the event loop until it holds.

    Raises
    ------
    TimeoutError
        After ``timeout_s``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.001)


async def stream_lockstep(
    strap: EmulatedStrap,
    client: StrapClient,
    notifications: Sequence[Notification],
    form: FlagForm | None = None,
) -> int:
    """Send notifications as fast as ``client`` takes them: after each delivered one, wait until the
    client's BLE callback has seen it, so arrival times on a virtual clock are exact.

    Returns
    -------
    int
        How many notifications a subscribed client received.
    """
    delivered = 0
    for n in notifications:
        target = client.notifications_received + 1
        if await strap.send(n.heart_rate_bpm, n.rr_ticks, form=form):
            delivered += 1
            await wait_until(lambda t=target: client.notifications_received >= t)  # type: ignore[misc]
    return delivered


async def stream_realtime(
    strap: EmulatedStrap, notifications: Sequence[Notification], *, loop_forever: bool = True
) -> None:
    """Send each notification after waiting its RR sum in real time (demo), looping the session."""
    if not notifications:
        raise StrapEmulationError("empty RR session")
    while True:
        for n in notifications:
            await asyncio.sleep(sum(n.rr_ticks) / RR_TICKS_PER_S)
            await strap.send(n.heart_rate_bpm, n.rr_ticks)
        if not loop_forever:
            return
