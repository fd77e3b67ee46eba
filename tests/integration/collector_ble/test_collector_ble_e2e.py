"""End to end: the real bleak client and recorder over a bumble-emulated strap into the spool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from collector.ble import Backoff, LinkState, StrapClient
from collector.emulation.radio import VirtualRadio
from collector.emulation.session import Notification, stream_lockstep, wait_until
from collector.emulation.strap import EmulatedStrap, VirtualClock
from collector.recorder import Recorder, RecordingSummary
from collector.spool import Spool

pytestmark = pytest.mark.integration

START_S = 1_714_920_600.0
FAST_BACKOFF = Backoff(initial_s=0.01, max_s=0.05)


def all_spooled(spool: Spool) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Every beat ``(t_ms, rr_ticks)`` and gap ``(start_ms, end_ms)`` in the spool, in order."""
    beats: list[tuple[int, int]] = []
    gaps: list[tuple[int, int]] = []
    while (batch := spool.next_batch(100_000)) is not None:
        beats += [(b.t_ms, b.rr_ticks) for b in batch.beats]
        gaps += [(g.start_ms, g.end_ms) for g in batch.gaps]
        spool.mark_sent(batch.batch_id)
    return beats, gaps


class Rig:
    """A strap on a virtual clock, the real client and recorder, and a spool in tmp_path."""

    def __init__(self, radio: VirtualRadio, tmp_path: Path, **strap_kwargs: object) -> None:
        self.clock = VirtualClock(START_S)
        self.radio = radio
        self.strap = EmulatedStrap(clock=self.clock, **strap_kwargs)  # type: ignore[arg-type]
        self.spool = Spool(tmp_path / "spool.sqlite3")
        self.stop = asyncio.Event()
        self.client: StrapClient | None = None
        self.recorder: Recorder | None = None
        self.task: asyncio.Task[RecordingSummary] | None = None

    async def start(self, *, ecg_path: Path | None = None, target: str | None = None) -> None:
        await self.radio.add_strap(self.strap)
        self.client = StrapClient(
            target or self.strap.address,
            backend=self.radio.backend,
            clock=self.clock,
            scan_timeout_s=0.3,
            backoff=FAST_BACKOFF,
            ecg=ecg_path is not None,
        )
        self.recorder = Recorder(self.spool, self.client, ecg_path=ecg_path, clock=self.clock)
        self.task = asyncio.create_task(self.recorder.run(self.stop))
        await self.strap.wait_subscribed()

    async def finish(self) -> RecordingSummary:
        assert self.client is not None and self.task is not None
        self.stop.set()
        return await asyncio.wait_for(self.task, 10)

    async def drain(self) -> None:
        """Wait until the recorder handled every event the client queued."""
        assert self.client is not None
        await wait_until(lambda: self.client is not None and self.client.events.empty())


async def test_ten_minute_session_every_beat_in_order(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification]
) -> None:
    """798 real RR values (tests/data/polar_h10_rr.csv) reach the spool: all, in order, exact."""
    rig = Rig(radio, tmp_path)
    await rig.start()
    assert rig.client is not None
    delivered = await stream_lockstep(rig.strap, rig.client, session)
    assert delivered == len(session)
    await rig.drain()
    summary = await rig.finish()

    sent_ticks = [t for n in session for t in n.rr_ticks]
    beats, gaps = all_spooled(rig.spool)
    assert len(sent_ticks) == 798
    assert [ticks for _, ticks in beats] == sent_ticks
    times = [t for t, _ in beats]
    assert times == sorted(times) and len(set(times)) == len(times)
    # The virtual clock is exact, so the last beat sits at the last notification's arrival.
    assert abs(times[-1] - rig.clock() * 1000) <= 1
    assert summary.beats_spooled == 798 and summary.dropped == 0 and summary.malformed == 0
    assert summary.connections == 1
    # The first beat starts the recording: one gap only when resuming, none here.
    assert all(start is None or start < end for start, end in gaps)


async def test_link_drop_mid_stream_is_a_gap_and_nothing_else_is_missing(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification]
) -> None:
    """Beats sent while the link is down are a recorded gap; every other beat is stored."""
    rig = Rig(radio, tmp_path)
    await rig.start()
    assert rig.client is not None
    first, lost, rest = session[:200], session[200:215], session[215:]
    await stream_lockstep(rig.strap, rig.client, first)
    await rig.strap.drop()  # reason 0x08, supervision timeout
    drop_s = rig.clock()
    # The strap keeps beating while nobody listens: these never reach the collector.
    for n in lost:
        assert not await rig.strap.send(n.heart_rate_bpm, n.rr_ticks)
    await rig.strap.wait_subscribed()
    await stream_lockstep(rig.strap, rig.client, rest)
    await rig.drain()
    summary = await rig.finish()

    beats, gaps = all_spooled(rig.spool)
    expected = [t for n in first + rest for t in n.rr_ticks]
    assert [ticks for _, ticks in beats] == expected
    times = [t for t, _ in beats]
    assert times == sorted(times)
    assert summary.connections == 2
    last_before = times[sum(len(n.rr_ticks) for n in first) - 1]
    first_after = times[sum(len(n.rr_ticks) for n in first)]
    assert len(gaps) == 1
    gap_start, gap_end = gaps[0]
    assert gap_start == last_before and gap_end == first_after
    lost_ms = sum(t for n in lost for t in n.rr_ticks) * 1000 / 1024
    assert first_after - last_before >= lost_ms
    assert drop_s * 1000 - 1 <= last_before + 1


async def test_strap_vanishes_and_returns_client_reconnects_with_backoff(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification]
) -> None:
    """Out of range: searches fail (StrapNotFound, backoff), then it reconnects when back."""
    rig = Rig(radio, tmp_path)
    await rig.start()
    assert rig.client is not None
    client = rig.client
    await stream_lockstep(rig.strap, client, session[:50])
    await rig.strap.vanish()
    await wait_until(
        lambda: client.state is LinkState.WAITING and "not found" in (client.last_error or "")
    )
    assert not rig.strap.connected
    lost = session[50:60]
    for n in lost:
        assert not await rig.strap.send(n.heart_rate_bpm, n.rr_ticks)
    await rig.strap.reappear()
    await rig.strap.wait_subscribed()
    await stream_lockstep(rig.strap, client, session[60:120])
    await rig.drain()
    summary = await rig.finish()
    beats, gaps = all_spooled(rig.spool)
    assert [t for _, t in beats] == [t for n in session[:50] + session[60:120] for t in n.rr_ticks]
    assert summary.connections == 2 and len(gaps) == 1


async def test_garbage_packets_are_counted_not_stored(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification]
) -> None:
    """Malformed notifications never crash the client nor become beats; impossible RR values
    are dropped and counted."""
    rig = Rig(radio, tmp_path)
    await rig.start()
    assert rig.client is not None
    garbage = [b"", b"\x10", b"\x10\x48\x01", b"\xe0\x48", b"\x01\x48", b"\x18\x48\x00"]
    await stream_lockstep(rig.strap, rig.client, session[:10])
    for packet in garbage:
        target = rig.client.notifications_received + 1
        assert await rig.strap.notify_raw(packet)
        await wait_until(
            lambda t=target: rig.client is not None and rig.client.notifications_received >= t
        )
    # Well-formed packets with impossible RR (Polar H10 garbage such as 0 or 28 ticks, see
    # firmware_notes): dropped and counted, the plausible value beside them is kept.
    impossible = [Notification(72, (28,)), Notification(72, (0, 900))]
    await stream_lockstep(rig.strap, rig.client, impossible)
    await stream_lockstep(rig.strap, rig.client, session[10:20])
    await rig.drain()
    summary = await rig.finish()
    beats, _ = all_spooled(rig.spool)
    expected = [t for n in session[:10] for t in n.rr_ticks] + [900]
    assert [t for _, t in beats] == expected + [t for n in session[10:20] for t in n.rr_ticks]
    assert summary.malformed == len(garbage)
    assert summary.dropped == 2
    assert summary.connections == 1


async def test_battery_and_device_information_are_read_and_stored(
    radio: VirtualRadio, tmp_path: Path, session: list[Notification]
) -> None:
    rig = Rig(
        radio,
        tmp_path,
        name="TICKR 1A2B",
        manufacturer="Wahoo Fitness",
        model="TICKR",
        firmware="2.4.1",
        battery_pct=42,
    )
    await rig.start(target="TICKR 1A2B")
    assert rig.client is not None and rig.recorder is not None
    await stream_lockstep(rig.strap, rig.client, session[:5])
    await rig.strap.set_battery(41)
    await wait_until(lambda: rig.recorder is not None and rig.recorder.state.battery_pct == 41)
    strap = rig.recorder.state.strap
    assert strap is not None
    manufacturer = rig.recorder.state.manufacturer
    assert (strap.name, manufacturer, strap.model, strap.firmware, strap.battery_pct) == (
        "TICKR 1A2B",
        "Wahoo Fitness",
        "TICKR",
        "2.4.1",
        42,
    )
    await rig.finish()
    stored = rig.spool.strap_info()
    assert (stored.address, stored.model, stored.firmware, stored.battery_pct) == (
        rig.strap.address,
        "TICKR",
        "2.4.1",
        42,
    )
