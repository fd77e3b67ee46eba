"""Helpers of the trend tests: window rows as ``compute_windows_timed`` gives them, daily tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

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


D0 = date(2026, 3, 2)


def patient_windows(shift: float) -> tuple[pd.DataFrame, list[tuple[datetime, datetime]]]:
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
