"""The collector honours back-pressure (issue 14 deliverable 3): against a saturated real API its
uploader keeps the batch, waits at least the server's Retry-After, then delivers it exactly once."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from api.app import create_app
from collector.beats import BeatClock
from collector.gatt import parse_heart_rate_measurement
from collector.quirks import profile_for
from collector.spool import Spool
from collector.uploader import Uploader, retry_after_s

from ..collector_upload.record_child import encode, notifications
from ..conftest import serve_in_thread
from .conftest import new_device, settings_for, sql

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def one_slot_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    app = create_app(settings_for(db_url, tmp_path, ingest_max_in_flight=1), db_url)
    with serve_in_thread(app) as url:
        yield url


def _spool_a_recording(spool: Spool, n: int = 200) -> int:
    clock = BeatClock(profile_for("Polar Electro Oy", "Polar H10"))
    base_s = time.time() - 600
    clock.on_connect(base_s)
    for i, (offset_ms, rr) in enumerate(notifications(DATA / "polar_h10_rr.csv")):
        if i >= n:
            break
        out = clock.on_notification(
            parse_heart_rate_measurement(encode(70, rr)), base_s + offset_ms / 1000
        )
        spool.append(out.beats, out.gaps, out.dropped)
    return spool.stats().pending


def test_retry_after_is_read_as_seconds_or_a_date_and_capped() -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": value})

    assert retry_after_s(answer("2"), 300) == 2.0
    assert retry_after_s(answer("9999"), 300) == 300.0
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (retry_after_s(answer(later), 300) or 0) <= 31
    assert retry_after_s(answer("soon"), 300) is None
    assert retry_after_s(httpx.Response(503), 300) is None


async def test_the_uploader_waits_out_retry_after_and_delivers_once(
    one_slot_server: str, db_url: str, tmp_path: Path
) -> None:
    device = new_device(db_url)
    other = new_device(db_url)
    spool = Spool(tmp_path / "spool.sqlite3")
    pending = _spool_a_recording(spool)
    assert pending > 0
    # saturate the one upload slot: another collector's upload waits inside on a table lock
    blocker = psycopg.connect(db_url)
    blocker.execute("LOCK TABLE beats IN EXCLUSIVE MODE")

    def occupy() -> None:
        body = {"batch_id": "6f1c1d4e-59a4-4a1e-9a51-0a5c1f0e3b99", "beats": []}
        with httpx.Client(base_url=one_slot_server, timeout=60) as http:
            http.post("/v1/ingest/beats", json=body, headers=other.headers)

    holder = threading.Thread(target=occupy)
    uploader = Uploader(
        spool, one_slot_server, device.token, backoff_initial_s=0.1, rng=random.Random(1)
    )
    try:
        holder.start()
        await asyncio.sleep(1.0)
        result = await uploader.upload_pending()
        assert result.error is not None and "503" in result.error
        assert result.pending == pending  # nothing lost, nothing marked sent
        assert uploader.retry_after_s == 2.0
        uploader.failures = 1
        delay = uploader.failure_delay_s()
        assert 2.0 <= delay <= 2.5  # the server's Retry-After, not the 0.1 s backoff
    finally:
        blocker.rollback()
        blocker.close()
        holder.join(timeout=60)
    result = await uploader.upload_pending()
    await uploader.aclose()
    assert result.complete and result.accepted == pending and result.duplicates == 0
    stored = sql(
        db_url, "SELECT count(*) AS n FROM beats WHERE device_id = %s", (device.device_id,)
    )
    assert stored[0]["n"] == pending
    spool.close()
