"""One regulation value per local day from a patient's 5-minute windows.

The morning reading when there is one, else a documented fallback (the night's median of good
windows); each day keeps its grade, artifact share and wear. Which days count for trends and how
change is judged are left to ``analysis.trend_days``, ``analysis.band`` and ``analysis.verdicts``.

References
----------
Task Force of the ESC and NASPE (1996). Heart rate variability. Circulation 93:1043-1065.
Plews DJ, Laursen PB, Stanley J, Kilding AE, Buchheit M (2013). Training adaptation and heart
rate variability in elite endurance athletes. Sports Med 43:773-781.
Buchheit M (2014). Monitoring training status with HR measures: do all roads lead to Rome?
Front Physiol 5:73.
Esco MR, Flatt AA (2014). Ultra-short-term heart rate variability indexes at rest and
post-exercise in athletes. J Sports Sci Med 13:535-541.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.bounds import DEFAULT_WINDOW_S, MIN_BEATS
from analysis.quality import GOOD, INSUFFICIENT, format_quality, grade_window, split_quality
from analysis.trend_days import DEFAULT_BEAT_SOURCE, TrendsError

__all__ = [
    "DAILY_COLUMNS",
    "FALLBACK_SOURCES",
    "REQUIRED_WINDOW_COLUMNS",
    "aware",
    "daily_values",
    "patient_zone",
]

#: Columns of :func:`daily_values`, in order.
DAILY_COLUMNS: Final[tuple[str, ...]] = (
    "day",
    "source",
    "beat_source",
    "ln_rmssd",
    "rmssd_ms",
    "resting_hr_bpm",
    "stress_index",
    "n_windows",
    "wear_hours",
    "artifact_share",
    "quality",
)
#: Window-table columns :func:`daily_values` reads.
REQUIRED_WINDOW_COLUMNS: Final[tuple[str, ...]] = (
    "window_start",
    "n_beats",
    "artifact_share",
    "mean_nn_ms",
    "rmssd_ms",
    "stress_index",
    "quality",
)

Source = Literal["morning", "night_median", "day_median", "none"]

FALLBACK_SOURCES: Final[tuple[str, ...]] = ("night_median", "day_median")

#: A detected morning reading starts between these local hours ...
MORNING_START_H: Final[float] = 4.0
MORNING_END_H: Final[float] = 11.0
#: ... after at least this long without beats (s) ...
MORNING_MIN_GAP_S: Final[float] = 30 * 60.0
#: ... and lasts at most this long (s): a guided reading is 5 min, allow a slow start.
MORNING_MAX_SPAN_S: Final[float] = 20 * 60.0
#: Nominal length of a morning reading (s), for its coverage when detected.
MORNING_NOMINAL_S: Final[float] = 300.0
#: Shortest usable morning reading (s): 1-min ln RMSSD agrees with 5-min values at rest
#: (Esco & Flatt 2014).
MORNING_MIN_S: Final[float] = 60.0
#: Night fallback: good windows starting 00:00–06:00 local, at least this many (30 min).
NIGHT_START_H: Final[float] = 0.0
NIGHT_END_H: Final[float] = 6.0
NIGHT_MIN_WINDOWS: Final[int] = 6
#: Day fallback (only when asked for): good windows starting 08:00–20:00 local, at least 6.
DAY_START_H: Final[float] = 8.0
DAY_END_H: Final[float] = 20.0
DAY_MIN_WINDOWS: Final[int] = 6


def patient_zone(tz: str) -> ZoneInfo:
    """The IANA zone ``tz``; :class:`TrendsError` when unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TrendsError(f"unknown time zone {tz!r}", tz=tz) from exc


def aware(dt: datetime, name: str) -> datetime:
    """``dt`` unchanged when tz-aware; :class:`TrendsError` naming ``name`` otherwise."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise TrendsError(f"{name} must be timezone-aware, got {dt!r}", field=name)
    return dt


def _prepare_windows(windows: pd.DataFrame, zone: ZoneInfo) -> pd.DataFrame:
    missing = [c for c in REQUIRED_WINDOW_COLUMNS if c not in windows.columns]
    if missing:
        raise TrendsError(f"window table lacks columns {missing}", missing=missing)
    ws = windows["window_start"]
    if len(ws) and not isinstance(ws.dtype, pd.DatetimeTZDtype):
        raise TrendsError(
            "window_start must be tz-aware timestamps (e.g. UTC)", dtype=str(ws.dtype)
        )
    w = windows.loc[:, list(REQUIRED_WINDOW_COLUMNS)].copy()
    if "ln_rmssd" in windows.columns:
        w["ln_rmssd"] = windows["ln_rmssd"].to_numpy(dtype=np.float64)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            w["ln_rmssd"] = np.log(w["rmssd_ms"].to_numpy(dtype=np.float64))
    if "source" in windows.columns:
        w["beat_source"] = [
            str(v) if isinstance(v, str) and v else DEFAULT_BEAT_SOURCE for v in windows["source"]
        ]
    else:
        w["beat_source"] = DEFAULT_BEAT_SOURCE
    w = w.sort_values("window_start", kind="stable").reset_index(drop=True)
    if len(w) == 0:
        w["local"] = pd.Series([], dtype=f"datetime64[ns, {zone.key}]")
        w["grade"] = pd.Series([], dtype=object)
        w["day"] = pd.Series([], dtype=object)
        w["hour"] = pd.Series([], dtype=np.float64)
        w["covered_s"] = pd.Series([], dtype=np.float64)
        return w
    local = w["window_start"].dt.tz_convert(zone)
    w["local"] = local
    w["day"] = local.dt.date
    w["hour"] = (
        local.dt.hour.to_numpy(dtype=np.float64)
        + local.dt.minute.to_numpy(dtype=np.float64) / 60.0
        + local.dt.second.to_numpy(dtype=np.float64) / 3600.0
    )
    w["grade"] = [split_quality(str(q))[0] for q in w["quality"]]
    n = w["n_beats"].to_numpy(dtype=np.float64)
    mean_nn = w["mean_nn_ms"].to_numpy(dtype=np.float64)
    w["covered_s"] = np.where(np.isfinite(mean_nn), n * mean_nn / 1000.0, 0.0)
    return w


def _epoch_s(ts: pd.Series) -> NDArray[np.float64]:
    """Epoch seconds of tz-aware timestamps, whatever the datetime64 resolution."""
    delta = ts.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")
    out: NDArray[np.float64] = delta.dt.total_seconds().to_numpy(dtype=np.float64)
    return out


def _detect_morning_readings(
    w: pd.DataFrame, window_s: float
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Short isolated runs of windows starting 04:00–11:00 local after >= 30 min without beats."""
    if len(w) == 0:
        return []
    start_s = _epoch_s(w["window_start"])
    new_run = np.ones(start_s.size, dtype=bool)
    new_run[1:] = np.diff(start_s) > window_s * 1.001
    firsts = np.flatnonzero(new_run)
    lasts = np.concatenate((firsts[1:] - 1, [start_s.size - 1]))
    out: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for r, (i, j) in enumerate(zip(firsts, lasts, strict=True)):
        span = start_s[j] + window_s - start_s[i]
        gap_before = math.inf if r == 0 else start_s[i] - (start_s[lasts[r - 1]] + window_s)
        hour = float(w["hour"].iloc[i])
        if (
            span <= MORNING_MAX_SPAN_S
            and gap_before >= MORNING_MIN_GAP_S
            and MORNING_START_H <= hour < MORNING_END_H
        ):
            begin = w["window_start"].iloc[i]
            out.append((begin, begin + pd.Timedelta(seconds=span)))
    return out


def _pool(sel: pd.DataFrame, weights: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Pooled RMSSD (ms), mean HR (bpm), stress index and artefact share of several windows.

    RMSSD pools mean squared successive differences, weighted by beats:
    ``sqrt(sum w·rmssd² / sum w)``; HR is ``60000 / (weighted mean NN)``; the stress index and
    artefact share are weighted means (the stress index of the pooled histogram is not
    recoverable from per-window values).
    """
    rmssd = sel["rmssd_ms"].to_numpy(dtype=np.float64)
    mean_nn = sel["mean_nn_ms"].to_numpy(dtype=np.float64)
    si = sel["stress_index"].to_numpy(dtype=np.float64)
    art = sel["artifact_share"].to_numpy(dtype=np.float64)
    total = float(weights.sum())
    pooled_rmssd = math.sqrt(float(np.sum(weights * rmssd**2)) / total)
    hr = 60000.0 / (float(np.sum(weights * mean_nn)) / total)
    ok = np.isfinite(si)
    stress = float(np.sum(weights[ok] * si[ok]) / weights[ok].sum()) if ok.any() else math.nan
    art_ok = np.isfinite(art)
    artifact = (
        float(np.sum(weights[art_ok] * art[art_ok]) / weights[art_ok].sum())
        if art_ok.any()
        else math.nan
    )
    return pooled_rmssd, hr, stress, artifact


def _beat_source(sel: pd.DataFrame, weights: NDArray[np.float64]) -> str:
    """The beat source behind most of a value's weight (windows hold one source each)."""
    totals = pd.Series(weights, index=sel["beat_source"].to_numpy()).groupby(level=0).sum()
    return str(totals.idxmax())


def _morning_value(
    day_w: pd.DataFrame,
    intervals: list[tuple[pd.Timestamp, pd.Timestamp]],
    window_s: float,
    nominal_from_interval: bool,
) -> dict[str, Any] | None:
    for begin, end in intervals:
        ws = _epoch_s(day_w["window_start"])
        overlap_s = np.minimum(ws + window_s, end.timestamp()) - np.maximum(ws, begin.timestamp())
        sel_mask = (overlap_s > 0) & np.isfinite(day_w["rmssd_ms"].to_numpy(dtype=np.float64))
        sel_mask &= np.isfinite(day_w["mean_nn_ms"].to_numpy(dtype=np.float64))
        if not sel_mask.any():
            continue
        sel = day_w.loc[sel_mask]
        covered = sel["covered_s"].to_numpy(dtype=np.float64)
        share = np.clip(overlap_s[sel_mask] / np.maximum(covered, 1e-9), 0.0, 1.0)
        n = sel["n_beats"].to_numpy(dtype=np.float64)
        weights = n * share
        if weights.sum() <= 0:
            continue
        rmssd, hr, stress, artifact = _pool(sel, weights)
        nominal = (end - begin).total_seconds() if nominal_from_interval else MORNING_NOMINAL_S
        quality = grade_window(
            n_beats=round(float(weights.sum())),
            duration_s=float(np.sum(covered * share)),
            window_s=max(nominal, 1.0),
            artifact_share=artifact if math.isfinite(artifact) else 0.0,
            min_beats=MIN_BEATS,
            min_duration_s=MORNING_MIN_S,
        )
        return {
            "source": "morning",
            "beat_source": _beat_source(sel, weights),
            "ln_rmssd": math.log(rmssd) if rmssd > 0 else math.nan,
            "rmssd_ms": rmssd,
            "resting_hr_bpm": hr,
            "stress_index": stress,
            "n_windows": int(sel_mask.sum()),
            "artifact_share": artifact,
            "quality": quality,
        }
    return None


def _median_value(
    day_w: pd.DataFrame, source: str, lo_h: float, hi_h: float, min_windows: int
) -> dict[str, Any] | None:
    hour = day_w["hour"].to_numpy(dtype=np.float64)
    m = (
        (hour >= lo_h)
        & (hour < hi_h)
        & (day_w["grade"].to_numpy() == GOOD)
        & np.isfinite(day_w["ln_rmssd"].to_numpy(dtype=np.float64))
    )
    if int(m.sum()) < min_windows:
        return None
    sel = day_w.loc[m]
    ln = float(np.median(sel["ln_rmssd"].to_numpy(dtype=np.float64)))
    return {
        "source": source,
        "beat_source": _beat_source(sel, np.ones(len(sel))),
        "ln_rmssd": ln,
        "rmssd_ms": math.exp(ln),
        "resting_hr_bpm": float(np.nanmedian(60000.0 / sel["mean_nn_ms"].to_numpy(np.float64))),
        "stress_index": float(np.nanmedian(sel["stress_index"].to_numpy(np.float64)))
        if np.isfinite(sel["stress_index"].to_numpy(np.float64)).any()
        else math.nan,
        "n_windows": int(m.sum()),
        "artifact_share": float(np.nanmean(sel["artifact_share"].to_numpy(np.float64))),
        "quality": format_quality(
            GOOD, [f"median of {int(m.sum())} good windows {lo_h:02.0f}:00-{hi_h:02.0f}:00"]
        ),
    }


def daily_values(
    windows: pd.DataFrame,
    tz: str,
    morning_readings: Sequence[tuple[datetime, datetime]] | None = None,
    *,
    fallbacks: Sequence[str] = ("night_median",),
    window_s: float = DEFAULT_WINDOW_S,
    first_day: date | None = None,
    last_day: date | None = None,
) -> pd.DataFrame:
    """One regulation value per local date.

    The daily value is, in order of preference:

    1. ``morning``: the day's first morning reading. With ``morning_readings`` given, those
       intervals are used (and nothing is detected); with ``None`` a reading is *detected* as a
       short (<= 20 min) isolated run of consecutive windows starting 04:00–11:00 local after
       >= 30 min without any window holding beats. Its windows are pooled: RMSSD as the
       root of the beat-weighted mean of squared RMSSDs (each window weighted by its beats
       inside the reading, assuming beats spread evenly within a window), HR from the weighted
       mean NN. Its quality is graded over the whole reading (``analysis.quality.grade_window``,
       at least 60 s and 3 beats; coverage relative to the interval, or to 5 min if detected).
    2. ``night_median``: the median ln RMSSD (and HR, stress index) of the ``good`` windows
       starting 00:00–06:00 local, when there are at least 6 (30 min).
    3. ``day_median`` (only if listed in ``fallbacks``): the same over 08:00–20:00. Daytime
       values depend on activity; it is off by default.
    4. ``none``: no value; ``quality`` says why. Nothing is imputed.

    Parameters
    ----------
    windows:
        Per-window markers: ``window_start`` (tz-aware timestamps), ``n_beats``,
        ``artifact_share``, ``mean_nn_ms``, ``rmssd_ms``, ``stress_index``, ``quality``
        (``ln_rmssd`` used when present), as from ``analysis.compute_windows_timed``.
    tz:
        The patient's IANA time zone; days are local dates.
    morning_readings:
        Explicit (start, end) intervals of morning readings, tz-aware; ``None`` to detect them.
    fallbacks:
        Fallback sources in order, from ``"night_median"``, ``"day_median"``.
    window_s:
        Window length the table was computed with, s (default 300).
    first_day, last_day:
        Extend (or cut) the table to these local dates; default the windows' first and last.

    Returns
    -------
    pandas.DataFrame
        :data:`DAILY_COLUMNS`, one row per local date in order (days without data included,
        ``source == "none"``). ``beat_source`` is where the value's beats came from (the windows'
        ``source`` column: ``collector``, ``browser``, an import format; ``collector`` when the
        windows do not say), so that trends compare one way of measuring at a time. ``ln_rmssd`` in ln(ms), ``rmssd_ms`` in ms, ``resting_hr_bpm`` in
        bpm, ``wear_hours`` = hours covered by NN intervals that day (all windows),
        ``artifact_share`` of the windows behind the value, ``quality`` a quality string whose
        first word is the grade.

    Raises
    ------
    TrendsError
        Missing columns, naive timestamps, unknown time zone or fallback.

    References
    ----------
    Plews et al. (2013) Sports Med 43:773; Buchheit (2014) Front Physiol 5:73; Task Force (1996)
    Circulation 93:1043; Esco & Flatt (2014) J Sports Sci Med 13:535.
    """
    zone = patient_zone(tz)
    for fb in fallbacks:
        if fb not in FALLBACK_SOURCES:
            raise TrendsError(f"unknown fallback {fb!r}", fallback=fb)
    if not (math.isfinite(window_s) and window_s > 0):
        raise TrendsError(f"window_s must be positive, got {window_s}", window_s=window_s)
    w = _prepare_windows(windows, zone)
    if morning_readings is None:
        intervals = _detect_morning_readings(w, window_s)
        nominal_from_interval = False
    else:
        intervals = []
        for i, (a, b) in enumerate(morning_readings):
            aware(a, f"morning_readings[{i}] start")
            aware(b, f"morning_readings[{i}] end")
            if b <= a:
                raise TrendsError(f"morning reading {i} ends before it starts", index=i)
            intervals.append((pd.Timestamp(a), pd.Timestamp(b)))
        nominal_from_interval = True
    intervals.sort(key=lambda iv: iv[0])

    days_present = sorted(set(w["day"])) if len(w) else []
    lo = first_day or (days_present[0] if days_present else None)
    hi = last_day or (days_present[-1] if days_present else None)
    if lo is None or hi is None or hi < lo:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in DAILY_COLUMNS})
    all_days = [lo + timedelta(days=k) for k in range((hi - lo).days + 1)]

    by_day = dict(tuple(w.groupby("day", sort=True))) if len(w) else {}
    by_day_morning: dict[date, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for a, b in intervals:
        by_day_morning.setdefault(a.tz_convert(zone).date(), []).append((a, b))

    rows: list[dict[str, Any]] = []
    for day in all_days:
        day_w = by_day.get(day)
        row: dict[str, Any] = {
            "day": day,
            "source": "none",
            "beat_source": None,
            "ln_rmssd": math.nan,
            "rmssd_ms": math.nan,
            "resting_hr_bpm": math.nan,
            "stress_index": math.nan,
            "n_windows": 0,
            "wear_hours": 0.0,
            "artifact_share": math.nan,
            "quality": "",
        }
        if day_w is None or len(day_w) == 0:
            row["quality"] = format_quality(INSUFFICIENT, ["no recording on this day"])
            rows.append(row)
            continue
        row["wear_hours"] = float(day_w["covered_s"].sum()) / 3600.0
        value = None
        readings = by_day_morning.get(day, [])
        if readings:
            value = _morning_value(day_w, readings, window_s, nominal_from_interval)
        for fb in fallbacks:
            if value is not None:
                break
            if fb == "night_median":
                value = _median_value(day_w, fb, NIGHT_START_H, NIGHT_END_H, NIGHT_MIN_WINDOWS)
            else:
                value = _median_value(day_w, fb, DAY_START_H, DAY_END_H, DAY_MIN_WINDOWS)
        if value is None:
            why = "no usable morning reading" if readings else "no morning reading"
            if "night_median" in fallbacks:
                why += f" and < {NIGHT_MIN_WINDOWS} good night windows (00:00-06:00)"
            row["quality"] = format_quality(INSUFFICIENT, [why])
        else:
            row.update(value)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(DAILY_COLUMNS))
    out["n_windows"] = out["n_windows"].astype(np.int64)
    for c in ("ln_rmssd", "rmssd_ms", "resting_hr_bpm", "stress_index", "wear_hours"):
        out[c] = out[c].astype(np.float64)
    out["artifact_share"] = out["artifact_share"].astype(np.float64)
    return out
