"""Child process for the crash tests: records the real Polar H10 RR file through parser → beat clock
→ spool while the uploader runs, then flushes. The parent SIGKILLs it and starts it again.

Usage: python record_child.py SPOOL URL TOKEN CSV BASE_S PACE_S [KILL_AFTER_ACKS]
Prints "spooled <n>" after each committed notification and "done" after a complete flush.
With KILL_AFTER_ACKS > 0 the process SIGKILLs itself right after that many 2xx answers arrive,
before the spool can mark the batch sent (a crash between send and mark).
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sys
from pathlib import Path

import httpx

from collector.beats import BeatClock
from collector.gatt import parse_heart_rate_measurement
from collector.quirks import profile_for
from collector.spool import Spool
from collector.uploader import Uploader
from wire import StrapInfo


class KillAfterAcks(httpx.AsyncBaseTransport):
    """Real HTTP transport that kills this process once ``limit`` 2xx responses have arrived."""

    def __init__(self, limit: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._limit = limit
        self._acks = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if 200 <= response.status_code < 300 and self._limit > 0:
            self._acks += 1
            if self._acks >= self._limit:
                await response.aread()
                os.kill(os.getpid(), signal.SIGKILL)
        return response


def notifications(csv_path: Path) -> list[tuple[int, list[int]]]:
    groups: list[tuple[int, list[int]]] = []
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["hr_bpm"] or not groups:
                groups.append((int(row["t_offset_ms"]), [int(row["rr_ms"])]))
            else:
                groups[-1][1].append(int(row["rr_ms"]))
    return groups


def encode(hr: int, rr_ms: list[int]) -> bytes:
    out = bytearray([0x16, hr])  # uint8 HR, contact supported + detected, RR present
    for rr in rr_ms:
        out += round(rr * 1.024).to_bytes(2, "little")
    return bytes(out)


async def main() -> None:
    spool_path, url, token, csv_path = (
        Path(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        Path(sys.argv[4]),
    )
    base_s, pace_s = float(sys.argv[5]), float(sys.argv[6])
    kill_after = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    spool = Spool(spool_path)
    spool.set_strap_info(
        StrapInfo(
            address="A0:9E:1A:00:00:01",
            name="Polar H10 0A0B0C0D",
            model="H10",
            firmware="3.2.0",
            battery_pct=90,
        )
    )
    resume = spool.last_beat_ms()
    clock = BeatClock(profile_for("Polar Electro Oy", "Polar H10"), resume_after_ms=resume)
    uploader = Uploader(
        spool,
        url,
        token,
        max_batch_beats=25,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
        poll_interval_s=0.05,
        min_interval_s=0.05,
        retention_s=None,
        transport=KillAfterAcks(kill_after),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(uploader.run(stop))
    clock.on_connect(base_s)
    for offset_ms, rr in notifications(csv_path):
        wall_s = base_s + offset_ms / 1000
        if resume is not None and wall_s * 1000 <= resume + 5000:
            continue  # the strap's beats while the process was dead are lost: a gap
        m = parse_heart_rate_measurement(encode(70, rr))
        out = clock.on_notification(m, wall_s)
        spool.append(out.beats, out.gaps, out.dropped)
        sys.stdout.write(f"spooled {spool.stats().spooled}\n")
        sys.stdout.flush()
        uploader.wake()
        await asyncio.sleep(pace_s)
    stop.set()
    await task
    while not (await uploader.upload_pending()).complete:
        await asyncio.sleep(0.05)
    await uploader.aclose()
    spool.close()
    sys.stdout.write("done\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
