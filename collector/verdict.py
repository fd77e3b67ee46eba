"""The morning reading's quality verdict, computed live on the collector in pure Python.

A data-quality check of a guided still reading (beats against duration, share of implausible
intervals, RMSSD of the rest), not a marker: the server recomputes every marker from the uploaded
beats with ``analysis`` (Lipponen & Tarvainen artifact correction). Kept free of numpy/scipy so that
``somatrace[collector]`` stays small on a patient's laptop or a Raspberry Pi.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: Verdict thresholds: share of artifact beats and minimum beat coverage of the reading.
GOOD_ARTIFACT_SHARE: Final[float] = 0.05
FAIR_ARTIFACT_SHARE: Final[float] = 0.10
MIN_COVERAGE: Final[float] = 0.9
#: An interval is an artifact when it differs from the median of its neighbourhood by more than this
#: fraction (the relative criterion of Malik et al. 1989; Kubios' threshold filter works alike).
ARTIFACT_RELATIVE_DEVIATION: Final[float] = 0.20
#: Intervals on each side of an interval that form its neighbourhood (within one segment).
NEIGHBOURHOOD_BEATS: Final[int] = 5


def rmssd_ms(rr_ms: Sequence[float]) -> float | None:
    """Root mean square of successive differences of consecutive RR intervals (ms), or None
    with fewer than 2 intervals."""
    if len(rr_ms) < 2:
        return None
    diffs = [b - a for a, b in itertools.pairwise(rr_ms)]
    return math.sqrt(sum(d * d for d in diffs) / len(diffs))


@dataclass(frozen=True)
class MorningVerdict:
    """Quality of a guided still reading: ``grade`` is ``good``, ``fair`` or ``poor``."""

    beats: int
    expected_beats: int
    artifact_share: float
    rmssd_ms: float | None
    grade: str
    reasons: tuple[str, ...]


def _segments(breaks: Sequence[bool], n: int) -> list[range]:
    starts = [i for i in range(n) if i == 0 or breaks[i]]
    return [range(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]


def artifact_mask(rr_ms: Sequence[float], breaks: Sequence[bool]) -> list[bool]:
    """Flag each interval that deviates from its neighbourhood median by more than
    ``ARTIFACT_RELATIVE_DEVIATION`` (neighbourhood: ``NEIGHBOURHOOD_BEATS`` on each side, same segment).

    References
    ----------
    Malik M, Farrell T, Cripps T, Camm AJ (1989). Heart rate variability in relation to prognosis
    after myocardial infarction: selection of optimal processing techniques. Eur Heart J 10:1060-1074.
    """
    mask = [False] * len(rr_ms)
    for seg in _segments(breaks, len(rr_ms)):
        values = [rr_ms[i] for i in seg]
        for j, value in enumerate(values):
            lo, hi = max(0, j - NEIGHBOURHOOD_BEATS), min(len(values), j + NEIGHBOURHOOD_BEATS + 1)
            reference = statistics.median(values[lo:hi])
            if abs(value - reference) > ARTIFACT_RELATIVE_DEVIATION * reference:
                mask[seg.start + j] = True
    return mask


def morning_verdict(
    rr_ms: Sequence[float], breaks: Sequence[bool], duration_s: float
) -> MorningVerdict:
    """Judge a still reading: beats recorded against its duration, share of artifact intervals
    (``artifact_mask``) and RMSSD of successive normal intervals of one segment.

    Parameters
    ----------
    rr_ms:
        RR intervals of the reading in order, ms.
    breaks:
        True where an interval starts a new continuous segment (after a gap).
    duration_s:
        Length of the reading, s.
    """
    covered_s = sum(rr_ms) / 1000.0
    mean_rr_ms = (sum(rr_ms) / len(rr_ms)) if rr_ms else 1000.0
    expected = round(duration_s * 1000.0 / mean_rr_ms) if rr_ms else 0
    if len(rr_ms) < 3:
        return MorningVerdict(len(rr_ms), expected, 1.0, None, "poor", ("too few beats",))
    mask = artifact_mask(rr_ms, breaks)
    artifact_share = sum(mask) / len(mask)
    diffs = [
        rr_ms[i] - rr_ms[i - 1]
        for i in range(1, len(rr_ms))
        if not breaks[i] and not mask[i] and not mask[i - 1]
    ]
    rmssd = math.sqrt(sum(d * d for d in diffs) / len(diffs)) if diffs else None
    reasons: list[str] = []
    grade = "good"
    if covered_s < MIN_COVERAGE * duration_s:
        reasons.append(f"beats cover {covered_s:.0f} s of {duration_s:.0f} s")
        grade = "fair"
    if artifact_share > FAIR_ARTIFACT_SHARE:
        reasons.append(f"{artifact_share:.0%} of beats are artifacts")
        grade = "poor"
    elif artifact_share > GOOD_ARTIFACT_SHARE:
        reasons.append(f"{artifact_share:.0%} of beats are artifacts")
        grade = "fair" if grade == "good" else grade
    if any(breaks[1:]):
        reasons.append("the link dropped during the reading")
        grade = "fair" if grade == "good" else grade
    return MorningVerdict(len(rr_ms), expected, artifact_share, rmssd, grade, tuple(reasons))
