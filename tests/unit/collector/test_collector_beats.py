"""Beat-time reconstruction (see firmware_notes/beat-time-reconstruction.md)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.beats import Beat, BeatClock, ClockOutput, Gap
from collector.gatt import HeartRateMeasurement
from collector.quirks import is_plausible_rr_ms

T0_S = 1_790_000_000.0  # an epoch second in 2026


def hrm(rr_ticks: tuple[int, ...]) -> HeartRateMeasurement:
    return HeartRateMeasurement(
        heart_rate_bpm=60,
        sensor_contact=True,
        energy_expended_kj=None,
        rr_ticks=rr_ticks,
        rr_ms=tuple(t * 1000 / 1024 for t in rr_ticks),
        contact_supported=True,
    )


def collect(outputs: list[ClockOutput]) -> tuple[list[Beat], list[Gap], int]:
    beats = [b for o in outputs for b in o.beats]
    gaps = [g for o in outputs for g in o.gaps]
    return beats, gaps, sum(o.dropped for o in outputs)


def assert_strictly_increasing(beats: list[Beat]) -> None:
    times = [b.t_ms for b in beats]
    assert all(a < b for a, b in itertools.pairwise(times)), "beats out of order"


def simulate(
    rr_true_ms: list[float],
    *,
    strap_rate: float = 1.0,
    jitter_ms: float = 0.0,
    seed: int = 1,
    clock: BeatClock | None = None,
    start_s: float = T0_S,
) -> tuple[BeatClock, list[ClockOutput], list[float], list[float]]:
    """Stream true RR intervals as a strap would: ~1 Hz notifications of the beats completed since
    the previous one. The strap's clock runs ``strap_rate`` times the wall clock (1.005 = 0.5 %
    fast: it reports each interval 0.5 % long). Arrival = last beat + latency 0..2*jitter."""
    rng = random.Random(seed)
    clock = clock or BeatClock()
    clock.on_connect(start_s)
    true_ms: list[float] = []
    t = start_s * 1000
    for rr in rr_true_ms:
        t += rr
        true_ms.append(t)
    outputs: list[ClockOutput] = []
    sent_ticks: list[float] = []
    next_notify = start_s * 1000 + 1000
    i = 0
    while i < len(true_ms):
        batch: list[int] = []
        while i < len(true_ms) and true_ms[i] <= next_notify:
            ticks = round(rr_true_ms[i] * strap_rate * 1.024)
            batch.append(ticks)
            sent_ticks.append(ticks)
            i += 1
        if batch:
            arrival = next_notify + rng.uniform(-jitter_ms, jitter_ms)
            arrival = max(arrival, true_ms[i - 1])
            outputs.append(clock.on_notification(hrm(tuple(batch)), arrival / 1000))
        next_notify += 1000
    return clock, outputs, true_ms, sent_ticks


def test_first_notification_anchors_last_beat_at_arrival() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    out = clock.on_notification(hrm((1024, 512)), T0_S + 1.0)
    assert out.beats == [Beat(round(T0_S * 1000 + 500), 1024), Beat(round(T0_S * 1000 + 1000), 512)]
    assert out.gaps == [] and out.dropped == 0
    assert clock.last_beat_ms == out.beats[-1].t_ms


def test_following_beats_advance_by_their_rr_when_on_time() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    clock.on_notification(hrm((1024,)), T0_S + 1.0)
    out = clock.on_notification(hrm((1024,)), T0_S + 2.0)
    assert out.beats == [Beat(round(T0_S * 1000 + 2000), 1024)]
    assert clock.last_error_ms == 0.0


def test_real_recording_every_beat_in_order_with_its_rr(polar_notifications: Any) -> None:
    """tests/data/polar_h10_rr.csv replayed at its real notification times."""
    clock = BeatClock()
    clock.on_connect(T0_S)
    outputs = []
    sent: list[int] = []
    for n in polar_notifications:
        ticks = tuple(round(rr * 1.024) for rr in n.rr_ms)
        sent.extend(ticks)
        outputs.append(clock.on_notification(hrm(ticks), T0_S + n.t_offset_ms / 1000))
    beats, gaps, dropped = collect(outputs)
    assert [b.rr_ticks for b in beats] == sent
    assert len(beats) == 798 and gaps == [] and dropped == 0
    assert_strictly_increasing(beats)


@pytest.mark.parametrize("strap_rate", [1.005, 0.995], ids=["strap-0.5%-fast", "strap-0.5%-slow"])
def test_drift_of_half_a_percent_stays_bounded_for_an_hour(
    polar_rr_ms: list[int], strap_rate: float
) -> None:
    """A strap clock 0.5 % off would be 18 s off after an hour; the loop keeps it near the wall
    clock while ±200 ms arrival jitter is applied, without reordering or gaps."""
    rr = [float(x) for x in polar_rr_ms] * 8  # ~80 minutes of real RR
    _, outputs, true_ms, sent = simulate(rr, strap_rate=strap_rate, jitter_ms=200.0)
    beats, gaps, dropped = collect(outputs)
    assert len(beats) == len(true_ms) and gaps == [] and dropped == 0
    assert [b.rr_ticks for b in beats] == sent
    assert_strictly_increasing(beats)
    errors = [b.t_ms - t for b, t in zip(beats, true_ms, strict=True)]
    # Beats are placed from arrivals, which follow the true beat by 0..1 s (notification period)
    # ± latency; the clock tracks the early arrivals, so the offset is small, bounded and must
    # not grow.
    assert max(abs(e) for e in errors) < 1000.0
    assert -200.0 < sum(errors) / len(errors) < 450.0
    quarter = len(errors) // 4
    first = sum(errors[:quarter]) / quarter
    last = sum(errors[-quarter:]) / quarter
    assert abs(last - first) < 150.0
    # Without correction the last beat would be ~0.5 % × 80 min ≈ 24 s away.
    assert abs(errors[-1]) < 1000.0


def test_jitter_alone_does_not_disturb_intervals(polar_rr_ms: list[int]) -> None:
    """±200 ms latency jitter moves beats by a few ms at most relative to their neighbours."""
    rr = [float(x) for x in polar_rr_ms]
    _, outputs, _, sent = simulate(rr, jitter_ms=200.0, seed=7)
    beats, _, _ = collect(outputs)
    for prev, cur, ticks in zip(beats, beats[1:], sent[1:], strict=False):
        rr_ms = ticks * 1000 / 1024
        # Slew ≤ 2 % of the interval plus 1 ms of rounding.
        assert abs((cur.t_ms - prev.t_ms) - rr_ms) <= 0.02 * rr_ms + 1.0


def test_disconnect_records_a_gap_and_invents_no_beats() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    first = [clock.on_notification(hrm((1024,)), T0_S + s) for s in range(1, 11)]
    clock.on_disconnect(T0_S + 10.5)
    assert not clock.connected
    clock.on_connect(T0_S + 40.0)
    second = [clock.on_notification(hrm((1024,)), T0_S + s) for s in range(41, 51)]
    beats, gaps, _ = collect(first + second)
    assert len(beats) == 20
    last_before = first[-1].beats[-1].t_ms
    first_after = second[0].beats[0].t_ms
    assert gaps == [Gap(last_before, first_after)]
    assert first_after == round((T0_S + 41) * 1000)
    assert not [b for b in beats if last_before < b.t_ms < first_after]
    assert_strictly_increasing(beats)


def test_silence_longer_than_the_jump_threshold_is_a_gap() -> None:
    """Notifications stop for 8 s without a disconnect (e.g. contact lost): a gap, no beats."""
    clock = BeatClock()
    clock.on_connect(T0_S)
    outs = [clock.on_notification(hrm((1024,)), T0_S + s) for s in range(1, 6)]
    late = clock.on_notification(hrm((1024,)), T0_S + 14.0)
    assert late.gaps == [Gap(outs[-1].beats[-1].t_ms, round((T0_S + 14.0) * 1000))]
    assert [b.t_ms for b in late.beats] == [round((T0_S + 14.0) * 1000)]


def test_small_delay_is_absorbed_without_a_gap() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    for s in range(1, 6):
        clock.on_notification(hrm((1024,)), T0_S + s)
    out = clock.on_notification(hrm((1024,)), T0_S + 7.5)  # 1.5 s late: within jitter + period
    assert out.gaps == []


def test_impossible_rr_is_dropped_and_counted_never_a_beat() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    out = clock.on_notification(hrm((0, 819, 28, 65535, 100)), T0_S + 1.0)
    assert [b.rr_ticks for b in out.beats] == [819]
    assert out.dropped == 4
    assert clock.on_notification(hrm((0,)), T0_S + 2.0) == ClockOutput(dropped=1, contact=True)


def test_wall_clock_stepping_back_never_reorders() -> None:
    clock = BeatClock()
    clock.on_connect(T0_S)
    before = clock.on_notification(hrm((1024, 1024)), T0_S + 2.0)
    clock.on_disconnect(T0_S + 2.5)
    clock.on_connect(T0_S - 60.0)  # NTP stepped the wall clock back a minute
    after = clock.on_notification(hrm((1024,)), T0_S - 59.0)
    assert after.beats[0].t_ms > before.beats[-1].t_ms
    assert after.gaps == [Gap(before.beats[-1].t_ms, after.beats[0].t_ms)]


def test_resume_after_restart_starts_with_a_gap_from_the_spooled_beat() -> None:
    resume = round((T0_S + 100) * 1000)
    clock = BeatClock(resume_after_ms=resume)
    clock.on_connect(T0_S + 130)
    out = clock.on_notification(hrm((1024,)), T0_S + 131)
    assert out.gaps == [Gap(resume, round((T0_S + 131) * 1000))]
    # A resume point that is ahead of the new beats (clock went back) still keeps order.
    clock2 = BeatClock(resume_after_ms=resume)
    out2 = clock2.on_notification(hrm((1024,)), T0_S + 50)
    assert out2.beats[0].t_ms > resume


def test_beat_rr_ms_is_exact() -> None:
    assert Beat(0, 819).rr_ms == 799.8046875


event = st.one_of(
    st.tuples(
        st.just("n"),
        st.lists(st.integers(0, 65535), max_size=9),
        st.floats(0.0, 6.0),
    ),
    st.tuples(st.just("d"), st.just([]), st.floats(0.0, 60.0)),
)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(event, max_size=60))
def test_any_event_sequence_keeps_invariants(events: list[tuple[str, list[int], float]]) -> None:
    """Whatever arrives: beats strictly increase, each plausible RR is one beat, each impossible
    RR is counted as dropped, and every gap ends on a beat."""
    clock = BeatClock()
    wall = T0_S
    clock.on_connect(wall)
    outputs: list[ClockOutput] = []
    plausible = impossible = 0
    for kind, rr, dt in events:
        wall += dt
        if kind == "d":
            clock.on_disconnect(wall)
            wall += 0.1
            clock.on_connect(wall)
            continue
        plausible += sum(1 for t in rr if is_plausible_rr_ms(t * 1000 / 1024))
        impossible += sum(1 for t in rr if not is_plausible_rr_ms(t * 1000 / 1024))
        outputs.append(clock.on_notification(hrm(tuple(rr)), wall))
    beats, gaps, dropped = collect(outputs)
    assert len(beats) == plausible
    assert dropped == impossible
    assert_strictly_increasing(beats)
    times = {b.t_ms for b in beats}
    for g in gaps:
        assert g.start_ms < g.end_ms and g.end_ms in times
