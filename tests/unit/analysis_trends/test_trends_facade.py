"""analysis.trends façade: windows to daily values, band and verdicts; one session's report."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import compute_windows_timed
from analysis.trends import (
    InsufficientData,
    NormalBand,
    TrendsError,
    compute_trends,
    medicine_days_of,
    session_report,
)
from somatrace.demo.story import SimSession, simulate_patient

from .conftest import BERLIN, D0, at, patient_windows


def test_compute_trends_end_to_end_with_sessions_as_objects_or_mappings() -> None:
    windows, readings = patient_windows(0.5)
    med = at(D0 + timedelta(days=14), 10.0)
    sessions_obj = [
        SimSession("medicine", med, med + timedelta(hours=2), "s1"),
        SimSession("integration", med + timedelta(days=2), med + timedelta(days=2, hours=1), ""),
    ]
    sessions_map = [{"kind": s.kind, "started_at": s.started_at} for s in sessions_obj]
    today = D0 + timedelta(days=35)
    for sessions in (sessions_obj, sessions_map):
        result = compute_trends(windows, "Europe/Berlin", sessions, readings, today=today)
        assert result.trend.source == "morning"
        band = result.trend.band
        assert isinstance(band, NormalBand) and band.n_days == 14
        periods = result.verdicts.periods
        assert [p.period for p in periods] == ["days 1-3", "days 4-14", "days 15-28"]
        p = periods[1]  # days 18-28 of the windows hold the +0.5 shift
        assert p.state == "verdict" and p.flagged and p.ci_low > 0.0
        daily = result.daily
        for col in analysis.trends.TREND_COLUMNS:
            assert col in daily.columns
        assert bool(daily["counted"].all())
        after = daily[
            (daily["day"] >= D0 + timedelta(days=20)) & (daily["day"] <= D0 + timedelta(days=28))
        ]
        assert after["band_position"].notna().all()  # every complete week is judged


def test_compute_trends_detects_readings_and_handles_no_sessions() -> None:
    windows, _ = patient_windows(0.0)
    result = compute_trends(windows, "Europe/Berlin", [], today=D0 + timedelta(days=40))
    assert result.trend.source == "morning"  # readings detected: 07:15 after a 75-min gap
    assert isinstance(result.trend.band, InsufficientData)
    assert result.verdicts.periods == ()
    assert np.isfinite(result.daily["rolling_mean_7d"].iloc[-1])


def test_compute_trends_rejects_naive_session_times() -> None:
    windows, _ = patient_windows(0.0)
    with pytest.raises(TrendsError):
        compute_trends(
            windows,
            "Europe/Berlin",
            [{"kind": "medicine", "started_at": datetime(2026, 3, 9)}],
            today=D0,
        )
    with pytest.raises(TrendsError):
        compute_trends(windows, "Europe/Berlin", [{"kind": "medicine"}], today=D0)


def test_session_report_is_one_sessions_baseline_band_and_periods() -> None:
    windows, readings = patient_windows(0.0)
    days = [D0 + timedelta(days=14), D0 + timedelta(days=24)]
    sessions = [{"kind": "medicine", "started_at": at(d, 10.0)} for d in days]
    assert medicine_days_of(sessions, "Europe/Berlin") == days
    daily = compute_trends(windows, "Europe/Berlin", sessions, readings, today=D0).daily
    report = session_report(daily, days, days[1], today=D0 + timedelta(days=40))
    assert report.session_day == days[1]
    assert [p.session_day for p in report.periods] == [days[1]] * 3
    assert isinstance(report.band, NormalBand) and report.baseline_days == 14
    assert report.model is not None and report.model.n_obs > 14
    first = session_report(daily, days, days[0], today=D0 + timedelta(days=40))
    assert first.periods[1].last_day == days[1] - timedelta(days=1)
    with pytest.raises(TrendsError):
        session_report(daily, days, D0, today=D0 + timedelta(days=40))


def test_simulated_patient_through_real_windows() -> None:
    p = simulate_patient(
        seed=21,
        days=6,
        start=datetime(2026, 3, 2, tzinfo=BERLIN),
        medicine_days=(4,),
        ln_rmssd_shift_after=(0.2,),
        missing_day_rate=0.0,
    )
    origin = float(p.beats_t_ms[0] // 300_000 * 300)
    w = compute_windows_timed(p.beats_t_s, p.rr_ms, 300.0, True, origin)
    w["window_start"] = pd.to_datetime(w["window_start_s"], unit="s", utc=True)
    today = p.local_days[-1] + timedelta(days=1)
    explicit = compute_trends(w, p.tz, p.sessions, p.morning_readings, today=today)
    detected = compute_trends(w, p.tz, p.sessions, today=today)
    for result in (explicit, detected):
        daily = result.daily.set_index("day")
        mornings = daily[daily["source"] == "morning"]
        assert len(mornings) >= 4
        for day, row in mornings.iterrows():
            truth = p.true_shift.morning_ln_rmssd[p.local_days.index(day)]
            assert abs(row["ln_rmssd"] - truth) < 0.25
        assert result.trend.source == "morning"
        # four baseline days: no band; day 1 is over, day 2 is today
        assert isinstance(result.trend.band, InsufficientData)
        assert [v.state for v in result.verdicts.periods] == [
            "in_progress",
            "not_reached",
            "not_reached",
        ]
    a = explicit.daily["ln_rmssd"].to_numpy()
    b = detected.daily["ln_rmssd"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=0.02)
