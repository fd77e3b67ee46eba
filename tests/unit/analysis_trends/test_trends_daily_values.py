"""analysis.daily (through the analysis.trends façade): one value per local day from windows."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.trends import DAILY_COLUMNS, TrendsError, daily_values

from .conftest import D0, at, frame, morning, night, window_rows


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
