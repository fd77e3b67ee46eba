"""Which daily values count for trends and verdicts: grade, completeness and one source at a time.

Shared by ``analysis.band`` (baseline, normal band, rolling means) and ``analysis.verdicts``
(session change); computing the daily values is left to ``analysis.daily``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.errors import AnalysisError
from analysis.quality import FAIR, GOOD, INSUFFICIENT, POOR, QualityFormatError, split_quality

__all__ = [
    "BASELINE_MAX_DAYS",
    "COUNTED_GRADES",
    "SOURCE_ORDER",
    "CountedDays",
    "InsufficientData",
    "TrendsError",
    "counted_days",
    "json_float",
    "medicine_day_list",
    "primary_source",
    "source_keys",
]

#: Daily grades that count; ``poor`` and ``insufficient`` days never do.
COUNTED_GRADES: Final[frozenset[str]] = frozenset({GOOD, FAIR})
#: Preference among daily sources when they tie on valid days (see :func:`primary_source`).
SOURCE_ORDER: Final[tuple[str, ...]] = ("morning", "night_median", "day_median")
#: Beat source that needs no mention in a source key (the bedside collector's chest strap).
DEFAULT_BEAT_SOURCE: Final[str] = "collector"
#: The baseline is at most this many calendar days before the first medicine session.
BASELINE_MAX_DAYS: Final[int] = 60


class TrendsError(AnalysisError):
    """Bad input to the trend functions (missing columns, naive times, mixed sources...)."""


@dataclass(frozen=True)
class InsufficientData:
    """Explicit "cannot tell yet": no number is given, only why.

    Attributes
    ----------
    reason:
        Human-readable explanation.
    n_days:
        Valid days found.
    needed:
        Valid days required.
    period:
        Period label or ``None`` for a baseline or band.
    """

    reason: str
    n_days: int = 0
    needed: int = 0
    period: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation with ``"status": "insufficient_data"``."""
        return {"status": "insufficient_data", **asdict(self)}


def json_float(x: float) -> float | None:
    """``x`` as a float, or ``None`` when it is NaN or infinite (JSON has no NaN)."""
    return float(x) if math.isfinite(x) else None


def _grade(quality: object) -> str:
    if not isinstance(quality, str) or not quality:
        return INSUFFICIENT
    try:
        return split_quality(quality)[0]
    except QualityFormatError as exc:
        raise TrendsError(f"unknown daily quality {quality!r}", quality=quality) from exc


@dataclass(frozen=True, eq=False)
class CountedDays:
    """The daily table reduced to what trends may use.

    Attributes
    ----------
    days:
        Local dates, one per row of the input, in order.
    ln_rmssd:
        Daily ln RMSSD, ln(ms) (NaN where none).
    grade:
        ``good | fair | poor | insufficient`` per day.
    counted:
        The day counts: a finite value, grade good or fair, the chosen source and before
        ``today``.
    reason:
        Why a day does not count (empty where it does).
    artifact_share:
        Share of corrected beats behind the value (NaN where unknown).
    source:
        The source the counted days come from, or ``None`` when none counts.
    """

    days: tuple[date, ...]
    ln_rmssd: NDArray[np.float64]
    grade: NDArray[np.str_]
    counted: NDArray[np.bool_]
    reason: tuple[str, ...]
    artifact_share: NDArray[np.float64]
    source: str | None

    def index(self) -> dict[date, int]:
        """Row position of each date."""
        return {d: i for i, d in enumerate(self.days)}


def _check(daily: pd.DataFrame) -> None:
    missing = [c for c in ("day", "ln_rmssd") if c not in daily.columns]
    if missing:
        raise TrendsError(f"daily table lacks columns {missing}", missing=missing)


def _days(daily: pd.DataFrame) -> tuple[date, ...]:
    out: list[date] = []
    for value in daily["day"]:
        day = value.date() if isinstance(value, pd.Timestamp) else value
        if not isinstance(day, date):
            raise TrendsError(f"daily 'day' must hold dates, got {value!r}", value=repr(value))
        out.append(day)
    for a, b in itertools.pairwise(out):
        if b <= a:
            raise TrendsError(
                "daily table must hold one row per date, in date order", day=b.isoformat()
            )
    return tuple(out)


def source_keys(daily: pd.DataFrame) -> NDArray[np.str_] | None:
    """How each day was measured: ``source``, plus ``/beat_source`` unless the beats came from the
    collector (``"morning"``, ``"morning/browser"``, ``"night_median/apple_health"``); ``None``
    without a ``source`` column."""
    if "source" not in daily.columns:
        return None
    src = daily["source"].astype(str).to_numpy()
    if "beat_source" not in daily.columns:
        return src.astype(np.str_)
    beats = [
        b if isinstance(b, str) and b and b != DEFAULT_BEAT_SOURCE else ""
        for b in daily["beat_source"]
    ]
    return np.array(
        [f"{s}/{b}" if b and s != "none" else s for s, b in zip(src, beats, strict=True)],
        dtype=np.str_,
    )


def primary_source(daily: pd.DataFrame, before: date | None = None) -> str | None:
    """The source with the most valid days (before ``before`` if any there); ties prefer morning.

    Comparing days measured in different conditions (after waking vs asleep) would mix a
    systematic offset into the trend (ln RMSSD asleep is higher: Plews et al. 2013; Buchheit
    2014 ask for standardised conditions), so trends and verdicts use one source at a time.
    A source is a way of measuring (:func:`source_keys`: the daily value's kind and where its beats
    came from); a table without a ``source`` column is one source (``"daily"``).
    """
    _check(daily)
    ln = daily["ln_rmssd"].to_numpy(dtype=np.float64)
    grades = (
        np.array([_grade(q) for q in daily["quality"]])
        if "quality" in daily.columns
        else np.where(np.isfinite(ln), GOOD, INSUFFICIENT)
    )
    ok = np.isfinite(ln) & np.isin(grades, list(COUNTED_GRADES))
    keys = source_keys(daily)
    if keys is None:
        return "daily" if ok.any() else None
    src = keys
    ok &= src != "none"
    if before is not None:
        days = np.array(_days(daily), dtype=object)
        ok_before = ok & (days < before)
        if ok_before.any():
            ok = ok_before
    if not ok.any():
        return None
    counts = pd.Series(src[ok]).value_counts()
    known = [s for s in SOURCE_ORDER if s in counts.index]
    others = sorted(str(s) for s in counts.index if s not in SOURCE_ORDER)
    order = known + others
    return str(max(order, key=lambda s: (int(counts[s]), -order.index(s))))


def counted_days(
    daily: pd.DataFrame,
    *,
    today: date,
    source: str | None = None,
    before: date | None = None,
) -> CountedDays:
    """Mark the days that count for trends and verdicts, and why the others do not.

    Parameters
    ----------
    daily:
        One row per local date in order: ``day`` (date), ``ln_rmssd`` (ln ms, NaN without a
        value) and optionally ``quality`` (grade first: ``good | fair | poor | insufficient``),
        ``source`` and ``artifact_share``.
    today:
        The patient's local date now. Today and later never count: a day counts only once it
        is over (its morning reading finished, its night window ended).
    source:
        The source to use; default :func:`primary_source` (before ``before``).
    before:
        Date before which the primary source is chosen (the first medicine session).

    Raises
    ------
    TrendsError
        Missing columns, unordered or duplicate dates, unknown grades.
    """
    _check(daily)
    days = _days(daily)
    ln = daily["ln_rmssd"].to_numpy(dtype=np.float64)
    has_quality = "quality" in daily.columns
    grade = np.array(
        [_grade(q) for q in daily["quality"]]
        if has_quality
        else [GOOD if math.isfinite(v) else INSUFFICIENT for v in ln],
        dtype=np.str_,
    )
    src_col = source_keys(daily)
    src = source if source is not None else primary_source(daily, before=before)
    artifact = (
        daily["artifact_share"].to_numpy(dtype=np.float64)
        if "artifact_share" in daily.columns
        else np.full(len(days), math.nan)
    )
    counted = np.zeros(len(days), dtype=bool)
    reasons: list[str] = []
    for i, day in enumerate(days):
        g = str(grade[i])
        if day >= today:
            why = "today: not complete yet" if day == today else "in the future"
        elif not math.isfinite(ln[i]) or g == INSUFFICIENT:
            why = "no valid reading"
        elif g == POOR:
            why = "poor signal"
        elif g not in COUNTED_GRADES:
            why = f"grade {g}"
        elif src_col is not None and src_col[i] != src:
            why = f"measured as {src_col[i]}, not {src}"
        else:
            why = ""
            counted[i] = True
        reasons.append(why)
    return CountedDays(
        days=days,
        ln_rmssd=ln,
        grade=grade,
        counted=counted,
        reason=tuple(reasons),
        artifact_share=artifact,
        source=src,
    )


def medicine_day_list(medicine_days: Sequence[date]) -> list[date]:
    """Sorted distinct medicine-session dates (``datetime`` values are rejected)."""
    if isinstance(medicine_days, date) or not isinstance(medicine_days, Sequence | set | frozenset):
        raise TrendsError(
            f"medicine_days must be a sequence of dates, got {medicine_days!r}",
            value=repr(medicine_days),
        )
    out: set[date] = set()
    for d in medicine_days:
        if not isinstance(d, date) or isinstance(d, datetime):
            raise TrendsError(
                f"medicine_days must be local dates (datetime.date), got {d!r}", value=repr(d)
            )
        out.add(d)
    return sorted(out)
