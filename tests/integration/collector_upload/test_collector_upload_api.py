"""The collector's uploader against the real Somatrace API (uvicorn on 127.0.0.1, real PostgreSQL):
a recording made by the real parser and beat clock lands in ``beats`` exactly once."""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path

import pytest

from collector.beats import BeatClock
from collector.gatt import parse_heart_rate_measurement
from collector.quirks import profile_for
from collector.spool import Spool
from collector.uploader import DeviceTokenRejected, Uploader
from wire import StrapInfo

from .conftest import Api, stored
from .record_child import encode, notifications

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"


def record(spool: Spool, base_s: float, *, drop_after: int | None = None) -> None:
    """Real RR notifications through the real parser and beat clock into the spool; optionally a
    link drop of 20 s after ``drop_after`` notifications."""
    clock = BeatClock(profile_for("Polar Electro Oy", "Polar H10"))
    clock.on_connect(base_s)
    shift_s = 0.0
    for i, (offset_ms, rr) in enumerate(notifications(DATA / "polar_h10_rr.csv")):
        if drop_after is not None and i == drop_after:
            clock.on_disconnect(base_s + offset_ms / 1000)
            shift_s = 20.0
            clock.on_connect(base_s + offset_ms / 1000 + shift_s)
        out = clock.on_notification(
            parse_heart_rate_measurement(encode(70, rr)), base_s + offset_ms / 1000 + shift_s
        )
        spool.append(out.beats, out.gaps, out.dropped)


async def test_recording_reaches_the_api_exactly_once_even_after_a_crash(
    api: Api, tmp_path: Path
) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    spool.set_strap_info(
        StrapInfo(address="A0:9E:1A:00:00:02", name="Polar H10 0A0B0C0E", model="H10")
    )
    record(spool, time.time() - 900, drop_after=300)
    spooled = [
        (int(t), int(r))
        for t, r in spool._conn.execute("SELECT t_ms, rr_ticks FROM beats ORDER BY t_ms")
    ]
    assert len(spooled) == 798 and spool.stats().gaps == 1

    def crash(batch_id: uuid.UUID) -> None:
        raise RuntimeError("killed between the server's 200 and mark_sent")

    real_mark_sent = spool.mark_sent
    spool.mark_sent = crash  # type: ignore[method-assign]
    up = Uploader(spool, api.url, api.token, max_batch_beats=250)
    with pytest.raises(RuntimeError, match="killed"):
        await up.upload_pending()
    await up.aclose()
    spool.mark_sent = real_mark_sent  # type: ignore[method-assign]

    up = Uploader(spool, api.url, api.token, max_batch_beats=250)
    result = await up.upload_pending()
    await up.aclose()
    assert result.complete
    assert result.duplicates == 250  # the first batch came again under the same id
    assert result.accepted == 798 - 250
    assert stored(api) == spooled
    spool.close()


async def test_wrong_device_token_is_rejected_by_the_api(api: Api, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    record(spool, time.time() - 900)
    up = Uploader(spool, api.url, "stdev_" + secrets.token_urlsafe(32))
    with pytest.raises(DeviceTokenRejected):
        await up.upload_pending()
    await up.aclose()
    assert spool.stats().pending == 798 and stored(api) == []
    spool.close()


async def test_content_the_api_rejects_is_quarantined_with_its_reason(
    api: Api, tmp_path: Path
) -> None:
    """Beats an hour in the future (a laptop clock far ahead) get a 422 with the API's reason; the
    clock check against the server's Date header says so plainly."""
    spool = Spool(tmp_path / "spool.sqlite3")
    record(spool, time.time() + 3600)
    up = Uploader(spool, api.url, api.token, clock=lambda: time.time() + 3600)
    result = await up.upload_pending()
    await up.aclose()
    assert result.quarantined == 1 and result.error is None
    (held,) = spool.quarantined()
    assert held.status == 422 and "future" in held.reason
    assert spool.stats().pending == 798 and stored(api) == []
    assert up.clock_check.agrees is False
    assert up.clock_check.offset_s is not None and 3590 < up.clock_check.offset_s < 3610
    spool.close()
