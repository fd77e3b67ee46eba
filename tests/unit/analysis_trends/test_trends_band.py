"""analysis.band: what counts, the 7-day rolling mean, the normal band of 7-day means, the badge."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.ar1 import ar1_correlation
from analysis.band import BAND_LEVEL, BASELINE_MIN_DAYS, NormalBand, daily_trend
from analysis.calibration import Cell, simulate_daily
from analysis.trends import InsufficientData, TrendsError, primary_source

from .conftest import D0, daily_table


def _stable(
    seed: int, rho: float = 0.3, baseline_days: int = 28
) -> tuple[pd.DataFrame, object, object]:
    return simulate_daily(Cell(rho, 0.05, 0.0, False, baseline_days), np.random.default_rng(seed))


def test_rolling_mean_needs_three_counted_days_in_seven_calendar_days() -> None:
    lns = [3.6, math.nan, 3.8, math.nan, math.nan, math.nan, math.nan, math.nan, 4.0, 4.2, 4.4]
    daily = daily_table(D0, lns)
    out = daily_trend(daily, [], today=D0 + timedelta(days=20)).daily
    r = out["rolling_mean_7d"]
    assert r.iloc[:3].isna().all()
    assert np.isnan(r.iloc[8])  # 3.8 (day 2) is 6 days back, 4.0 today: 2 counted days
    assert np.isnan(r.iloc[9])  # days 3-9 hold 4.0 and 4.2 only
    assert r.iloc[10] == pytest.approx(np.mean([4.0, 4.2, 4.4]))
    assert out["rolling_days"].iloc[10] == 3
    vals = np.array([4.0, 4.2, 4.4])
    assert out["cv_7d_pct"].iloc[10] == pytest.approx(vals.std(ddof=1) / vals.mean() * 100)
    # no medicine session: no baseline, no band, no badge
    assert out["band_position"].isna().all() and out["band_low"].isna().all()


def test_missing_calendar_rows_count_as_missing() -> None:
    both = pd.concat([daily_table(D0, [3.6, 3.7]), daily_table(D0 + timedelta(days=9), [3.9])])
    out = daily_trend(both.reset_index(drop=True), [], today=D0 + timedelta(days=20)).daily
    assert np.isnan(out["rolling_mean_7d"].iloc[2])


def test_a_partial_reading_today_moves_nothing() -> None:
    daily, s, _ = _stable(1)
    today = s + timedelta(days=10)  # type: ignore[operator]
    base = daily_trend(daily, [s], today=today)  # type: ignore[list-item]
    moved = daily.copy()
    moved.loc[moved["day"] >= today, "ln_rmssd"] = 2.0
    again = daily_trend(moved, [s], today=today)  # type: ignore[list-item]
    cols = ["rolling_mean_7d", "band_low", "band_high", "band_position", "counted"]
    pd.testing.assert_frame_equal(base.daily[cols], again.daily[cols])
    row = again.daily[again.daily["day"] == today].iloc[0]
    assert row["exclusion"] == "today: not complete yet" and not row["complete"]
    assert np.isnan(row["rolling_mean_7d"])
    latest = again.latest()
    assert latest is not None and latest["day"] == today - timedelta(days=1)


def test_poor_days_and_other_sources_do_not_count_and_say_why() -> None:
    daily = daily_table(D0, [3.8, 3.9, 3.7, 3.8, 3.9])
    daily.loc[1, "quality"] = "poor: artifact share 30.0% > 20%"
    daily.loc[3, "source"] = "night_median"
    out = daily_trend(daily, [], today=D0 + timedelta(days=9)).daily
    assert out["counted"].tolist() == [True, False, True, False, True]
    assert out["exclusion"].tolist() == [
        None,
        "poor signal",
        None,
        "measured as night_median, not morning",
        None,
    ]
    assert out["grade"].tolist() == ["good", "poor", "good", "good", "good"]
    assert out["rolling_mean_7d"].iloc[4] == pytest.approx(np.mean([3.8, 3.7, 3.9]))


def test_primary_source_prefers_the_source_with_most_baseline_days() -> None:
    morning = daily_table(D0, [3.7, 3.8, 3.9, 3.75])
    nights = daily_table(D0 + timedelta(days=4), [4.3, 4.4], source="night_median")
    daily = pd.concat([morning, nights], ignore_index=True)
    assert primary_source(daily) == "morning"
    assert primary_source(daily, before=D0 + timedelta(days=1)) == "morning"
    assert primary_source(daily.drop(columns=["source"])) == "daily"


def test_the_band_needs_enough_baseline_days() -> None:
    daily = daily_table(D0, list(4.0 + 0.1 * np.sin(np.arange(BASELINE_MIN_DAYS + 3))))
    short = daily_trend(
        daily, [D0 + timedelta(days=BASELINE_MIN_DAYS - 1)], today=D0 + timedelta(days=30)
    )
    assert isinstance(short.band, InsufficientData)
    assert short.band.reason.startswith(f"the baseline has {BASELINE_MIN_DAYS - 1} valid")
    enough = daily_trend(
        daily, [D0 + timedelta(days=BASELINE_MIN_DAYS)], today=D0 + timedelta(days=30)
    )
    assert isinstance(enough.band, NormalBand) and enough.band.n_days == BASELINE_MIN_DAYS


def test_the_band_is_the_prediction_interval_of_a_7_day_mean() -> None:
    daily, s, today = _stable(2, rho=0.5)
    trend = daily_trend(daily, [s], today=today)  # type: ignore[list-item]
    band = trend.band
    assert isinstance(band, NormalBand)
    assert band.rho >= band.rho_hat >= 0.0
    # the width, computed from its definition with the AR(1) correlation of all the days involved
    window = [s + timedelta(days=k) for k in range(20, 27)]  # type: ignore[operator]
    base_t = np.array([(d - band.days[0]).days for d in band.days], dtype=float)
    r_b = ar1_correlation(base_t, band.rho)
    w = np.linalg.solve(r_b, np.ones(base_t.size))
    w /= w.sum()
    win_t = np.array([(d - band.days[0]).days for d in window], dtype=float)
    t_all = np.concatenate([base_t, win_t])
    a = np.concatenate([-w, np.full(7, 1 / 7)])
    var = band.sd_ln_rmssd**2 * a @ ar1_correlation(t_all, band.rho) @ a
    want = stats.t.ppf(0.5 + BAND_LEVEL / 2, band.n_days - 1) * math.sqrt(var)
    assert band.half_width(window) == pytest.approx(want)
    row = trend.daily[trend.daily["day"] == window[-1]].iloc[0]
    assert row["band_high"] - band.mean_ln_rmssd == pytest.approx(want)
    # wider than the full-week reference when fewer days count, and never the single-day ±0.5 SD
    assert band.half_width(window[:3]) > band.half_width(window)
    assert band.half_width_week > 0.5 * band.sd_ln_rmssd * 0.9
    assert "7-day means" in band.definition()


def test_a_stable_persons_badge_stays_in_the_band_on_at_least_90_percent_of_days() -> None:
    outside = days = 0
    old_outside = 0
    for seed in range(120):
        daily, s, today = simulate_daily(
            Cell(0.5, 0.05, 0.2, False, 28), np.random.default_rng(seed)
        )
        trend = daily_trend(daily, [s], today=today)
        after = trend.daily[trend.daily["day"] > s]
        pos = after["band_position"].dropna()
        outside += int((pos != "within").sum())
        days += len(pos)
        # the old band: baseline mean ± 0.5 SD of single days, applied to the same 7-day means
        base = daily[(daily["day"] < s) & daily["ln_rmssd"].notna()]["ln_rmssd"]
        m, sd = base.mean(), base.std(ddof=1)
        means = after["rolling_mean_7d"].dropna()
        old_outside += int(((means > m + 0.5 * sd) | (means < m - 0.5 * sd)).sum())
    assert outside / days <= 0.10
    assert old_outside / days > 0.3  # why the band changed


def test_a_first_session_still_ahead_gives_a_provisional_band() -> None:
    daily, s, _ = _stable(3)
    trend = daily_trend(daily, [s], today=s - timedelta(days=2))  # type: ignore[list-item, operator]
    assert isinstance(trend.band, NormalBand) and trend.band.provisional
    assert trend.band.last_day == s - timedelta(days=3)  # type: ignore[operator]


def test_bad_daily_tables_raise_typed_errors() -> None:
    daily = daily_table(D0, [3.8, 3.9, 3.7])
    with pytest.raises(TrendsError):
        daily_trend(daily.iloc[::-1], [], today=D0)
    with pytest.raises(TrendsError):
        daily_trend(daily.assign(day=["x", "y", "z"]), [], today=D0)
    with pytest.raises(TrendsError):
        daily_trend(daily.drop(columns=["day"]), [], today=D0)
    empty = daily_trend(daily.iloc[0:0], [D0], today=D0)
    assert empty.daily.empty and empty.latest() is None


def test_days_measured_from_another_beat_source_do_not_mix() -> None:
    from analysis.trends import daily_values

    from .conftest import at, frame, morning

    rows = []
    for k in range(6):
        day = D0 + timedelta(days=k)
        r = morning(day, 3.8 + 0.02 * k)
        r[0]["source"] = "browser" if k >= 4 else ("collector" if k % 2 else None)
        rows += r
    daily = daily_values(
        frame(rows),
        "Europe/Berlin",
        [(at(D0 + timedelta(days=k), 7.0), at(D0 + timedelta(days=k), 7.1)) for k in range(6)],
    )
    # windows without a source were stored before beats carried provenance: the collector
    assert daily["beat_source"].tolist() == ["collector"] * 4 + ["browser"] * 2
    out = daily_trend(daily, [], today=D0 + timedelta(days=9)).daily
    assert out["source_key"].tolist() == ["morning"] * 4 + ["morning/browser"] * 2
    assert out["counted"].tolist() == [True] * 4 + [False] * 2
    assert out["exclusion"].iloc[5] == "measured as morning/browser, not morning"
