"""Every 0x2A37 flag form and RR batches of 0–9 values through the real client; Polar PMD ECG."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from collector.ble import Backoff, Measurement, StrapClient
from collector.ecg import read_ecg_csv
from collector.emulation.hrm import ALL_FLAG_FORMS, FlagForm
from collector.emulation.radio import VirtualRadio
from collector.emulation.session import Notification, wait_until
from collector.emulation.strap import EcgSource, EmulatedStrap, VirtualClock
from collector.recorder import Recorder
from collector.spool import Spool

pytestmark = pytest.mark.integration

ECG_NPZ = Path(__file__).resolve().parents[2] / "data" / "polar_h10_ecg130hz.npz"


async def test_every_flag_form_and_rr_batches_of_0_to_9(radio: VirtualRadio) -> None:
    """All 24 flag forms (8/16-bit HR, contact states, energy, RR) with 0..9 RR values arrive
    parsed exactly as encoded."""
    clock = VirtualClock(1_700_000_000.0)
    strap = await radio.add_strap(EmulatedStrap(clock=clock))
    client = StrapClient(strap.address, backend=radio.backend, clock=clock, scan_timeout_s=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    await strap.wait_subscribed()
    sent: list[tuple[FlagForm, int, tuple[int, ...], int]] = []
    for i, form in enumerate(ALL_FLAG_FORMS):
        for n_rr in range(10) if form.rr else [0]:
            hr = 300 + i if form.hr_uint16 else 40 + i
            rr = tuple(700 + 37 * k + n_rr for k in range(n_rr))
            energy = 1000 + i * 10 + n_rr
            target = client.notifications_received + 1
            assert await strap.send(hr, rr, form=form, energy_expended_kj=energy)
            await wait_until(lambda t=target: client.notifications_received >= t)
            sent.append((form, hr, rr, energy))
    stop.set()
    await asyncio.wait_for(task, 10)
    got = []
    while not client.events.empty():
        event = client.events.get_nowait()
        if isinstance(event, Measurement):
            got.append(event.measurement)
    assert len(got) == len(sent) == 12 * 10 + 12
    for m, (form, hr, rr, energy) in zip(got, sent, strict=True):
        assert m.heart_rate_bpm == hr
        assert m.rr_ticks == rr
        assert m.rr_ms == tuple(t * 1000 / 1024 for t in rr)
        assert m.energy_expended_kj == (energy if form.energy else None)
        expected_contact = {"unsupported": None, "no_contact": False, "contact": True}
        assert m.sensor_contact is expected_contact[form.contact]
        assert m.contact_supported is (form.contact != "unsupported")


async def test_record_ecg_writes_the_source_samples(radio: VirtualRadio, tmp_path: Path) -> None:
    """The emulated H10 streams tests/data/polar_h10_ecg130hz.npz over Polar PMD; ``record --ecg``'s
    recorder writes exactly those µV values, and sample times close to the source's."""
    source = EcgSource.from_npz(ECG_NPZ)
    clock = VirtualClock(1_714_920_600.0)
    strap = await radio.add_strap(EmulatedStrap(clock=clock, ecg_source=source))
    client = StrapClient(
        strap.name,
        backend=radio.backend,
        clock=clock,
        scan_timeout_s=0.5,
        ecg=True,
        backoff=Backoff(0.01, 0.05),
    )
    spool = Spool(tmp_path / "spool.sqlite3")
    ecg_path = tmp_path / "ecg" / "ecg.csv"
    recorder = Recorder(spool, client, ecg_path=ecg_path, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    await strap.wait_subscribed()
    await strap.send(60, [Notification(60, (1024,)).rr_ticks[0]])
    await asyncio.wait_for(strap.ecg_done.wait(), 60)
    await wait_until(lambda: recorder.state.ecg_samples == len(source.samples_uv), 30)
    stop.set()
    summary = await asyncio.wait_for(task, 10)
    assert summary.ecg_path == ecg_path
    times, values = read_ecg_csv(ecg_path)
    assert values == source.samples_uv.tolist()
    errors_ns = np.abs(np.asarray(times) - source.times_unix_ns)
    first_frame = len(source.samples_uv) // strap.ecg_frames_sent
    # The first frame is spread at the nominal 130 Hz, later ones between frame timestamps.
    assert errors_ns[:first_frame].max() < 1_000_000
    assert errors_ns[first_frame + 1 :].max() < 100_000
    assert strap.ecg_frames_sent > 1 and summary.beats_spooled == 1
