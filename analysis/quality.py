"""Quality grade of an HRV window: ``good|fair|poor|insufficient`` with the reasons behind it.

The grade string is ``"<grade>"`` or ``"<grade>: <reason>; <reason>"``; thresholds live in
``analysis.bounds``. Computing the markers is left to ``analysis.windows``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from analysis.bounds import (
    ARTIFACT_SHARE_FAIR,
    ARTIFACT_SHARE_POOR,
    COVERAGE_FAIR,
    COVERAGE_POOR,
)
from analysis.errors import AnalysisError

GOOD: Final[str] = "good"
FAIR: Final[str] = "fair"
POOR: Final[str] = "poor"
INSUFFICIENT: Final[str] = "insufficient"
#: Grades from best to worst.
GRADES: Final[tuple[str, ...]] = (GOOD, FAIR, POOR, INSUFFICIENT)


class QualityFormatError(AnalysisError):
    """A quality string does not follow ``<grade>[: reason; reason]``."""


def format_quality(grade: str, reasons: Sequence[str] = ()) -> str:
    """Join a grade and its reasons into the quality string.

    Raises
    ------
    QualityFormatError
        Unknown grade, or a reason containing ``;`` (the separator) or empty.
    """
    if grade not in GRADES:
        raise QualityFormatError(f"unknown quality grade {grade!r}", grade=grade)
    for reason in reasons:
        if not reason or ";" in reason:
            raise QualityFormatError(f"invalid quality reason {reason!r}", reason=reason)
    return f"{grade}: {'; '.join(reasons)}" if reasons else grade


def split_quality(quality: str) -> tuple[str, list[str]]:
    """Split a quality string into its grade and list of reasons.

    >>> split_quality("fair: lf_ms2, lf_hf need >= 120 s")
    ('fair', ['lf_ms2, lf_hf need >= 120 s'])

    Raises
    ------
    QualityFormatError
        The grade is not one of ``good|fair|poor|insufficient``.
    """
    grade, sep, rest = quality.partition(": ")
    grade = grade.strip()
    if grade not in GRADES:
        raise QualityFormatError(f"unknown quality grade in {quality!r}", quality=quality)
    reasons = [r.strip() for r in rest.split(";") if r.strip()] if sep else []
    return grade, reasons


def group_reasons(nan_reasons: Iterable[tuple[str, str]]) -> list[str]:
    """Merge ``(marker, why)`` pairs that share a reason: ``"lf_ms2, lf_hf need >= 120 s"``."""
    by_why: dict[str, list[str]] = {}
    for marker, why in nan_reasons:
        names = by_why.setdefault(why, [])
        if marker not in names:
            names.append(marker)
    return [f"{', '.join(names)} {why}" for why, names in by_why.items()]


def grade_window(
    *,
    n_beats: int,
    duration_s: float,
    window_s: float,
    artifact_share: float,
    min_beats: int,
    min_duration_s: float,
    nan_reasons: Iterable[tuple[str, str]] = (),
) -> str:
    """Grade one window and explain the grade.

    Parameters
    ----------
    n_beats:
        NN intervals in the window.
    duration_s:
        Sum of the window's NN intervals, s.
    window_s:
        Nominal window length, s.
    artifact_share:
        Fraction of the window's beats corrected or removed.
    min_beats, min_duration_s:
        Below either, no marker is computed: grade ``insufficient``.
    nan_reasons:
        ``(marker, why)`` for every marker left NaN, e.g. ``("lf_ms2", "need >= 120 s")``.

    Returns
    -------
    str
        ``insufficient`` when too short; ``poor`` when the artifact share exceeds
        ``ARTIFACT_SHARE_POOR`` or the NN intervals cover less than ``COVERAGE_POOR`` of the
        window; ``fair`` above ``ARTIFACT_SHARE_FAIR``, below ``COVERAGE_FAIR`` coverage or with
        any NaN marker; else ``good``.
    """
    reasons: list[str] = []
    if n_beats < min_beats or duration_s < min_duration_s:
        reasons.append(
            f"{n_beats} beats over {duration_s:.0f} s, need >= {min_beats} beats "
            f"and >= {min_duration_s:.0f} s"
        )
        grade = INSUFFICIENT
    else:
        coverage = duration_s / window_s if window_s > 0 else 1.0
        worst = 0
        if artifact_share > ARTIFACT_SHARE_POOR:
            worst = 2
            reasons.append(f"artifact share {artifact_share:.1%} > {ARTIFACT_SHARE_POOR:.0%}")
        elif artifact_share > ARTIFACT_SHARE_FAIR:
            worst = 1
            reasons.append(f"artifact share {artifact_share:.1%} > {ARTIFACT_SHARE_FAIR:.0%}")
        if coverage < COVERAGE_POOR:
            worst = 2
            reasons.append(f"beats cover {coverage:.0%} of the window < {COVERAGE_POOR:.0%}")
        elif coverage < COVERAGE_FAIR:
            worst = max(worst, 1)
            reasons.append(f"beats cover {coverage:.0%} of the window < {COVERAGE_FAIR:.0%}")
        grouped = group_reasons(nan_reasons)
        if grouped:
            worst = max(worst, 1)
        reasons.extend(grouped)
        grade = GRADES[worst]
    return format_quality(grade, [r.replace(";", ",") for r in reasons])
