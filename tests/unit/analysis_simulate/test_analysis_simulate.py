"""Tests of analysis.simulate: reproducibility, calibration, rhythms, artefacts and timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.signal import welch

from analysis.errors import AnalysisError
from analysis.simulate import SimulationError, simulate_rr
from somatrace.demo.story import SimulatedPatient, simulate_patient

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _ln_rmssd(rr: NDArray[np.float64]) -> float:
    return float(np.log(np.sqrt(np.mean(np.diff(rr) ** 2))))


def _tachogram(rr: NDArray[np.float64], fs: float = 4.0) -> NDArray[np.float64]:
    t = np.cumsum(rr) / 1000.0
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    out: NDArray[np.float64] = np.interp(grid, t, rr)
    return out - out.mean()


@pytest.fixture(scope="module")
def patient() -> SimulatedPatient:
    return simulate_patient(seed=7, start=START)


def test_same_seed_same_series_other_seed_differs() -> None:
    a = simulate_rr(600, seed=3)
    b = simulate_rr(600, seed=3)
    c = simulate_rr(600, seed=4)
    np.testing.assert_array_equal(a, b)
    assert a.size != c.size or not np.array_equal(a, c)


@pytest.mark.parametrize(("ln_target", "hr"), [(3.0, 75.0), (3.8, 62.0), (4.5, 52.0)])
def test_clean_series_hits_target_rmssd_and_heart_rate(ln_target: float, hr: float) -> None:
    rr = simulate_rr(
        3600, seed=11, ln_rmssd=ln_target, mean_hr_bpm=hr, ectopic_rate=0.0, missed_rate=0.0
    )
    assert abs(_ln_rmssd(rr) - ln_target) < 0.1
    assert abs(60000.0 / rr.mean() - hr) < 4.0
    assert np.cumsum(rr)[-1] <= 3600 * 1000.0
    assert np.cumsum(rr)[-1] > 3590 * 1000.0


def test_respiratory_and_mayer_peaks_where_configured() -> None:
    rr = simulate_rr(3600, seed=5, resp_rate_hz=0.3, lf_hz=0.1, ectopic_rate=0.0, missed_rate=0.0)
    f, p = welch(_tachogram(rr), fs=4.0, nperseg=1024)
    hf = (f >= 0.15) & (f <= 0.4)
    lf = (f >= 0.04) & (f < 0.15)
    assert abs(f[hf][np.argmax(p[hf])] - 0.3) < 0.03
    assert abs(f[lf][np.argmax(p[lf])] - 0.1) < 0.02


def test_sleep_lowers_heart_rate_and_raises_rmssd() -> None:
    rr = simulate_rr(86400, seed=2, start_hour_local=12.0, ectopic_rate=0.0, missed_rate=0.0)
    hour = (12.0 + np.cumsum(rr) / 3.6e6) % 24.0
    night = rr[(hour >= 2.0) & (hour < 4.0)]
    afternoon = rr[(hour >= 14.0) & (hour < 16.0)]
    assert 60000.0 / night.mean() < 60000.0 / afternoon.mean() - 4.0
    assert _ln_rmssd(night) > _ln_rmssd(afternoon) + 0.15


def test_ectopic_pairs_keep_their_sum_and_occur_at_the_set_rate() -> None:
    clean = simulate_rr(3600, seed=9, ectopic_rate=0.0, missed_rate=0.0)
    rr = simulate_rr(3600, seed=9, ectopic_rate=0.02, missed_rate=0.0)
    med = np.median(rr)
    short = np.flatnonzero((rr[:-1] < 0.8 * med) & (rr[1:] > 1.15 * med))
    expected = 0.02 * rr.size
    assert 0.6 * expected < short.size < 1.4 * expected
    assert not np.any((clean[:-1] < 0.8 * med) & (clean[1:] > 1.15 * med))
    # A short-long pair is about twice a normal interval (full compensatory pause).
    pair = rr[short] + rr[short + 1]
    assert np.all(np.abs(pair / (2.0 * med) - 1.0) < 0.3)


def test_missed_beats_give_double_intervals() -> None:
    rr = simulate_rr(3600, seed=9, ectopic_rate=0.0, missed_rate=0.01)
    med = np.median(rr)
    doubles = np.count_nonzero(rr > 1.6 * med)
    expected = 0.01 * rr.size
    assert 0.5 * expected < doubles < 1.5 * expected


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"duration_s": 0.0}, "duration_s"),
        ({"duration_s": float("nan")}, "duration_s"),
        ({"mean_hr_bpm": 10.0}, "mean_hr_bpm"),
        ({"ln_rmssd": 8.0}, "ln_rmssd"),
        ({"resp_rate_hz": 1.0}, "resp_rate_hz"),
        ({"lf_hz": 0.3}, "lf_hz"),
        ({"ectopic_rate": -0.1}, "ectopic_rate"),
        ({"missed_rate": 0.9}, "missed_rate"),
        ({"start_hour_local": 25.0}, "start_hour_local"),
    ],
)
def test_bad_parameters_raise_typed_error(kwargs: dict[str, float], parameter: str) -> None:
    args: dict[str, float] = {"duration_s": 60.0}
    args.update(kwargs)
    duration = args.pop("duration_s")
    with pytest.raises(SimulationError) as info:
        simulate_rr(duration, seed=1, **args)  # type: ignore[arg-type]
    assert isinstance(info.value, AnalysisError)
    assert info.value.fields["parameter"] == parameter


def test_patient_beats_are_sorted_and_ticks_match_beat_times(patient: SimulatedPatient) -> None:
    t = patient.beats_t_ms
    assert t.dtype == np.int64
    assert patient.rr_ticks.dtype == np.int32
    assert t.size == patient.rr_ticks.size > 30 * 20_000
    assert np.all(np.diff(t) > 0)
    assert np.all(patient.rr_ticks > 0)
    within = np.ones(t.size - 1, dtype=bool)
    within[patient.segment_start_index[1:] - 1] = False
    err = np.diff(t)[within] - patient.rr_ticks[1:][within] * (1000.0 / 1024.0)
    assert np.max(np.abs(err)) <= 1.0
    # Between segments there is a real gap, longer than the next beat's interval.
    starts = patient.segment_start_index[1:]
    assert np.all(t[starts] - t[starts - 1] > patient.rr_ticks[starts] * (1000.0 / 1024.0) + 1000)
    assert len(patient.segments) == patient.segment_start_index.size
    np.testing.assert_allclose(patient.rr_ms, patient.rr_ticks * 1000.0 / 1024.0)


def test_first_beat_of_each_segment_ends_its_first_interval(patient: SimulatedPatient) -> None:
    for (seg_start, _), i in zip(patient.segments, patient.segment_start_index, strict=True):
        start_ms = round(seg_start.timestamp() * 1000)
        assert abs(patient.beats_t_ms[i] - start_ms - patient.rr_ticks[i] * 1000 / 1024) <= 1.0


def test_morning_readings_are_short_isolated_and_in_the_morning(
    patient: SimulatedPatient,
) -> None:
    t = patient.beats_t_ms
    assert len(patient.morning_readings) >= 25
    for start, end in patient.morning_readings:
        local = start.astimezone(BERLIN)
        assert 6.8 <= local.hour + local.minute / 60 <= 7.3
        assert 290 <= (end - start).total_seconds() <= 300
        first = int(np.searchsorted(t, round(start.timestamp() * 1000)))
        if first > 0:
            assert (t[first] - t[first - 1]) / 60000.0 >= 30.0


def test_morning_readings_have_the_true_daily_ln_rmssd(patient: SimulatedPatient) -> None:
    truth = patient.true_shift
    diffs = []
    for start, end in patient.morning_readings:
        day = (start.astimezone(BERLIN).date() - patient.local_days[0]).days
        lo, hi = (round(x.timestamp() * 1000) for x in (start, end))
        m = (patient.beats_t_ms > lo) & (patient.beats_t_ms <= hi)
        rr = patient.rr_ms[m]
        med = np.median(rr)
        rr = rr[(rr > 0.8 * med) & (rr < 1.2 * med)]  # drop the rare artefact
        diffs.append(_ln_rmssd(rr) - truth.morning_ln_rmssd[day])
    assert abs(float(np.mean(diffs))) < 0.05
    assert float(np.max(np.abs(diffs))) < 0.3


def test_true_shift_steps_after_each_medicine_session(patient: SimulatedPatient) -> None:
    s = np.asarray(patient.true_shift.shift_by_day)
    assert patient.true_shift.medicine_days == (14, 28)
    assert np.all(s[:15] == 0.0)
    assert np.allclose(s[15:29], 0.15)
    assert np.allclose(s[29:], 0.25)
    d = patient.true_shift.to_dict()
    assert d["shift_after"] == [0.15, 0.10]


def test_missing_days_have_no_beats_on_their_local_date(patient: SimulatedPatient) -> None:
    missing = patient.true_shift.missing_days
    assert len(missing) >= 1
    local_dates = np.array(
        [
            datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(BERLIN).date()
            for ms in patient.beats_t_ms[::500]
        ]
    )
    for d in missing:
        assert patient.local_days[d] not in set(local_dates.tolist())
        assert np.isnan(patient.true_shift.morning_ln_rmssd[d])


def test_sessions_integration_two_to_three_days_after_and_one_late(
    patient: SimulatedPatient,
) -> None:
    medicine = [s for s in patient.sessions if s.kind == "medicine"]
    integration = [s for s in patient.sessions if s.kind == "integration"]
    assert len(medicine) == len(integration) == 2
    lags = [
        (i.started_at.astimezone(BERLIN).date() - m.started_at.astimezone(BERLIN).date()).days
        for m, i in zip(medicine, integration, strict=True)
    ]
    assert lags[0] in (2, 3)
    assert lags[1] > 3
    assert medicine[0].started_at.astimezone(BERLIN).date() == patient.local_days[14]
    for s in patient.sessions:
        assert s.started_at.tzinfo is not None
        assert s.ended_at > s.started_at
    assert patient.sessions == sorted(patient.sessions, key=lambda s: s.started_at)


def test_journal_entries_are_valid(patient: SimulatedPatient) -> None:
    assert len(patient.journal) >= 8
    for j in patient.journal:
        assert 0 <= j.mood <= 10
        assert 0 <= j.body <= 10
        assert j.text
        assert j.at.utcoffset() == timedelta(0)
    assert any("medicine" in j.tags for j in patient.journal)
    assert isinstance(patient.journal[0].to_dict()["tags"], list)


def test_patient_is_reproducible() -> None:
    a = simulate_patient(
        seed=3, days=6, start=START, medicine_days=(3,), ln_rmssd_shift_after=(0.2,)
    )
    b = simulate_patient(
        seed=3, days=6, start=START, medicine_days=(3,), ln_rmssd_shift_after=(0.2,)
    )
    np.testing.assert_array_equal(a.beats_t_ms, b.beats_t_ms)
    np.testing.assert_array_equal(a.rr_ticks, b.rr_ticks)
    assert a.sessions == b.sessions
    assert a.journal == b.journal


def test_all_day_wear_is_continuous_over_consecutive_days() -> None:
    p = simulate_patient(
        seed=5,
        days=3,
        start=datetime(2026, 3, 2, 0, 0, tzinfo=BERLIN),
        medicine_days=(1,),
        ln_rmssd_shift_after=(0.1,),
        wear="all_day",
        missing_day_rate=0.0,
    )
    assert p.segment_start_index.size == 1
    span_h = (p.beats_t_ms[-1] - p.beats_t_ms[0]) / 3.6e6
    assert span_h > 71.0
    assert len(p.morning_readings) == 3
    err = np.diff(p.beats_t_ms) - p.rr_ticks[1:] * (1000.0 / 1024.0)
    assert np.max(np.abs(err)) <= 1.0


def test_poor_quality_has_more_artefacts_and_dropouts() -> None:
    kw = {"days": 4, "start": START, "medicine_days": (1,), "ln_rmssd_shift_after": (0.1,)}
    good = simulate_patient(seed=2, missing_day_rate=0.0, **kw)  # type: ignore[arg-type]
    poor = simulate_patient(seed=2, missing_day_rate=0.0, poor_quality=True, **kw)  # type: ignore[arg-type]

    def outlier_share(p: SimulatedPatient) -> float:
        rr = p.rr_ms
        local = np.convolve(rr, np.ones(21) / 21, mode="same")
        return float(np.mean(np.abs(rr / local - 1.0) > 0.25))

    assert outlier_share(poor) > 5 * outlier_share(good)
    assert poor.segment_start_index.size >= good.segment_start_index.size + 6


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start": datetime(2026, 3, 2)}, "start"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"days": 0}, "days"),
        ({"medicine_days": (14, 10)}, "medicine_days"),
        ({"medicine_days": (50,), "ln_rmssd_shift_after": (0.1,)}, "medicine_days"),
        ({"ln_rmssd_shift_after": (0.1,)}, "ln_rmssd_shift_after"),
        ({"wear": "sometimes"}, "wear"),
        ({"missing_day_rate": 1.0}, "missing_day_rate"),
    ],
)
def test_patient_bad_parameters_raise_typed_error(
    kwargs: dict[str, object], parameter: str
) -> None:
    args: dict[str, object] = {"seed": 1, "start": START}
    args.update(kwargs)
    with pytest.raises(SimulationError) as info:
        simulate_patient(**args)  # type: ignore[arg-type]
    assert info.value.fields["parameter"] == parameter
