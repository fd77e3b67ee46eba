"""Uploader against a real local HTTP server implementing the ingest contract (see conftest)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collector.beats import Beat, Gap
from collector.spool import Spool
from collector.uploader import (
    DeviceTokenRejected,
    Uploader,
    UploadError,
    batch_payload,
)
from wire import StrapInfo

from .conftest import TOKEN, IngestServer

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "data"
T = 1_790_000_000_000


def fill(spool: Spool, n: int, start: int = T) -> list[int]:
    times = [start + i * 900 for i in range(n)]
    spool.append([Beat(t, 920) for t in times], [Gap(start - 3000, start)])
    return times


def fast_uploader(spool: Spool, url: str, token: str = TOKEN, **kw: object) -> Uploader:
    opts: dict[str, object] = {
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.2,
        "poll_interval_s": 0.02,
        "min_interval_s": 0.02,
        "prune_interval_s": 0.0,
    }
    opts.update(kw)
    return Uploader(spool, url, token, **opts)  # type: ignore[arg-type]


async def until(predicate: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    """Wait for a condition (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        await asyncio.sleep(0.02)


def assert_exactly_once(server: IngestServer, expected_times: set[int]) -> None:
    store = server.store
    assert set(store.beats) == expected_times
    assert all(store.receipts[t] == 1 for t in expected_times), "a beat arrived in two batches"


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool(tmp_path / "spool.sqlite3")
    yield s
    s.close()


async def test_2xx_marks_batches_sent_and_payload_follows_contract(
    ingest_server: IngestServer, spool: Spool
) -> None:
    spool.set_strap_info(
        StrapInfo(
            address="AA:BB:CC:DD:EE:FF",
            name="Polar H10 1",
            model="H10",
            firmware="3.2.0",
            battery_pct=88,
        )
    )
    times = fill(spool, 12_000)
    up = fast_uploader(spool, ingest_server.url)
    result = await up.upload_pending()
    await up.aclose()
    assert result.complete
    assert (result.batches_sent, result.accepted, result.duplicates) == (3, 12_000, 0)
    assert_exactly_once(ingest_server, set(times))
    assert ingest_server.store.gaps == {(T - 3000, T)}
    assert ingest_server.store.straps[0] == {
        "address": "AA:BB:CC:DD:EE:FF",
        "name": "Polar H10 1",
        "model": "H10",
        "firmware": "3.2.0",
        "battery_pct": 88,
    }
    st = spool.stats()
    assert (st.uploaded, st.pending, st.pending_gaps) == (12_000, 0, 0)
    assert spool.next_batch() is None


async def test_server_down_is_retried_until_it_comes_up(
    stopped_ingest_server: IngestServer, spool: Spool
) -> None:
    times = fill(spool, 300)
    up = fast_uploader(spool, stopped_ingest_server.url)
    first = await up.upload_pending()
    assert first.error is not None and "cannot reach" in first.error
    assert first.pending == 300
    stop = asyncio.Event()
    task = asyncio.create_task(up.run(stop))
    await until(lambda: up.failures >= 3, "three failed rounds while the server is down")
    stopped_ingest_server.start()
    await until(lambda: spool.stats().pending == 0, "spool drained after the server came up")
    stop.set()
    await task
    assert up.failures == 0
    assert_exactly_once(stopped_ingest_server, set(times))


async def test_5xx_is_retried_with_the_same_batch_id(
    ingest_server: IngestServer, spool: Spool
) -> None:
    times = fill(spool, 100)
    ingest_server.store.fail_next = [503, 500, 502]
    up = fast_uploader(spool, ingest_server.url)
    result = await up.upload_pending()
    assert result.error is not None and "503" in result.error and result.pending == 100
    stop = asyncio.Event()
    task = asyncio.create_task(up.run(stop))
    await until(lambda: spool.stats().pending == 0, "spool drained after 5xx")
    stop.set()
    await task
    assert_exactly_once(ingest_server, set(times))
    (batch_id,) = ingest_server.store.batches
    assert ingest_server.store.attempts[batch_id] == 4  # 3 failures, then the same id succeeded


async def test_crash_between_send_and_mark_resends_same_batch_counted_as_duplicate(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    times = fill(spool, 50)

    def crash(batch_id: uuid.UUID) -> None:
        raise RuntimeError("process died before marking the batch sent")

    spool.mark_sent = crash  # type: ignore[method-assign]
    up = fast_uploader(spool, ingest_server.url)
    with pytest.raises(RuntimeError, match="process died"):
        await up.upload_pending()
    await up.aclose()
    spool.close()
    sent_id = next(iter(ingest_server.store.batches))

    reopened = Spool(path)
    pending = reopened.next_batch()
    assert pending is not None and str(pending.batch_id) == sent_id
    up2 = fast_uploader(reopened, ingest_server.url)
    result = await up2.upload_pending()
    await up2.aclose()
    assert result.complete and result.duplicates == 50 and result.accepted == 0
    assert ingest_server.store.duplicate_batches == 1
    assert_exactly_once(ingest_server, set(times))
    reopened.close()


async def test_401_raises_typed_error_and_keeps_beats(
    ingest_server: IngestServer, spool: Spool
) -> None:
    fill(spool, 10)
    up = fast_uploader(spool, ingest_server.url, token="wrong-token")
    with pytest.raises(DeviceTokenRejected, match="401"):
        await up.upload_pending()
    with pytest.raises(DeviceTokenRejected):
        await up.run(asyncio.Event())
    assert spool.stats().pending == 10
    assert ingest_server.store.beats == {}


async def test_a_refused_batch_is_quarantined_and_later_batches_flow(
    ingest_server: IngestServer, spool: Spool
) -> None:
    times = fill(spool, 30)
    ingest_server.store.fail_next = [422]
    up = fast_uploader(spool, ingest_server.url, max_batch_beats=10)
    result = await up.upload_pending()
    assert result.error is None and result.quarantined == 1 and result.batches_sent == 2
    assert result.pending == 10 and result.quarantined_pending == 10
    (held,) = spool.quarantined()
    assert held.status == 422 and "injected failure 422" in held.reason and held.beats == 10
    assert (held.first_t_ms, held.last_t_ms) == (times[0], times[9])
    assert spool.stats().quarantined_batches == 1
    assert "refused" in (up.last_error or "")
    # Nothing more is sent until it is retried on demand; then the same batch goes through.
    again = await up.upload_pending()
    assert again.batches_sent == 0 and again.pending == 10
    assert spool.release_quarantine() == 1
    result = await up.upload_pending()
    await up.aclose()
    assert result.complete and result.accepted == 10
    assert ingest_server.store.attempts[str(held.batch_id)] == 2
    assert spool.quarantined() == [] and spool.stats().quarantined_batches == 0
    assert_exactly_once(ingest_server, set(times))


async def test_413_splits_batches_until_they_fit(ingest_server: IngestServer, spool: Spool) -> None:
    times = fill(spool, 3500)
    ingest_server.store.max_beats = 1000
    up = fast_uploader(spool, ingest_server.url, max_batch_beats=5000)
    result = await up.upload_pending()
    await up.aclose()
    assert result.complete and result.duplicates == 0
    assert up.max_batch_beats <= 1000
    assert_exactly_once(ingest_server, set(times))


async def test_413_for_a_single_beat_is_quarantined(
    ingest_server: IngestServer, spool: Spool
) -> None:
    fill(spool, 1)
    ingest_server.store.max_beats = 0
    up = fast_uploader(spool, ingest_server.url)
    result = await up.upload_pending()
    await up.aclose()
    assert result.quarantined == 1 and spool.stats().pending == 1
    assert [q.status for q in spool.quarantined()] == [413]


async def test_run_prunes_uploaded_beats_after_retention(
    ingest_server: IngestServer, spool: Spool
) -> None:
    fill(spool, 20)
    up = fast_uploader(spool, ingest_server.url, retention_s=0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(up.run(stop))
    await until(
        lambda: spool._conn.execute("SELECT count(*) FROM beats").fetchone()[0] == 0,
        "uploaded beats pruned",
    )
    stop.set()
    await task
    st = spool.stats()
    assert (st.spooled, st.uploaded, st.pending) == (20, 20, 0)


@pytest.mark.parametrize(
    ("url", "token"), [("ftp://host", TOKEN), ("127.0.0.1:8000", TOKEN), ("http://h", "")]
)
def test_bad_configuration_is_a_typed_error(spool: Spool, url: str, token: str) -> None:
    with pytest.raises(UploadError):
        Uploader(spool, url, token)


def test_payload_shape(spool: Spool) -> None:
    fill(spool, 2)
    batch = spool.next_batch()
    assert batch is not None
    payload = batch_payload(batch)
    assert set(payload) == {"batch_id", "beats", "gaps", "strap"}
    assert payload["beats"] == [{"t_ms": T, "rr_ticks": 920}, {"t_ms": T + 900, "rr_ticks": 920}]
    assert payload["gaps"] == [{"start_ms": T - 3000, "end_ms": T}]
    assert set(payload["strap"]) == {"address", "name", "model", "firmware", "battery_pct"}
    assert uuid.UUID(payload["batch_id"]) == batch.batch_id


def run_child(
    server: IngestServer, spool_path: Path, base_s: float, pace_s: float, kill_after: int = 0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "record_child.py"),
            str(spool_path),
            server.url,
            TOKEN,
            str(DATA / "polar_h10_rr.csv"),
            repr(base_s),
            repr(pace_s),
            str(kill_after),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def spool_times(path: Path) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT t_ms FROM beats")}
    finally:
        conn.close()


def finish(child: subprocess.Popen[str]) -> str:
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    return out


def test_sigkill_recording_mid_stream_then_restart_uploads_every_spooled_beat_once(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    path = tmp_path / "spool.sqlite3"
    base_s = 1_790_000_000.0
    child = run_child(ingest_server, path, base_s, pace_s=0.01)
    assert child.stdout is not None
    spooled = 0
    for line in child.stdout:
        spooled = int(line.split()[1])
        if spooled >= 300 and ingest_server.store.batches:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    before_restart = spool_times(path)
    assert len(before_restart) >= 300
    assert set(ingest_server.store.beats) <= before_restart

    out = finish(run_child(ingest_server, path, base_s, pace_s=0.0))
    assert out.strip().endswith("done")
    all_spooled = spool_times(path)
    assert before_restart <= all_spooled and len(all_spooled) > len(before_restart)
    assert_exactly_once(ingest_server, all_spooled)
    # The restart resumed after the last spooled beat and recorded the dead time as a gap.
    resume = max(before_restart)
    assert any(start == resume for start, _ in ingest_server.store.gaps)
    s = Spool(path)
    assert s.stats().pending == 0 and s.stats().uploaded == len(all_spooled)
    s.close()


def test_sigkill_between_ack_and_mark_then_restart_is_exactly_once(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    path = tmp_path / "spool.sqlite3"
    base_s = 1_790_000_000.0
    child = run_child(ingest_server, path, base_s, pace_s=0.002, kill_after=3)
    child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL
    acknowledged = len(ingest_server.store.batches)
    assert acknowledged >= 3

    finish(run_child(ingest_server, path, base_s, pace_s=0.0))
    all_spooled = spool_times(path)
    assert ingest_server.store.duplicate_batches >= 1  # the acked-but-unmarked batch came again
    assert_exactly_once(ingest_server, all_spooled)


async def test_wake_uploads_new_beats_without_waiting_for_the_poll(
    ingest_server: IngestServer, spool: Spool
) -> None:
    up = fast_uploader(spool, ingest_server.url, poll_interval_s=3600.0)
    stop = asyncio.Event()
    task = asyncio.create_task(up.run(stop))
    await until(lambda: up._last_round > float("-inf"), "first (empty) round")
    await asyncio.sleep(0.1)  # let it finish and go idle for an hour
    times = fill(spool, 40)
    up.wake()
    await until(lambda: set(ingest_server.store.beats) == set(times), "beats uploaded after wake")
    stop.set()
    await task
