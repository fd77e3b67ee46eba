"""The verdict on one guided morning reading: its markers and signal quality, and where it lies
against the person's usual range of single mornings, or "cannot tell yet" and why.

The markers are :func:`analysis.windows.compute_windows_timed` on the reading as one window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from analysis.errors import AnalysisError
from analysis.quality import FAIR, GOOD, split_quality
from analysis.windows import compute_windows_timed

__all__ = [
    "MORNING_READING_S",
    "READING_LEVEL",
    "ReadingInputError",
    "ReadingVerdict",
    "UsualRange",
    "judge_reading",
]

#: Length of a guided morning reading, s (the 5-minute short-term recording of Task Force 1996).
MORNING_READING_S: Final[float] = 300.0
#: Share of a stable person's single mornings that the usual range holds (two-sided).
READING_LEVEL: Final[float] = 0.90
#: Fewest counted baseline mornings before a single morning is compared (as the band needs).
USUAL_RANGE_MIN_DAYS: Final[int] = 3

State = Literal["verdict", "cannot_tell"]
Position = Literal["below", "within", "above"]


class ReadingInputError(AnalysisError):
    """The reading's beats or interval are malformed (not increasing, empty interval)."""


@dataclass(frozen=True)
class UsualRange:
    """A person's baseline of morning readings: level and day-to-day SD of ln RMSSD.

    Attributes
    ----------
    mean_ln_rmssd:
        Baseline level, ln(ms).
    sd_ln_rmssd:
        Day-to-day standard deviation of ln RMSSD, ln(ms).
    n_days:
        Counted baseline days.
    source:
        How the baseline days were measured (e.g. ``morning``, ``morning/browser``).
    """

    mean_ln_rmssd: float
    sd_ln_rmssd: float
    n_days: int
    source: str | None = None

    def interval(self, level: float = READING_LEVEL) -> tuple[float, float]:
        """Prediction interval of one new morning, ln(ms).

        ``mean ± t(1 - (1 - level)/2, n - 1) · sd · sqrt(1 + 1/n)``: a stable person's next single
        morning falls inside with probability ``level`` when days are independent normal draws
        (day-to-day autocorrelation narrows the spread of one day around a recent level but not
        around the long-run baseline, which this compares with).
        """
        n = self.n_days
        q = float(stats.t.ppf(1.0 - (1.0 - level) / 2.0, df=max(n - 1, 1)))
        half = q * self.sd_ln_rmssd * math.sqrt(1.0 + 1.0 / max(n, 1))
        return self.mean_ln_rmssd - half, self.mean_ln_rmssd + half


@dataclass(frozen=True)
class ReadingVerdict:
    """What one morning reading shows.

    Attributes
    ----------
    state:
        ``verdict`` (compared with the usual range) or ``cannot_tell`` (see ``reasons``).
    position:
        ``below``, ``within`` or ``above`` the usual range; ``None`` when ``cannot_tell``.
    grade:
        Signal quality of the reading: ``good``, ``fair``, ``poor`` or ``insufficient``.
    n_beats:
        NN intervals in the reading.
    duration_s:
        Length of the reading's interval, s.
    artifact_share:
        Share of beats corrected or removed.
    rmssd_ms, ln_rmssd, mean_hr_bpm:
        Markers of the reading (NaN when too short).
    usual_low_ln, usual_high_ln:
        The usual range of single mornings, ln(ms) (NaN without a baseline).
    level:
        Share of a stable person's mornings inside the usual range.
    reasons:
        Why the state is what it is, and what affected the grade.
    """

    state: State
    position: Position | None
    grade: str
    n_beats: int
    duration_s: float
    artifact_share: float
    rmssd_ms: float
    ln_rmssd: float
    mean_hr_bpm: float
    usual_low_ln: float
    usual_high_ln: float
    level: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (NaN as None)."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            out[key] = None if isinstance(value, float) and not math.isfinite(value) else value
        return out


def judge_reading(
    beat_t_s: ArrayLike,
    rr_ms: ArrayLike,
    *,
    start_s: float,
    end_s: float,
    usual: UsualRange | None,
    resolution_ms: float | None = None,
) -> ReadingVerdict:
    """Markers, quality and verdict of one morning reading.

    Parameters
    ----------
    beat_t_s:
        End time of each RR interval, s (epoch), strictly increasing. Beats outside
        ``[start_s, end_s)`` are ignored.
    rr_ms:
        RR intervals, ms.
    start_s, end_s:
        The reading's interval, s (epoch).
    usual:
        The person's baseline of morning readings, or ``None`` when there is none yet.
    resolution_ms:
        Time resolution of the RR values, ms (a strap's 1000/1024); detected when ``None``.

    Returns
    -------
    ReadingVerdict
        ``verdict`` only when the reading is graded good or fair and a baseline of at least
        :data:`USUAL_RANGE_MIN_DAYS` days exists; the position compares the reading's ln RMSSD
        with :meth:`UsualRange.interval` (a stable person is outside it in 1 - ``READING_LEVEL``
        of mornings).

    Raises
    ------
    ReadingInputError
        ``end_s`` not after ``start_s``, or times not strictly increasing.

    References
    ----------
    Task Force of the ESC and NASPE (1996). Heart rate variability. Circulation 93:1043-1065.
    Plews DJ, Laursen PB, Kilding AE, Buchheit M (2013). Evaluating training adaptation with
    heart-rate measures: a methodological comparison. Int J Sports Physiol Perform 8:688-691.
    """
    if not (math.isfinite(start_s) and math.isfinite(end_s) and end_s > start_s):
        raise ReadingInputError(f"the reading must end after it starts ({start_s}, {end_s})")
    t = np.asarray(beat_t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t.shape != rr.shape or t.ndim != 1:
        raise ReadingInputError("beat times and RR intervals must be 1-D of equal length")
    inside = (t >= start_s) & (t < end_s)
    t, rr = t[inside], rr[inside]
    duration_s = end_s - start_s
    if t.size > 1 and bool(np.any(np.diff(t) <= 0)):
        raise ReadingInputError("beat times must be strictly increasing")
    lo, hi = usual.interval() if usual is not None else (math.nan, math.nan)
    if t.size == 0:
        return ReadingVerdict(
            "cannot_tell", None, "insufficient", 0, duration_s, math.nan, math.nan,
            math.nan, math.nan, lo, hi, READING_LEVEL, ["no beats were received"],
        )  # fmt: skip
    frame = compute_windows_timed(
        t, rr, window_s=duration_s, origin_s=start_s, resolution_ms=resolution_ms
    )
    row = frame.iloc[0]
    grade, quality_reasons = split_quality(str(row["quality"]))
    rmssd = float(row["rmssd_ms"])
    ln_rmssd = float(row["ln_rmssd"])
    reasons: list[str] = []
    state: State = "cannot_tell"
    position: Position | None = None
    if grade not in (GOOD, FAIR) or not math.isfinite(ln_rmssd):
        reasons.append(f"the signal was {grade}: " + "; ".join(quality_reasons or [grade]))
    elif usual is None or usual.n_days < USUAL_RANGE_MIN_DAYS:
        have = 0 if usual is None else usual.n_days
        reasons.append(
            f"the usual range needs {USUAL_RANGE_MIN_DAYS} mornings before the first medicine "
            f"session; {have} so far"
        )
    else:
        state = "verdict"
        position = "below" if ln_rmssd < lo else "above" if ln_rmssd > hi else "within"
        if grade == FAIR:
            reasons.append("fair signal: " + "; ".join(quality_reasons))
    return ReadingVerdict(
        state=state,
        position=position,
        grade=grade,
        n_beats=int(row["n_beats"]),
        duration_s=duration_s,
        artifact_share=float(row["artifact_share"]),
        rmssd_ms=rmssd,
        ln_rmssd=ln_rmssd,
        mean_hr_bpm=float(row["mean_hr_bpm"]),
        usual_low_ln=lo,
        usual_high_ln=hi,
        level=READING_LEVEL,
        reasons=reasons,
    )
