"""Session verdicts: change of daily ln RMSSD in days 1–3, 4–14 and 15–28 after each medicine
session, judged from all counted days at once with a calibrated family-wise error rate.

Daily values, what counts and the normal band are left to ``analysis.daily``,
``analysis.trend_days`` and ``analysis.band``; the AR(1) regression to ``analysis.ar1``.

Model
-----
All counted days of the primary source, from the baseline (the 60 days before the first
medicine session) through every period of every session, enter one regression::

    ln RMSSD_t = μ + β·t + Σ_(session, period) δ_sp · 1[t in that period] + e_t

with ``e`` AR(1) on the calendar-day grid (missing days are simply not observed;
``analysis.ar1``). ``δ_sp`` is the period's change against the baseline level *extended by
the slow trend* β: a drift that began before the session (+0.005/day in the calibration
suite) is not attributed to the session. Days 0 (the session day) and days after day 28
before the next session belong to no period and are left out. Periods stop before the next
medicine session, and ``today`` and later never count.

Estimation and calibration
--------------------------
ρ is the REML estimate over a grid; the coefficients, their SEs and residual degrees of
freedom come from ``statsmodels`` GLS with that ρ. A plug-in ρ from a few weeks is biased low,
and t intervals then exclude 0 too often (10–11 % family-wise at ρ = 0.7 in the calibration
suite). So the null distribution of each period's t statistic is taken from a parametric
bootstrap (Davison & Hinkley 1997, ch. 4): :data:`BOOTSTRAP_REPLICATES` AR(1) series with the
fitted ρ on the patient's own observed days, each refitted exactly as the data were (own REML
ρ, GLS). The p-value is ``(1 + #{|t*| >= |t|}) / (R + 1)``; intervals are
``δ̂ ± c·SE`` with ``c`` the matching quantile of ``|t*|``. The random stream is seeded from
the data, so one data set always gives one verdict.

Family-wise control: Holm's step-down procedure across a session's periods (Holm 1979), at
family-wise α = 0.05. Each interval is reported at its Holm step's level (98.3 %, 97.5 % or
95 % for three periods), so ``flagged`` ⇔ the interval excludes 0. A period not yet judged
enters with p = 1.

Minimal detectable change: ``MDC = (c_(α/m) + q_0.8) · SE`` with ``c_(α/m)`` the critical
value of the first Holm step and ``q_0.8`` the 80th percentile of ``t*``: the change that would
be flagged with 80 % power given the days present (Bloom 1995).

References
----------
Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70.
Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application. Cambridge Univ. Press.
Bloom HS (1995). Minimum detectable effects: a simple way to report the statistical power of
experimental designs. Eval Rev 19:547-556.
Cheang WK, Reinsel GC (2000). Bias reduction of autoregressive estimates in time series
regression model through restricted maximum likelihood. J Am Stat Assoc 95:1173-1184.
Plews DJ, Laursen PB, Stanley J, Kilding AE, Buchheit M (2013). Training adaptation and heart
rate variability in elite endurance athletes. Sports Med 43:773-781.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from analysis.ar1 import MIN_DF_RESID, gls_fit, null_t_statistics, reml_profile
from analysis.band import BASELINE_MIN_DAYS, baseline_window
from analysis.bounds import ARTIFACT_SHARE_FAIR
from analysis.quality import FAIR, GOOD, POOR
from analysis.trend_days import CountedDays, TrendsError, counted_days, medicine_day_list

__all__ = [
    "BOOTSTRAP_REPLICATES",
    "FAMILY_ALPHA",
    "FAMILY_METHOD",
    "PERIODS",
    "STATES",
    "VERDICT_COLUMNS",
    "ModelSummary",
    "PeriodVerdict",
    "RhoRule",
    "SessionJudgement",
    "judge_sessions",
    "period_needed_days",
    "session_verdicts",
]

#: Periods after a medicine session: (label, first day, last day); day 0 = the session's date.
PERIODS: Final[tuple[tuple[str, int, int], ...]] = (
    ("days 1-3", 1, 3),
    ("days 4-14", 4, 14),
    ("days 15-28", 15, 28),
)
#: States of a period.
STATES: Final[tuple[str, ...]] = ("verdict", "in_progress", "not_reached", "insufficient")
State = Literal["verdict", "in_progress", "not_reached", "insufficient"]
#: Family-wise error rate across a session's periods.
FAMILY_ALPHA: Final[float] = 0.05
#: How the family is controlled (shown on cards and reports).
FAMILY_METHOD: Final[str] = "Holm across the session's periods"
#: A period needs this share of its calendar days counted, and at least PERIOD_MIN_DAYS.
PERIOD_MIN_SHARE: Final[float] = 0.5
PERIOD_MIN_DAYS: Final[int] = 2
#: Power at which the minimal detectable change is given.
MDC_POWER: Final[float] = 0.80
#: Null replicates of the parametric bootstrap ((R + 1)·α/3 is a whole number).
BOOTSTRAP_REPLICATES: Final[int] = 299
#: Above this share of fair days a period carries a caveat.
FAIR_CAVEAT_SHARE: Final[float] = 0.5
#: Trend regressor unit: days per unit (keeps the design well conditioned).
_TREND_SCALE_DAYS: Final[float] = 30.0

#: Columns of :func:`session_verdicts`: the contract first, then details.
VERDICT_COLUMNS: Final[tuple[str, ...]] = (
    "session_day",
    "period",
    "state",
    "n_days",
    "diff_ln_rmssd",
    "ci_low",
    "ci_high",
    "mdc_ln_rmssd",
    "flagged",
    "reason",
    "first_day",
    "last_day",
    "n_possible",
    "needed_days",
    "ci_level",
    "p_value",
    "p_adjusted",
    "n_good",
    "n_fair",
    "n_poor",
    "fair_share",
    "artifact_share",
    "caveat",
)

RhoRule = Literal["bootstrap", "plugin", "upper"]


@dataclass(frozen=True)
class PeriodVerdict:
    """One period after one medicine session (see :data:`VERDICT_COLUMNS`).

    ``diff_ln_rmssd``, ``ci_low``, ``ci_high``, ``mdc_ln_rmssd``, ``p_value`` and ``p_adjusted``
    are NaN unless ``state == "verdict"``; ``reason`` is empty for verdicts and says why for the
    other states; ``caveat`` warns about the data quality behind the period (empty if none).
    """

    session_day: date
    period: str
    state: State
    n_days: int
    diff_ln_rmssd: float
    ci_low: float
    ci_high: float
    mdc_ln_rmssd: float
    flagged: bool
    reason: str
    first_day: date
    last_day: date
    n_possible: int
    needed_days: int
    ci_level: float
    p_value: float
    p_adjusted: float
    n_good: int
    n_fair: int
    n_poor: int
    fair_share: float
    artifact_share: float
    caveat: str

    @property
    def rmssd_change_pct(self) -> float:
        """Relative change of (geometric mean) RMSSD, % (``exp(diff) - 1``)."""
        return (math.exp(self.diff_ln_rmssd) - 1.0) * 100.0


@dataclass(frozen=True)
class ModelSummary:
    """The fitted model behind the verdicts.

    Attributes
    ----------
    n_obs:
        Counted days in the model.
    rho_hat:
        REML lag-1 autocorrelation of the daily values.
    sd_ln_rmssd:
        Day-to-day SD of the AR(1) errors, ln(ms).
    trend_per_day:
        Slow trend β, ln(ms) per day.
    df_resid:
        Residual degrees of freedom.
    method:
        How ρ and the intervals were obtained.
    """

    n_obs: int
    rho_hat: float
    sd_ln_rmssd: float
    trend_per_day: float
    df_resid: int
    method: str


@dataclass(frozen=True, eq=False)
class SessionJudgement:
    """All periods of all medicine sessions, and the model they come from."""

    today: date
    source: str | None
    medicine_days: tuple[date, ...]
    baseline_days: int
    baseline_possible: int
    model: ModelSummary | None
    periods: tuple[PeriodVerdict, ...]

    def table(self) -> pd.DataFrame:
        """The periods as a DataFrame with :data:`VERDICT_COLUMNS`."""
        rows = [asdict(p) for p in self.periods]
        out = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
        return out.astype(
            {
                "n_days": np.int64,
                "n_possible": np.int64,
                "needed_days": np.int64,
                "n_good": np.int64,
                "n_fair": np.int64,
                "n_poor": np.int64,
                "flagged": bool,
                **{
                    c: np.float64
                    for c in (
                        "diff_ln_rmssd",
                        "ci_low",
                        "ci_high",
                        "mdc_ln_rmssd",
                        "ci_level",
                        "p_value",
                        "p_adjusted",
                        "fair_share",
                        "artifact_share",
                    )
                },
            }
        )

    def for_session(self, session_day: date) -> tuple[PeriodVerdict, ...]:
        """The periods of the session on ``session_day``."""
        return tuple(p for p in self.periods if p.session_day == session_day)


def period_needed_days(n_possible: int) -> int:
    """Counted days a period of ``n_possible`` calendar days needs for a verdict."""
    return max(PERIOD_MIN_DAYS, math.ceil(PERIOD_MIN_SHARE * n_possible))


@dataclass
class _Slot:
    """Bookkeeping of one (session, period) while judging."""

    session_day: date
    label: str
    first: date
    last: date
    rows: NDArray[np.intp]
    n_poor: int
    state: State = "insufficient"
    reason: str = ""
    column: int = -1
    est: float = math.nan
    se: float = math.nan
    t: float = math.nan


def _slots(
    counted: CountedDays, med: list[date], today: date, index: dict[date, int]
) -> list[_Slot]:
    out: list[_Slot] = []
    for k, s in enumerate(med):
        following = med[k + 1] if k + 1 < len(med) else None
        for label, d0, d1 in PERIODS:
            first = s + timedelta(days=d0)
            last = s + timedelta(days=d1)
            if following is not None:
                last = min(last, following - timedelta(days=1))
            rows: list[int] = []
            n_poor = 0
            day = first
            while day <= last and day < today:
                i = index.get(day)
                if i is not None:
                    if counted.counted[i]:
                        rows.append(i)
                    n_poor += int(counted.grade[i] == POOR)
                day += timedelta(days=1)
            out.append(_Slot(s, label, first, last, np.array(rows, dtype=np.intp), n_poor))
    return out


def _state(slot: _Slot, today: date, baseline_ok: bool, baseline_why: str) -> None:
    possible = (slot.last - slot.first).days + 1
    n = slot.rows.size
    if slot.last < slot.first:
        slot.state = "insufficient"
        slot.reason = (
            f"no days: the next medicine session ({(slot.last + timedelta(days=1)).isoformat()})"
            " comes before this period"
        )
    elif slot.first >= today:
        wait = (slot.first - today).days
        slot.state = "not_reached"
        slot.reason = f"not begun: starts on {slot.first.isoformat()}" + (
            " (tomorrow)" if wait == 1 else f" (in {wait} days)" if wait > 1 else " (today)"
        )
    elif slot.last >= today:
        over = (today - slot.first).days
        slot.state = "in_progress"
        slot.reason = (
            f"under way: {over} of {possible} days over, {n} valid so far; "
            f"judged after {slot.last.isoformat()}"
        )
    elif not baseline_ok:
        slot.state = "insufficient"
        slot.reason = f"cannot tell yet: {baseline_why}"
    elif n < period_needed_days(possible):
        slot.state = "insufficient"
        poor = f"; {slot.n_poor} poor-signal day(s) left out" if slot.n_poor else ""
        slot.reason = (
            f"cannot tell yet: {n} valid day(s) of {possible}, needs "
            f"{period_needed_days(possible)}{poor}"
        )
    else:
        slot.state = "verdict"


def _seed(t: NDArray[np.float64], y: NDArray[np.float64]) -> int:
    digest = hashlib.blake2b(t.tobytes() + y.tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _holm(p: NDArray[np.float64], alpha: float) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Holm rejections and each hypothesis' step level α/(m - step + 1) (for its interval)."""
    m = p.size
    order = np.argsort(p, kind="stable")
    rejected = np.zeros(m, dtype=bool)
    levels = np.empty(m)
    stop_level: float | None = None
    for step, j in enumerate(order):
        level = alpha / (m - step)
        if stop_level is None and p[j] <= level:
            rejected[j] = True
            levels[j] = level
        else:
            stop_level = level if stop_level is None else stop_level
            levels[j] = stop_level
    return rejected, levels


def _holm_adjusted(p: NDArray[np.float64]) -> NDArray[np.float64]:
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for step, j in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[j]))
        adj[j] = running
    return adj


def _quality(counted: CountedDays, slot: _Slot) -> tuple[int, int, float, float, str]:
    grades = counted.grade[slot.rows]
    n_good = int(np.sum(grades == GOOD))
    n_fair = int(np.sum(grades == FAIR))
    n = slot.rows.size
    fair_share = n_fair / n if n else math.nan
    art = counted.artifact_share[slot.rows]
    artifact = float(np.nanmean(art)) if n and np.isfinite(art).any() else math.nan
    caveats: list[str] = []
    if n and fair_share > FAIR_CAVEAT_SHARE:
        caveats.append(f"rests mostly on fair-quality days ({n_fair} of {n})")
    if math.isfinite(artifact) and artifact > ARTIFACT_SHARE_FAIR:
        caveats.append(f"{artifact:.0%} of beats were corrected artifacts")
    if slot.n_poor:
        caveats.append(f"{slot.n_poor} poor-signal day(s) left out")
    return n_good, n_fair, fair_share, artifact, "; ".join(caveats)


def judge_sessions(
    daily: pd.DataFrame,
    medicine_days: Sequence[date],
    *,
    today: date,
    source: str | None = None,
    rho_rule: RhoRule = "bootstrap",
    slow_trend: bool = True,
) -> SessionJudgement:
    """Judge every period of every medicine session (see the module docstring).

    Parameters
    ----------
    daily, medicine_days, today:
        As :func:`session_verdicts`.
    source:
        Daily source to use when ``daily`` has a ``source`` column; default the primary
        source (most counted days before the first medicine session). One source at a time.
    rho_rule:
        ``"bootstrap"`` (the default and the only calibrated rule), or, for the calibration
        suite's comparisons, ``"plugin"`` (t intervals at the REML ρ) and ``"upper"`` (t
        intervals at the one-sided 95 % likelihood upper bound of ρ).
    slow_trend:
        Whether the model holds the slow trend β (the default). ``False`` only for the
        calibration suite's comparison: without it a drift is attributed to the session.
    """
    med = medicine_day_list(medicine_days)
    counted = counted_days(daily, today=today, source=source, before=med[0] if med else None)
    if not med:
        return SessionJudgement(today, counted.source, (), 0, 0, None, ())
    index = counted.index()
    first, last, possible = baseline_window(counted.days, med[0], today)
    days = np.array(counted.days, dtype=object)
    base_rows = (
        np.flatnonzero(counted.counted & (days >= first) & (days <= last))
        if len(days)
        else np.array([], dtype=np.intp)
    )
    n_base = int(base_rows.size)
    baseline_ok = n_base >= BASELINE_MIN_DAYS
    baseline_why = (
        f"the baseline has {n_base} valid day(s) of {possible} before the first medicine "
        f"session, needs {BASELINE_MIN_DAYS}"
    )
    slots = _slots(counted, med, today, index)
    for slot in slots:
        _state(slot, today, baseline_ok, baseline_why)
    model = _fit(counted, med[0], base_rows, slots, rho_rule, slow_trend) if baseline_ok else None
    if model is None and baseline_ok:
        for slot in slots:
            if slot.state == "verdict":
                slot.state = "insufficient"
                slot.reason = "cannot tell yet: too few days or no day-to-day variation to fit"
    summary, crit = model if model is not None else (None, None)
    periods: list[PeriodVerdict] = []
    for k, s in enumerate(med):
        group = slots[k * len(PERIODS) : (k + 1) * len(PERIODS)]
        periods.extend(_session_periods(counted, s, group, crit))
    return SessionJudgement(
        today=today,
        source=counted.source,
        medicine_days=tuple(med),
        baseline_days=n_base,
        baseline_possible=possible,
        model=summary,
        periods=tuple(periods),
    )


@dataclass(frozen=True)
class _Critical:
    """How far out a t statistic must be: from the bootstrap (or t quantiles)."""

    null_abs: NDArray[np.float64] | None  # (R, k) |t*| per verdict column, or None
    columns: tuple[int, ...]
    df: int
    power_quantile: NDArray[np.float64]  # per column: 80th percentile of t*

    def p_value(self, column: int, t: float) -> float:
        if self.null_abs is None:
            return float(2.0 * stats.t.sf(abs(t), self.df))
        null = self.null_abs[:, self.columns.index(column)]
        return float((1 + np.sum(null >= abs(t))) / (null.size + 1))

    def critical(self, column: int, alpha: float) -> float:
        if self.null_abs is None:
            return float(stats.t.ppf(1.0 - alpha / 2.0, self.df))
        null = np.sort(self.null_abs[:, self.columns.index(column)])
        r = null.size
        k = math.floor((r + 1) * alpha)
        return float(null[r - k]) if k >= 1 else math.inf

    def power_term(self, column: int) -> float:
        return float(self.power_quantile[self.columns.index(column)])


def _fit(
    counted: CountedDays,
    first_medicine_day: date,
    base_rows: NDArray[np.intp],
    slots: list[_Slot],
    rho_rule: RhoRule,
    slow_trend: bool = True,
) -> tuple[ModelSummary, _Critical] | None:
    """Fit the one model; store each period's estimate, SE and t in its slot."""
    with_days = [s for s in slots if s.rows.size > 0]
    rows = np.concatenate([base_rows, *[s.rows for s in with_days]])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    t = np.array([(counted.days[i] - first_medicine_day).days for i in rows], dtype=np.float64)
    y = counted.ln_rmssd[rows]
    lead = 2 if slow_trend else 1  # intercept and trend come before the period columns
    exog = np.zeros((rows.size, lead + len(with_days)))
    exog[:, 0] = 1.0
    if slow_trend:
        exog[:, 1] = t / _TREND_SCALE_DAYS
    position = {int(r): k for k, r in enumerate(rows)}
    for j, slot in enumerate(with_days):
        exog[[position[int(r)] for r in slot.rows], lead + j] = 1.0
        slot.column = lead + j
    n, p = exog.shape
    if n - p < MIN_DF_RESID or float(np.ptp(y)) <= 0.0:
        return None
    profile = reml_profile(t, y, exog)
    rho_hat = max(profile.rho_hat, 0.0)
    rho = max(profile.upper_bound(0.95), 0.0) if rho_rule == "upper" else rho_hat
    fit = gls_fit(t, y, exog, rho)
    params = np.asarray(fit.params, dtype=np.float64)
    bse = np.asarray(fit.bse, dtype=np.float64)
    for slot in with_days:
        slot.est = float(params[slot.column])
        slot.se = float(bse[slot.column])
        slot.t = slot.est / slot.se if slot.se > 0 else math.nan
    judged = tuple(s.column for s in with_days if s.state == "verdict")
    df = int(fit.df_resid)
    if rho_rule == "bootstrap" and judged:
        rng = np.random.default_rng(_seed(t, y))
        null = null_t_statistics(t, exog, list(judged), rho_hat, BOOTSTRAP_REPLICATES, rng)
        crit = _Critical(
            np.abs(null), judged, df, np.quantile(null, MDC_POWER, axis=0).astype(np.float64)
        )
    else:
        q = float(stats.t.ppf(MDC_POWER, df))
        crit = _Critical(None, judged, df, np.full(len(judged), q))
    method = {
        "bootstrap": (
            f"GLS with AR(1) errors (REML ρ) and a slow trend; p-values and intervals from a "
            f"parametric bootstrap of the null ({BOOTSTRAP_REPLICATES} refits); {FAMILY_METHOD}"
        ),
        "plugin": "GLS with AR(1) errors at the REML ρ, t intervals (not calibrated)",
        "upper": "GLS with AR(1) errors at the 95 % upper bound of ρ, t intervals",
    }[rho_rule]
    summary = ModelSummary(
        n_obs=n,
        rho_hat=rho_hat,
        sd_ln_rmssd=math.sqrt(float(fit.scale)),
        trend_per_day=float(params[1]) / _TREND_SCALE_DAYS if slow_trend else 0.0,
        df_resid=df,
        method=method,
    )
    return summary, crit


def _session_periods(
    counted: CountedDays, session_day: date, group: list[_Slot], crit: _Critical | None
) -> list[PeriodVerdict]:
    family = [s for s in group if s.last >= s.first]
    m = max(len(family), 1)
    p = np.ones(len(group))
    for k, slot in enumerate(group):
        if slot.state == "verdict" and crit is not None and math.isfinite(slot.t):
            p[k] = crit.p_value(slot.column, slot.t)
    in_family = np.array([s.last >= s.first for s in group])
    rejected = np.zeros(len(group), dtype=bool)
    levels = np.full(len(group), FAMILY_ALPHA / m)
    adjusted = np.ones(len(group))
    if in_family.any():
        rej, lev = _holm(p[in_family], FAMILY_ALPHA)
        rejected[in_family] = rej
        levels[in_family] = lev
        adjusted[in_family] = _holm_adjusted(p[in_family])
    out: list[PeriodVerdict] = []
    for k, slot in enumerate(group):
        possible = max((slot.last - slot.first).days + 1, 0)
        n_good, n_fair, fair_share, artifact, caveat = _quality(counted, slot)
        diff = lo = hi = mdc = level = p_val = p_adj = math.nan
        flagged = False
        if slot.state == "verdict" and crit is not None and math.isfinite(slot.t):
            c = crit.critical(slot.column, float(levels[k]))
            diff, lo, hi = slot.est, slot.est - c * slot.se, slot.est + c * slot.se
            c_first = crit.critical(slot.column, FAMILY_ALPHA / m)
            mdc = (c_first + crit.power_term(slot.column)) * slot.se
            level = 1.0 - float(levels[k])
            p_val, p_adj = float(p[k]), float(adjusted[k])
            flagged = bool(rejected[k]) and (lo > 0.0 or hi < 0.0)
        elif slot.state == "verdict":
            slot.state = "insufficient"
            slot.reason = "cannot tell yet: the model could not be fitted"
        out.append(
            PeriodVerdict(
                session_day=session_day,
                period=slot.label,
                state=slot.state,
                n_days=int(slot.rows.size),
                diff_ln_rmssd=diff,
                ci_low=lo,
                ci_high=hi,
                mdc_ln_rmssd=mdc,
                flagged=flagged,
                reason=slot.reason,
                first_day=slot.first,
                last_day=slot.last,
                n_possible=possible,
                needed_days=period_needed_days(possible),
                ci_level=level,
                p_value=p_val,
                p_adjusted=p_adj,
                n_good=n_good,
                n_fair=n_fair,
                n_poor=slot.n_poor,
                fair_share=fair_share,
                artifact_share=artifact,
                caveat=caveat,
            )
        )
    return out


def session_verdicts(
    daily: pd.DataFrame, medicine_days: Sequence[date], *, today: date
) -> pd.DataFrame:
    """Verdicts on days 1–3, 4–14 and 15–28 after each medicine session.

    Parameters
    ----------
    daily:
        One row per local calendar day, in date order: ``day`` (``datetime.date``),
        ``ln_rmssd`` (float, ln ms; NaN when the day has no valid value) and optionally
        ``quality`` (``"good" | "fair" | "poor"``, or a quality string starting with the grade;
        poor days never count), ``source`` (one source is used: the primary one, see
        :func:`analysis.trend_days.primary_source`) and ``artifact_share`` (0–1).
    medicine_days:
        Local dates of the medicine sessions.
    today:
        The patient's local date now. Today and later never count: a day counts only once
        it is complete.

    Returns
    -------
    pandas.DataFrame
        One row per session and period, in order, with :data:`VERDICT_COLUMNS`:
        ``session_day``, ``period`` (``"days 1-3" | "days 4-14" | "days 15-28"``), ``state``
        (``"verdict" | "in_progress" | "not_reached" | "insufficient"``), ``n_days`` (counted
        days), ``diff_ln_rmssd`` with ``ci_low``/``ci_high`` (at the Holm step's level
        ``ci_level``), ``mdc_ln_rmssd`` (minimal detectable change), ``flagged`` (the interval
        excludes 0 after Holm's family-wise adjustment), ``reason`` (why, for the three
        non-verdict states), then the period's dates, possible and needed days, p-values and
        the quality of its days (good, fair and poor days, fair share, artifact share, caveat).

    Raises
    ------
    TrendsError
        Missing columns, unordered or duplicate days, datetimes as medicine days, unknown grades.

    Notes
    -----
    Calibration (``benchmarks/trends_calibration.py``; seeded check in
    ``tests/unit/analysis_trends``): ≥ 1,000 simulated patients per cell over day-to-day
    autocorrelation 0–0.7, CV 5–10 %, 0–20 % missing days, with and without a drift of
    +0.005/day, and 14–60 baseline days.
    """
    if not isinstance(today, date):
        raise TrendsError(f"today must be a date, got {today!r}", value=repr(today))
    return judge_sessions(daily, medicine_days, today=today).table()
