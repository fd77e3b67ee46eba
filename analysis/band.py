"""The pre-session baseline, its normal band for 7-day means, and the rolling 7-day statistics.

A badge ("above / within / below band") judges the 7-day rolling mean of the days that count,
never a single day; session verdicts are left to ``analysis.verdicts`` and the daily values to
``analysis.daily``.

Method (see :func:`normal_band` and :func:`daily_trend`)
------------------------------------------------------------
* Baseline: the counted days of the primary source in the 60 days before the first medicine
  session (and before today), at least :data:`BASELINE_MIN_DAYS`.
* Rolling 7-day mean and CV of ln RMSSD over calendar days, each needing at least 3 counted
  days in the 7 (Plews et al. 2012, 2013, 2014).
* Normal band of a 7-day mean. Plews et al. and Buchheit (2014) judge the 7-day rolling mean
  of ln RMSSD against the athlete's own baseline and call 0.5 × the SD the smallest
  worthwhile change. Applying ± 0.5 SD *of single days* to 7-day means, or to single days,
  makes an ordinary stable day read "outside" most of the time (63 % in the simulations of
  issue 10). Here the band is instead a 90 % prediction interval for the 7-day mean of a
  person who has not changed: daily values follow the baseline level ``μ`` plus AR(1) noise
  (``analysis.ar1``: REML estimate of ``ρ`` and ``σ`` on the baseline days), and for each day
  the variance of (mean of the counted days in its 7-day window − estimated baseline level)
  is computed exactly from the AR(1) correlation between those days and the baseline days,
  ``Var = σ² aᵀ R a``. Because ρ estimated from a few weeks is biased low (Cheang & Reinsel
  2000), the band uses the upper end of ρ's one-sided :data:`BAND_RHO_LEVEL` likelihood
  interval, so that a stable person's badge leaves the band on at most 10 % of days in the
  calibration suite (``benchmarks/trends_calibration.py``): at the 80 % bound the worst stable
  cell (ρ 0.7, CV 10 %, 14 baseline days) was 10.9 %, above the limit, so the 90 % bound is used
  (4–5 % in the hardest cells, down to the 10-day minimum baseline). The band's half-width is
  ``t(0.95, n - 1) · sqrt(Var)``; it is wider where the window holds fewer counted days.

References
----------
Plews DJ, Laursen PB, Kilding AE, Buchheit M (2012). Heart rate variability in elite triathletes:
is variation in variability the key to effective training? Eur J Appl Physiol 112:3729-3741.
Plews DJ, Laursen PB, Stanley J, Kilding AE, Buchheit M (2013). Training adaptation and heart
rate variability in elite endurance athletes. Sports Med 43:773-781.
Plews DJ, Laursen PB, Kilding AE, Buchheit M (2014). Heart-rate variability and training-
intensity distribution in elite rowers. Int J Sports Physiol Perform 9:1026-1032.
Buchheit M (2014). Monitoring training status with HR measures: do all roads lead to Rome?
Front Physiol 5:73.
Cheang WK, Reinsel GC (2000). Bias reduction of autoregressive estimates in time series
regression model through restricted maximum likelihood. J Am Stat Assoc 95:1173-1184.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from analysis.ar1 import ar1_correlation, gls_fit, reml_profile
from analysis.quality import FAIR
from analysis.trend_days import (
    BASELINE_MAX_DAYS,
    CountedDays,
    InsufficientData,
    counted_days,
    json_float,
    medicine_day_list,
    source_keys,
)

__all__ = [
    "BAND_LEVEL",
    "BAND_RHO_LEVEL",
    "BASELINE_MIN_DAYS",
    "ROLLING_DAYS",
    "ROLLING_MIN_DAYS",
    "TREND_COLUMNS",
    "DailyTrend",
    "NormalBand",
    "baseline_window",
    "daily_trend",
    "normal_band",
]

#: Counted baseline days needed before a band or a verdict is given (calibration suite).
BASELINE_MIN_DAYS: Final[int] = 10
#: Rolling window (calendar days) and the counted days it needs.
ROLLING_DAYS: Final[int] = 7
ROLLING_MIN_DAYS: Final[int] = 3
#: Share of a stable person's 7-day means the band holds.
BAND_LEVEL: Final[float] = 0.90
#: One-sided likelihood level of the conservative ρ the band uses.
BAND_RHO_LEVEL: Final[float] = 0.90
#: Columns :func:`daily_trend` adds to the daily table.
TREND_COLUMNS: Final[tuple[str, ...]] = (
    "source_key",
    "grade",
    "complete",
    "counted",
    "exclusion",
    "in_baseline",
    "rolling_mean_7d",
    "rolling_days",
    "rolling_fair_days",
    "cv_7d_pct",
    "band_low",
    "band_high",
    "band_position",
)

BandPosition = Literal["above", "within", "below"]


@dataclass(frozen=True)
class NormalBand:
    """The baseline and the band a stable person's 7-day means stay in.

    Attributes
    ----------
    source:
        Daily source of the baseline (one source at a time).
    first_day, last_day:
        Calendar days of the baseline window (at most 60 before the first medicine session,
        from the first day of the table).
    days:
        The counted baseline days.
    n_possible:
        Calendar days in the window (from the first day of the table).
    needed:
        Counted days required (:data:`BASELINE_MIN_DAYS`).
    mean_ln_rmssd:
        Baseline level: GLS mean of the counted days under AR(1) errors, ln(ms).
    sd_ln_rmssd:
        Day-to-day SD (REML), ln(ms).
    rho:
        Lag-1 day-to-day autocorrelation used (the conservative bound, see module docstring).
    rho_hat:
        Its REML estimate.
    half_width_week:
        Half-width for a full week of counted days well after the baseline, ln(ms).
    n_fair:
        Baseline days graded fair.
    artifact_share:
        Mean artifact share of the counted days (NaN when unknown).
    cv_pct:
        ``sd / mean · 100``.
    provisional:
        The first medicine session is still ahead: the baseline is still growing.
    """

    source: str
    first_day: date
    last_day: date
    days: tuple[date, ...]
    n_possible: int
    needed: int
    mean_ln_rmssd: float
    sd_ln_rmssd: float
    rho: float
    rho_hat: float
    half_width_week: float
    n_fair: int
    artifact_share: float
    cv_pct: float
    provisional: bool
    _weights: NDArray[np.float64] = field(repr=False)
    _t_quantile: float = field(repr=False)

    @property
    def n_days(self) -> int:
        """Counted baseline days."""
        return len(self.days)

    @property
    def low_week(self) -> float:
        """Lower edge for a full week of counted days."""
        return self.mean_ln_rmssd - self.half_width_week

    @property
    def high_week(self) -> float:
        """Upper edge for a full week of counted days."""
        return self.mean_ln_rmssd + self.half_width_week

    def half_width(self, window_days: Sequence[date]) -> float:
        """Half-width for the 7-day mean of ``window_days`` (counted days of one window)."""
        return _half_width(
            self.days, self._weights, self.sd_ln_rmssd, self.rho, self._t_quantile, window_days
        )

    def half_widths(self, days: Sequence[date], windows: Sequence[Sequence[int]]) -> list[float]:
        """:meth:`half_width` of many windows, each given as positions into ``days``.

        ``Var(ȳ_W - μ̂) = Var(ȳ_W) + Var(μ̂) - 2 Cov(ȳ_W, μ̂)``, with the covariance of every day
        with the baseline mean computed once.
        """
        if not days:
            return []
        origin = self.days[0]
        t_days = np.array([(d - origin).days for d in days], dtype=np.float64)
        t_base = np.array([(d - origin).days for d in self.days], dtype=np.float64)
        rho = self.rho
        cov_base = np.power(rho, np.abs(t_days[:, None] - t_base[None, :])) @ self._weights
        r_base = np.power(rho, np.abs(t_base[:, None] - t_base[None, :]))
        var_mu = float(self._weights @ r_base @ self._weights)
        out: list[float] = []
        for win in windows:
            if not len(win):
                out.append(math.nan)
                continue
            tw = t_days[list(win)]
            var_w = float(np.power(rho, np.abs(tw[:, None] - tw[None, :])).mean())
            var = var_w + var_mu - 2.0 * float(cov_base[list(win)].mean())
            out.append(self._t_quantile * self.sd_ln_rmssd * math.sqrt(max(var, 0.0)))
        return out

    def definition(self) -> str:
        """One sentence saying what the band is."""
        return (
            f"{BAND_LEVEL:.0%} of a stable person's 7-day means fall inside: baseline level "
            f"{self.mean_ln_rmssd:.2f} ± {self.half_width_week:.2f} ln ms for a full week "
            f"(day-to-day SD {self.sd_ln_rmssd:.2f}, autocorrelation {self.rho:.2f}; "
            f"wider when fewer days count)"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (ISO dates, NaN as None)."""
        return {
            "status": "ok",
            "source": self.source,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "n_days": self.n_days,
            "n_possible": self.n_possible,
            "needed": self.needed,
            "mean_ln_rmssd": json_float(self.mean_ln_rmssd),
            "sd_ln_rmssd": json_float(self.sd_ln_rmssd),
            "rho": json_float(self.rho),
            "rho_hat": json_float(self.rho_hat),
            "level": BAND_LEVEL,
            "half_width_week": json_float(self.half_width_week),
            "low_week": json_float(self.low_week),
            "high_week": json_float(self.high_week),
            "n_fair": self.n_fair,
            "artifact_share": json_float(self.artifact_share),
            "cv_pct": json_float(self.cv_pct),
            "provisional": self.provisional,
            "definition": self.definition(),
        }


def _half_width(
    base_days: Sequence[date],
    weights: NDArray[np.float64],
    sd: float,
    rho: float,
    t_quantile: float,
    window_days: Sequence[date],
) -> float:
    """``t · sqrt(Var(mean of window days - weighted baseline mean))`` under AR(1)(ρ, σ)."""
    base = np.array([(d - base_days[0]).days for d in base_days], dtype=np.float64)
    win = np.array([(d - base_days[0]).days for d in window_days], dtype=np.float64)
    t_all = np.union1d(base, win)
    a = np.zeros(t_all.size)
    a[np.searchsorted(t_all, win)] += 1.0 / win.size
    a[np.searchsorted(t_all, base)] -= weights
    var = sd**2 * float(a @ ar1_correlation(t_all, rho) @ a)
    return t_quantile * math.sqrt(max(var, 0.0))


def baseline_window(
    days: Sequence[date], first_medicine_day: date, today: date
) -> tuple[date, date, int]:
    """First and last calendar day of the baseline window and its number of possible days.

    The window is the :data:`BASELINE_MAX_DAYS` days before the first medicine session, cut
    to start at the first day of the table (no day before it can count, so a page says
    "13 of 14 days" over the days it shows) and to end before today.
    """
    first = first_medicine_day - timedelta(days=BASELINE_MAX_DAYS)
    last = min(first_medicine_day, today) - timedelta(days=1)
    start = max(first, days[0]) if days else first
    return start, last, max(0, (last - start).days + 1)


def normal_band(
    counted: CountedDays, first_medicine_day: date, *, today: date
) -> NormalBand | InsufficientData:
    """Baseline of counted days before the first medicine session and its 7-day-mean band.

    Parameters
    ----------
    counted:
        From :func:`analysis.trend_days.counted_days`.
    first_medicine_day:
        Local date of the first medicine session (may lie ahead: the band is then provisional).
    today:
        The patient's local date now (today never counts).

    Returns
    -------
    NormalBand or InsufficientData
        ``InsufficientData`` with fewer than :data:`BASELINE_MIN_DAYS` counted days, or no
        day-to-day variation.
    """
    first, last, possible = baseline_window(counted.days, first_medicine_day, today)
    days = np.array(counted.days, dtype=object)
    sel = counted.counted & (days >= first) & (days <= last) if len(days) else counted.counted
    n = int(sel.sum())
    if counted.source is None or n < BASELINE_MIN_DAYS:
        what = f" {counted.source}" if counted.source else ""
        return InsufficientData(
            f"the baseline has {n} valid{what} day(s) of {possible} before the first medicine "
            f"session, needs {BASELINE_MIN_DAYS}",
            n_days=n,
            needed=BASELINE_MIN_DAYS,
        )
    base_days = tuple(days[sel].tolist())
    y = counted.ln_rmssd[sel]
    t = np.array([(d - base_days[0]).days for d in base_days], dtype=np.float64)
    x = np.ones((n, 1))
    if float(np.ptp(y)) <= 0.0:
        return InsufficientData(
            "the baseline days show no day-to-day variation", n_days=n, needed=BASELINE_MIN_DAYS
        )
    profile = reml_profile(t, y, x)
    rho = max(profile.upper_bound(BAND_RHO_LEVEL), 0.0)
    fit = gls_fit(t, y, x, rho)
    sd = math.sqrt(float(fit.scale))
    r_inv_one = np.linalg.solve(ar1_correlation(t, rho), np.ones(n))
    weights = r_inv_one / r_inv_one.sum()
    t_q = float(stats.t.ppf(0.5 + BAND_LEVEL / 2.0, n - 1))
    mean = float(fit.params[0])
    grades = counted.grade[sel]
    art = counted.artifact_share[sel]
    far = base_days[-1] + timedelta(days=365)
    week = [far + timedelta(days=k) for k in range(ROLLING_DAYS)]
    return NormalBand(
        source=counted.source,
        first_day=first,
        last_day=last,
        days=base_days,
        n_possible=possible,
        needed=BASELINE_MIN_DAYS,
        mean_ln_rmssd=mean,
        sd_ln_rmssd=sd,
        rho=rho,
        rho_hat=profile.rho_hat,
        half_width_week=_half_width(base_days, weights, sd, rho, t_q, week),
        n_fair=int(np.sum(grades == FAIR)),
        artifact_share=float(np.nanmean(art)) if np.isfinite(art).any() else math.nan,
        cv_pct=sd / mean * 100.0 if mean != 0 else math.nan,
        provisional=first_medicine_day >= today,
        _weights=weights,
        _t_quantile=t_q,
    )


@dataclass(frozen=True, eq=False)
class DailyTrend:
    """The daily table with what counts, the rolling statistics, band and badge per day.

    Attributes
    ----------
    daily:
        The input columns plus :data:`TREND_COLUMNS`, one row per local date in order.
    source:
        The primary source (the one counted), or ``None``.
    band:
        :class:`NormalBand`, or :class:`InsufficientData` saying why there is none.
    today:
        The patient's local date the table was judged on.
    """

    daily: pd.DataFrame
    source: str | None
    band: NormalBand | InsufficientData
    today: date

    def latest(self) -> pd.Series | None:
        """The last complete day with a 7-day mean (the badge), or ``None``."""
        if self.daily.empty:
            return None
        ok = self.daily["complete"].to_numpy(dtype=bool) & np.isfinite(
            self.daily["rolling_mean_7d"].to_numpy(dtype=np.float64)
        )
        if not ok.any():
            return None
        return self.daily.iloc[int(np.flatnonzero(ok)[-1])]


def _rolling(
    counted: CountedDays, band: NormalBand | InsufficientData, today: date
) -> dict[str, list[Any]]:
    idx = counted.index()
    out: dict[str, list[Any]] = {c: [] for c in TREND_COLUMNS[5:]}
    windows: list[list[int]] = []
    for day in counted.days:
        rows: list[int] = []
        if day < today:  # an incomplete day has no 7-day mean of its own
            for k in range(ROLLING_DAYS - 1, -1, -1):
                i = idx.get(day - timedelta(days=k))
                if i is not None and counted.counted[i]:
                    rows.append(i)
        windows.append(rows if len(rows) >= ROLLING_MIN_DAYS else [])
    halves = (
        band.half_widths(counted.days, windows)
        if isinstance(band, NormalBand)
        else [math.nan] * len(windows)
    )
    for day, rows, half in zip(counted.days, windows, halves, strict=True):
        values = counted.ln_rmssd[rows]
        mean = float(values.mean()) if rows else math.nan
        cv = float(values.std(ddof=1) / mean * 100.0) if rows and mean != 0 else math.nan
        low = high = math.nan
        position: BandPosition | None = None
        if isinstance(band, NormalBand) and rows:
            low, high = band.mean_ln_rmssd - half, band.mean_ln_rmssd + half
            position = "above" if mean > high else "below" if mean < low else "within"
        out["in_baseline"].append(
            isinstance(band, NormalBand) and band.first_day <= day <= band.last_day
        )
        out["rolling_mean_7d"].append(mean)
        out["rolling_days"].append(len(rows))
        out["rolling_fair_days"].append(int(np.sum(counted.grade[rows] == FAIR)))
        out["cv_7d_pct"].append(cv)
        out["band_low"].append(low)
        out["band_high"].append(high)
        out["band_position"].append(position)
    return out


def daily_trend(
    daily: pd.DataFrame,
    medicine_days: Sequence[date],
    *,
    today: date,
    source: str | None = None,
) -> DailyTrend:
    """What counts, the 7-day rolling mean and CV, the normal band and the badge, per day.

    Parameters
    ----------
    daily:
        One row per local date in order: ``day``, ``ln_rmssd`` and optionally ``quality``,
        ``source``, ``artifact_share`` (as :func:`analysis.daily.daily_values` returns).
    medicine_days:
        Local dates of medicine sessions; the first one ends the baseline. Without one there
        is no baseline and no band.
    today:
        The patient's local date now: today and later never count, so a partial reading
        moves neither the rolling mean, the band nor the badge.
    source:
        Daily source to count; default the primary source before the first medicine session.

    Returns
    -------
    DailyTrend
        The table with :data:`TREND_COLUMNS` added; ``band_position`` is the badge of each
        day's 7-day mean (``None`` without a mean or band).
    """
    med = medicine_day_list(medicine_days)
    counted = counted_days(daily, today=today, source=source, before=med[0] if med else None)
    if med:
        band: NormalBand | InsufficientData = normal_band(counted, med[0], today=today)
    else:
        band = InsufficientData(
            "no medicine session recorded: the baseline is the days before the first one",
            needed=BASELINE_MIN_DAYS,
        )
    cols = _rolling(counted, band, today)
    keys = source_keys(daily)
    out = daily.reset_index(drop=True).assign(
        source_key=pd.Series(
            keys.tolist() if keys is not None else ["daily"] * len(daily), dtype=object
        ),
        grade=counted.grade.astype(object),
        complete=[d < today for d in counted.days],
        counted=counted.counted,
        exclusion=pd.Series([r or None for r in counted.reason], dtype=object),
        **cols,
    )
    if out.empty:
        out = out.astype({"complete": bool, "counted": bool, "in_baseline": bool})
    return DailyTrend(daily=out, source=counted.source, band=band, today=today)
