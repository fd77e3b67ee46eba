"""Tests of analysis.trends: daily values, baseline, rolling statistics and session changes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import compute_windows_timed
from analysis.errors import AnalysisError
from analysis.trends import (
    DAILY_COLUMNS,
    Baseline,
    InsufficientData,
    IntervalMethod,
    PeriodChange,
    TrendsError,
    baseline,
    compute_trends,
    daily_values,
    primary_source,
    rolling_cv_7d,
    rolling_mean_7d,
    session_change,
)
from somatrace.demo.story import SimSession, simulate_patient

BERLIN = ZoneInfo("Europe/Berlin")


def window_rows(
    starts_local: Sequence[datetime],
    ln_rmssd: Sequence[float] | float,
    *,
    hr_bpm: float = 60.0,
    quality: str = "good",
    n_beats: int | None = None,
    artifact_share: float = 0.0,
) -> list[dict[str, object]]:
    """One row per window start (tz-aware local times), columns as compute_windows_timed."""
    lns = [ln_rmssd] * len(starts_local) if isinstance(ln_rmssd, float) else list(ln_rmssd)
    rows: list[dict[str, object]] = []
    for start, ln in zip(starts_local, lns, strict=True):
        mean_nn = 60000.0 / hr_bpm
        beats = n_beats if n_beats is not None else round(300_000 / mean_nn)
        rows.append(
            {
                "window_start": pd.Timestamp(start).tz_convert("UTC"),
                "n_beats": beats,
                "artifact_share": artifact_share,
                "mean_nn_ms": mean_nn,
                "mean_hr_bpm": hr_bpm,
                "rmssd_ms": math.exp(ln),
                "ln_rmssd": ln,
                "stress_index": 100.0,
                "quality": quality,
            }
        )
    return rows


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["window_start"] = pd.to_datetime(df["window_start"], utc=True)
    return df


def at(day: date, hour: float, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=round(hour * 60))


def night(
    day: date, n: int = 72, ln: float = 4.2, quality: str = "good"
) -> list[dict[str, object]]:
    """n consecutive 5-min windows from 00:00 local on ``day``."""
    return window_rows([at(day, k * 5 / 60) for k in range(n)], ln, hr_bpm=52.0, quality=quality)


def morning(day: date, ln: float, hour: float = 7.0) -> list[dict[str, object]]:
    return window_rows([at(day, hour)], ln, hr_bpm=62.0)


def daily_table(
    start: date, ln: Sequence[float], source: str = "morning", quality: str = "good"
) -> pd.DataFrame:
    """A daily_values-like table; NaN entries become ``none`` days."""
    rows = []
    for k, v in enumerate(ln):
        ok = not math.isnan(v)
        rows.append(
            {
                "day": start + timedelta(days=k),
                "source": source if ok else "none",
                "ln_rmssd": v,
                "rmssd_ms": math.exp(v) if ok else math.nan,
                "resting_hr_bpm": 60.0 if ok else math.nan,
                "stress_index": math.nan,
                "n_windows": 1 if ok else 0,
                "wear_hours": 1.0 if ok else 0.0,
                "artifact_share": 0.0 if ok else math.nan,
                "quality": quality if ok else "insufficient: no recording on this day",
            }
        )
    return pd.DataFrame(rows)


def shifted_series(
    rng: np.random.Generator,
    *,
    baseline_days: int = 14,
    after_days: int = 28,
    mean: float = 3.8,
    sd: float = 0.15,
    shift_4_14: float = 0.0,
) -> list[float]:
    """Independent normal daily ln RMSSD: baseline days, the session day, then days 1..after."""
    base = rng.normal(mean, sd, baseline_days)
    session = rng.normal(mean, sd, 1)
    after = rng.normal(mean, sd, after_days)
    after[3:14] += shift_4_14
    return [float(v) for v in np.concatenate((base, session, after))]


# ------------------------------------------------------------------------------------------
# daily_values

D0 = date(2026, 3, 2)


def test_explicit_morning_reading_is_the_daily_value() -> None:
    rows = night(D0) + morning(D0, 3.7)
    reading = (at(D0, 7.0), at(D0, 7.0 + 5 / 60))
    daily = daily_values(frame(rows), "Europe/Berlin", [reading])
    assert list(daily.columns) == list(DAILY_COLUMNS)
    assert len(daily) == 1
    row = daily.iloc[0]
    assert row["day"] == D0
    assert row["source"] == "morning"
    assert row["ln_rmssd"] == pytest.approx(3.7)
    assert row["resting_hr_bpm"] == pytest.approx(62.0)
    assert row["n_windows"] == 1
    assert row["quality"].startswith("good")
    # 72 night windows of 5 min plus the reading, all fully covered.
    assert row["wear_hours"] == pytest.approx(73 * 5 / 60, rel=1e-3)


def test_reading_split_over_two_windows_is_pooled_by_beats() -> None:
    # Clock-aligned windows: a 07:03-07:08 reading falls into 07:00 and 07:05 windows.
    rows = window_rows([at(D0, 7.0)], 3.5, hr_bpm=60.0, n_beats=120)
    rows += window_rows([at(D0, 7 + 5 / 60)], 4.0, hr_bpm=60.0, n_beats=180)
    for r, n in zip(rows, (120, 180), strict=True):
        r["mean_nn_ms"] = 1000.0
        r["n_beats"] = n
    reading = (at(D0, 7.05), at(D0, 7.05 + 5 / 60))
    daily = daily_values(frame(rows), "Europe/Berlin", [reading])
    expected = math.log(math.sqrt((120 * math.exp(3.5) ** 2 + 180 * math.exp(4.0) ** 2) / 300))
    assert daily.iloc[0]["ln_rmssd"] == pytest.approx(expected)
    assert daily.iloc[0]["source"] == "morning"
    assert daily.iloc[0]["n_windows"] == 2


def test_detected_morning_reading_needs_a_gap_and_morning_hours() -> None:
    d1, d2, d3 = D0, D0 + timedelta(days=1), D0 + timedelta(days=2)
    rows = night(d1) + morning(d1, 3.6)  # night ends 06:00, reading 07:00: gap 60 min
    rows += night(d2, n=78) + morning(d2, 3.6, hour=6.5 + 10 / 60)  # gap 10 min: no reading
    rows += night(d3) + morning(d3, 3.6, hour=12.0)  # noon: not a morning reading
    daily = daily_values(frame(rows), "Europe/Berlin")
    assert list(daily["source"]) == ["morning", "night_median", "night_median"]
    assert daily.iloc[0]["ln_rmssd"] == pytest.approx(3.6)
    assert daily.iloc[1]["ln_rmssd"] == pytest.approx(4.2)
    assert daily.iloc[1]["quality"] == "good: median of 72 good windows 00:00-06:00"


def test_a_long_morning_recording_is_not_a_reading() -> None:
    starts = [at(D0, 7.0 + k * 5 / 60) for k in range(6)]  # 30 min
    daily = daily_values(frame(window_rows(starts, 3.6)), "Europe/Berlin")
    assert daily.iloc[0]["source"] == "none"
    assert np.isnan(daily.iloc[0]["ln_rmssd"])


def test_night_fallback_is_the_median_of_good_windows_and_needs_six() -> None:
    lns = [4.0, 4.1, 4.2, 4.3, 4.4, 9.0, 9.0]
    rows = window_rows([at(D0, k * 5 / 60) for k in range(7)], lns, quality="good")
    rows[-1]["quality"] = "poor: artifact share 30.0% > 20%"
    rows[-2]["quality"] = "fair: beats cover 80% of the window < 90%"
    daily = daily_values(frame(rows), "Europe/Berlin", [])
    row = daily.iloc[0]
    assert row["source"] == "none"
    assert row["quality"].startswith("insufficient: no morning reading")
    for r in rows[-2:]:
        r["quality"] = "good"
    daily = daily_values(frame(rows), "Europe/Berlin", [])
    assert daily.iloc[0]["source"] == "night_median"
    assert daily.iloc[0]["ln_rmssd"] == pytest.approx(4.3)
    assert daily.iloc[0]["n_windows"] == 7


def test_day_median_only_when_asked_for() -> None:
    rows = window_rows([at(D0, 10 + k * 5 / 60) for k in range(8)], 3.4, hr_bpm=75.0)
    assert daily_values(frame(rows), "Europe/Berlin", []).iloc[0]["source"] == "none"
    daily = daily_values(frame(rows), "Europe/Berlin", [], fallbacks=("night_median", "day_median"))
    assert daily.iloc[0]["source"] == "day_median"
    assert daily.iloc[0]["ln_rmssd"] == pytest.approx(3.4)


def test_days_without_windows_are_listed_as_none() -> None:
    rows = morning(D0, 3.6) + morning(D0 + timedelta(days=3), 3.7)
    daily = daily_values(frame(rows), "Europe/Berlin")
    assert list(daily["day"]) == [D0 + timedelta(days=k) for k in range(4)]
    assert list(daily["source"]) == ["morning", "none", "none", "morning"]
    assert daily.iloc[1]["quality"] == "insufficient: no recording on this day"
    assert daily.iloc[1]["wear_hours"] == 0.0


def test_local_dates_follow_the_patients_time_zone() -> None:
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin and 18:30 on 1 March in New York.
    utc = ZoneInfo("UTC")
    rows = window_rows([datetime(2026, 3, 1, 23, 30, tzinfo=utc)], 3.6)
    assert daily_values(frame(rows), "Europe/Berlin").iloc[0]["day"] == date(2026, 3, 2)
    assert daily_values(frame(rows), "America/New_York").iloc[0]["day"] == date(2026, 3, 1)


def test_dst_night_still_uses_local_clock() -> None:
    # 29 March 2026: Berlin skips 02:00-03:00; 00:00-06:00 local holds only 5 hours.
    day = date(2026, 3, 29)
    start = at(day, 0.0).astimezone(ZoneInfo("UTC"))  # real elapsed time, not wall-clock
    starts = [start + timedelta(minutes=5 * k) for k in range(12 * 6)]
    rows = window_rows(starts, 4.0)
    daily = daily_values(frame(rows), "Europe/Berlin", [])
    assert daily.iloc[0]["source"] == "night_median"
    assert daily.iloc[0]["n_windows"] == 60  # 5 real hours before 06:00 local


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda df: df.drop(columns=["rmssd_ms"]), "missing"),
        (lambda df: df.assign(window_start=df["window_start"].dt.tz_localize(None)), "dtype"),
    ],
)
def test_bad_window_tables_raise_typed_errors(
    mutate: Callable[[pd.DataFrame], pd.DataFrame], field: str
) -> None:
    df = mutate(frame(morning(D0, 3.6)))
    with pytest.raises(TrendsError) as info:
        daily_values(df, "Europe/Berlin")
    assert isinstance(info.value, AnalysisError)
    assert field in info.value.fields


def test_bad_arguments_raise_typed_errors() -> None:
    df = frame(morning(D0, 3.6))
    with pytest.raises(TrendsError):
        daily_values(df, "Nowhere/Atlantis")
    with pytest.raises(TrendsError):
        daily_values(df, "Europe/Berlin", fallbacks=("afternoon",))
    with pytest.raises(TrendsError):
        daily_values(df, "Europe/Berlin", [(datetime(2026, 3, 2, 7), datetime(2026, 3, 2, 8))])
    with pytest.raises(TrendsError):
        daily_values(df, "Europe/Berlin", [(at(D0, 8.0), at(D0, 7.0))])
    with pytest.raises(TrendsError):
        daily_values(df, "Europe/Berlin", window_s=0.0)
    bad_quality = df.assign(quality=["excellent"])
    with pytest.raises(AnalysisError):
        daily_values(bad_quality, "Europe/Berlin")


def test_empty_window_table_gives_empty_daily_table() -> None:
    empty = frame(morning(D0, 3.6)).iloc[0:0]
    daily = daily_values(empty, "Europe/Berlin")
    assert len(daily) == 0
    assert list(daily.columns) == list(DAILY_COLUMNS)


# ------------------------------------------------------------------------------------------
# baseline, rolling statistics


def test_baseline_band_is_mean_plus_minus_half_sd() -> None:
    lns = [3.6, 3.8, 4.0, 3.7, math.nan, 3.9]
    daily = daily_table(D0, [*lns, 4.5])
    b = baseline(daily, D0 + timedelta(days=6))
    assert isinstance(b, Baseline)
    valid = np.array([v for v in lns if not math.isnan(v)])
    assert b.n_days == 5
    assert b.mean_ln_rmssd == pytest.approx(valid.mean())
    assert b.sd_ln_rmssd == pytest.approx(valid.std(ddof=1))
    assert b.band_low == pytest.approx(valid.mean() - 0.5 * valid.std(ddof=1))
    assert b.band_high == pytest.approx(valid.mean() + 0.5 * valid.std(ddof=1))
    assert b.cv_pct == pytest.approx(valid.std(ddof=1) / valid.mean() * 100)
    assert b.source == "morning"
    assert D0 + timedelta(days=6) not in b.days
    json.dumps(b.to_dict(), allow_nan=False)


def test_baseline_needs_three_valid_days() -> None:
    daily = daily_table(D0, [3.6, math.nan, 3.9, math.nan, 4.0])
    b = baseline(daily, D0 + timedelta(days=3))
    assert isinstance(b, InsufficientData)
    assert (b.n_days, b.needed) == (2, 3)
    assert "need >= 3" in b.reason
    assert isinstance(baseline(daily, D0 + timedelta(days=5)), Baseline)


def test_baseline_ignores_poor_days_and_days_over_60_days_back() -> None:
    daily = daily_table(D0, [3.0] * 5 + [3.8] * 61)
    first_med = D0 + timedelta(days=66)
    b = baseline(daily, first_med)
    assert isinstance(b, Baseline)
    assert b.n_days == 60
    assert b.mean_ln_rmssd == pytest.approx(3.8)
    poor = daily_table(D0, [3.8] * 5, quality="poor: artifact share 30.0% > 20%")
    assert isinstance(baseline(poor, D0 + timedelta(days=5)), InsufficientData)


def test_baseline_uses_one_source_only() -> None:
    morning_days = daily_table(D0, [3.7, 3.8, 3.9, 3.75])
    nights = daily_table(D0 + timedelta(days=4), [4.3, 4.4], source="night_median")
    daily = pd.concat([morning_days, nights], ignore_index=True)
    assert primary_source(daily) == "morning"
    b = baseline(daily, D0 + timedelta(days=6))
    assert isinstance(b, Baseline)
    assert b.n_days == 4
    assert b.mean_ln_rmssd == pytest.approx(np.mean([3.7, 3.8, 3.9, 3.75]))
    nb = baseline(daily, D0 + timedelta(days=6), source="night_median")
    assert isinstance(nb, InsufficientData)


def test_rolling_mean_needs_three_valid_days_in_seven_calendar_days() -> None:
    lns = [3.6, math.nan, 3.8, math.nan, math.nan, math.nan, math.nan, math.nan, 4.0, 4.2, 4.4]
    daily = daily_table(D0, lns)
    r = rolling_mean_7d(daily)
    assert np.isnan(r.iloc[0]) and np.isnan(r.iloc[1]) and np.isnan(r.iloc[2])
    assert np.isnan(r.iloc[8])  # 3.8 (day 2) is 6 days back, 4.0 today: 2 valid days
    assert np.isnan(r.iloc[9])  # days 3-9 hold 4.0 and 4.2 only
    assert r.iloc[10] == pytest.approx(np.mean([4.0, 4.2, 4.4]))
    cv = rolling_cv_7d(daily)
    vals = np.array([4.0, 4.2, 4.4])
    assert cv.iloc[10] == pytest.approx(vals.std(ddof=1) / vals.mean() * 100)
    assert np.isnan(cv.iloc[8])


def test_rolling_mean_counts_missing_calendar_rows_as_missing() -> None:
    # Rows for days 0, 1 and 9 only: day 9's window (days 3-9) has one valid day.
    daily = daily_table(D0, [3.6, 3.7])
    later = daily_table(D0 + timedelta(days=9), [3.9])
    both = pd.concat([daily, later], ignore_index=True)
    r = rolling_mean_7d(both)
    assert len(r) == 3
    assert np.isnan(r.iloc[2])


def test_rolling_rejects_duplicate_or_unordered_days() -> None:
    daily = daily_table(D0, [3.6, 3.7, 3.8])
    with pytest.raises(TrendsError):
        rolling_mean_7d(pd.concat([daily, daily], ignore_index=True))
    with pytest.raises(TrendsError):
        rolling_cv_7d(daily.iloc[::-1].reset_index(drop=True))


# ------------------------------------------------------------------------------------------
# session changes


def _changes(
    lns: list[float], baseline_days: int = 14, method: IntervalMethod = "pooled_t_ar1"
) -> list[PeriodChange | InsufficientData]:
    daily = daily_table(D0, lns)
    session_day = D0 + timedelta(days=baseline_days)
    b = baseline(daily, session_day)
    return session_change(daily, b, session_day, method=method)


def _ar1_series(rng: np.random.Generator, phi: float, n: int = 43, sd: float = 0.15) -> list[float]:
    e = np.empty(n)
    e[0] = rng.normal(0.0, sd)
    for k in range(1, n):
        e[k] = phi * e[k - 1] + rng.normal(0.0, sd * math.sqrt(1.0 - phi**2))
    return [float(v) for v in 3.8 + e]


def test_finds_a_shift_of_0_3_in_days_4_to_14() -> None:
    found = 0
    n_seeds = 200
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        changes = _changes(shifted_series(rng, shift_4_14=0.3))
        p = changes[1]
        assert isinstance(p, PeriodChange)
        assert p.period == "4-14"
        assert p.n_days == 11
        found += p.ci_low > 0.0
    assert found / n_seeds >= 0.95


def test_the_estimate_is_unbiased_and_positioned_against_the_band() -> None:
    rng = np.random.default_rng(1)
    changes = _changes(shifted_series(rng, shift_4_14=0.3, sd=0.05))
    p = changes[1]
    assert isinstance(p, PeriodChange)
    assert p.diff_ln_rmssd == pytest.approx(0.3, abs=0.05)
    assert p.ci_low < p.diff_ln_rmssd < p.ci_high
    assert p.band_position == "above"
    assert p.hedges_g > 2.0
    assert p.diff_in_baseline_sd > 3.0
    assert p.rmssd_change_pct == pytest.approx((math.exp(p.diff_ln_rmssd) - 1) * 100)
    assert (p.first_day, p.last_day) == (D0 + timedelta(days=18), D0 + timedelta(days=28))


def test_does_not_find_shifts_in_null_data_beyond_the_nominal_rate() -> None:
    n_seeds = 400
    false_pos = np.zeros(3)
    for seed in range(n_seeds):
        rng = np.random.default_rng(10_000 + seed)
        changes = _changes(shifted_series(rng))
        for k, p in enumerate(changes):
            assert isinstance(p, PeriodChange)
            false_pos[k] += p.ci_low > 0.0 or p.ci_high < 0.0
    rate = false_pos / n_seeds
    # Nominal 5 % (the AR(1) widening makes it ~4 % on independent days); binomial SD at
    # n = 400 is about 1 %.
    assert np.all(rate < 0.08), rate
    assert np.all(rate > 0.01), rate


def test_autocorrelated_null_data_is_widened_for() -> None:
    n_seeds = 300
    plain = np.zeros(3)
    widened = np.zeros(3)
    for seed in range(n_seeds):
        lns = _ar1_series(np.random.default_rng(20_000 + seed), 0.3)
        for counts, method in ((plain, "pooled_t"), (widened, "pooled_t_ar1")):
            for k, p in enumerate(_changes(lns, method=method)):  # type: ignore[arg-type]
                assert isinstance(p, PeriodChange)
                counts[k] += p.ci_low > 0.0 or p.ci_high < 0.0
    # Simulations in session_change's notes: ~12-15 % plain, ~7-8 % widened.
    assert plain.sum() / (3 * n_seeds) > 0.09
    assert widened.sum() / (3 * n_seeds) < 0.105
    assert widened.sum() < plain.sum() * 0.8


def test_autocorrelation_is_estimated_from_the_baseline() -> None:
    rng = np.random.default_rng(6)
    strong = _changes(_ar1_series(rng, 0.9, sd=0.2))[1]
    assert isinstance(strong, PeriodChange)
    assert strong.autocorrelation == pytest.approx(0.6)  # clipped
    alternating = [3.6, 4.0] * 7 + [3.8] * 29
    p = _changes(alternating)[1]
    assert isinstance(p, PeriodChange)
    assert p.autocorrelation == 0.0
    plain = _changes(alternating, method="pooled_t")[1]
    assert isinstance(plain, PeriodChange)
    assert (p.ci_low, p.ci_high) == pytest.approx((plain.ci_low, plain.ci_high))


@pytest.mark.parametrize(("method", "equal_var"), [("welch_t", False), ("pooled_t", True)])
def test_t_intervals_match_scipy(method: IntervalMethod, equal_var: bool) -> None:
    rng = np.random.default_rng(3)
    lns = shifted_series(rng, shift_4_14=0.2)
    p = _changes(lns, method=method)[1]
    assert isinstance(p, PeriodChange)
    assert p.method == method
    x, y = np.array(lns[18:29]), np.array(lns[:14])
    res = stats.ttest_ind(x, y, equal_var=equal_var)
    ci = res.confidence_interval(0.95)
    assert (p.ci_low, p.ci_high) == pytest.approx((ci.low, ci.high))
    assert p.df == pytest.approx(res.df)


def test_hedges_g_matches_its_definition() -> None:
    rng = np.random.default_rng(3)
    lns = shifted_series(rng, shift_4_14=0.2)
    p = _changes(lns)[1]
    assert isinstance(p, PeriodChange)
    x, y = np.array(lns[18:29]), np.array(lns[:14])
    sp = math.sqrt((10 * x.var(ddof=1) + 13 * y.var(ddof=1)) / 23)
    assert p.hedges_g == pytest.approx((x.mean() - y.mean()) / sp * (1 - 3 / (4 * 25 - 9)))


def test_unknown_interval_method_is_rejected() -> None:
    daily = daily_table(D0, [3.8, 3.9, 3.7, 3.8])
    b = baseline(daily, D0 + timedelta(days=3))
    with pytest.raises(TrendsError):
        session_change(daily, b, D0 + timedelta(days=3), method="bootstrap")  # type: ignore[arg-type]


def test_too_few_days_in_a_period_is_insufficient() -> None:
    rng = np.random.default_rng(4)
    lns = shifted_series(rng)
    lns[15] = lns[16] = math.nan  # days 1 and 2 missing: one valid day in 1-3
    changes = _changes(lns)
    first = changes[0]
    assert isinstance(first, InsufficientData)
    assert first.period == "1-3"
    assert (first.n_days, first.needed) == (1, 2)
    assert isinstance(changes[1], PeriodChange)
    json.dumps([c.to_dict() for c in changes], allow_nan=False)


def test_no_baseline_means_no_change() -> None:
    daily = daily_table(D0, [3.8, 3.9] + [4.2] * 10)
    b = baseline(daily, D0 + timedelta(days=2))
    assert isinstance(b, InsufficientData)
    changes = session_change(daily, b, D0 + timedelta(days=2))
    assert len(changes) == 3
    assert all(isinstance(c, InsufficientData) for c in changes)


def test_periods_stop_before_the_next_medicine_session() -> None:
    rng = np.random.default_rng(5)
    daily = daily_table(D0, shifted_series(rng, after_days=40))
    s1 = D0 + timedelta(days=14)
    b = baseline(daily, s1)
    changes = session_change(daily, b, s1, next_session_day=s1 + timedelta(days=10))
    assert isinstance(changes[0], PeriodChange)
    p = changes[1]
    assert isinstance(p, PeriodChange)
    assert p.last_day == s1 + timedelta(days=9)
    assert p.n_expected == 6
    assert isinstance(changes[2], InsufficientData)
    assert "after the next medicine session" in changes[2].reason


# ------------------------------------------------------------------------------------------
# compute_trends


def _patient_windows(shift: float) -> tuple[pd.DataFrame, list[tuple[datetime, datetime]]]:
    rng = np.random.default_rng(8)
    rows: list[dict[str, object]] = []
    readings = []
    for k in range(35):
        day = D0 + timedelta(days=k)
        ln = 3.8 + rng.normal(0, 0.1) + (shift if 18 <= k <= 28 else 0.0)
        rows += night(day, n=60, ln=ln + 0.35)
        rows += morning(day, ln, hour=7.25)
        readings.append((at(day, 7.25), at(day, 7.25 + 5 / 60)))
    return frame(rows), readings


def test_compute_trends_end_to_end_with_sessions_as_objects_or_mappings() -> None:
    windows, readings = _patient_windows(0.3)
    med = at(D0 + timedelta(days=14), 10.0)
    sessions_obj = [
        SimSession("medicine", med, med + timedelta(hours=2), "s1"),
        SimSession("integration", med + timedelta(days=2), med + timedelta(days=2, hours=1), ""),
    ]
    sessions_map = [{"kind": s.kind, "started_at": s.started_at} for s in sessions_obj]
    for sessions in (sessions_obj, sessions_map):
        result = compute_trends(windows, "Europe/Berlin", sessions, readings)
        assert result.source == "morning"
        assert isinstance(result.baseline, Baseline)
        assert result.baseline.n_days == 14
        assert len(result.sessions) == 1
        periods = result.sessions[0].periods
        p = periods[1]
        assert isinstance(p, PeriodChange)
        assert p.ci_low > 0.1
        assert p.band_position == "above"
        daily = result.daily
        for col in ("used", "rolling_mean_7d", "cv_7d_pct", "band_low", "band_high"):
            assert col in daily.columns
        assert bool(daily["used"].all())
        assert daily["band_low"].iloc[0] == pytest.approx(result.baseline.band_low)
        text = json.dumps(result.to_dict(), allow_nan=False)
        assert '"status": "ok"' in text


def test_compute_trends_detects_readings_and_handles_no_sessions() -> None:
    windows, _ = _patient_windows(0.0)
    result = compute_trends(windows, "Europe/Berlin", [])
    assert result.source == "morning"  # readings detected: 07:15 after a 75-min gap
    assert isinstance(result.baseline, InsufficientData)
    assert result.sessions == ()
    assert np.isfinite(result.daily["rolling_mean_7d"].iloc[-1])
    json.dumps(result.to_dict(), allow_nan=False)


def test_compute_trends_rejects_naive_session_times() -> None:
    windows, _ = _patient_windows(0.0)
    with pytest.raises(TrendsError):
        compute_trends(
            windows, "Europe/Berlin", [{"kind": "medicine", "started_at": datetime(2026, 3, 9)}]
        )
    with pytest.raises(TrendsError):
        compute_trends(windows, "Europe/Berlin", [{"kind": "medicine"}])


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
    explicit = compute_trends(w, p.tz, p.sessions, p.morning_readings)
    detected = compute_trends(w, p.tz, p.sessions)
    for result in (explicit, detected):
        daily = result.daily.set_index("day")
        mornings = daily[daily["source"] == "morning"]
        assert len(mornings) >= 4
        for day, row in mornings.iterrows():
            truth = p.true_shift.morning_ln_rmssd[p.local_days.index(day)]
            assert abs(row["ln_rmssd"] - truth) < 0.25
        assert result.source == "morning"
    a = explicit.daily["ln_rmssd"].to_numpy()
    b = detected.daily["ln_rmssd"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=0.02)
