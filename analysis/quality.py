"""Quality grade of an HRV window: ``good|fair|poor|insufficient`` with the reasons behind it.

The grade string is ``"<grade>"`` or ``"<grade>: <reason>; <reason>"``; it reflects the expected
residual error of the markers, not only the share of corrected beats. Thresholds live in
``analysis.bounds``; computing the markers is left to ``analysis.windows``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

from analysis.bounds import (
    ARTIFACT_SHARE_FAIR,
    ARTIFACT_SHARE_POOR,
    CORRECTION_ERROR_PER_SHARE,
    COVERAGE_FAIR,
    COVERAGE_POOR,
    ECTOPY_RMSSD_REL_MAX,
    EXPECTED_ERROR_FAIR,
    EXPECTED_ERROR_POOR,
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


def expected_rmssd_error(artifact_share: float, rmssd_ms: float, resolution_ms: float) -> float:
    """Expected relative error of a window's RMSSD from its corrections and its time resolution.

    Parameters
    ----------
    artifact_share:
        Fraction of the window's beats corrected or removed.
    rmssd_ms:
        RMSSD of the corrected window, ms (NaN: the resolution term is left out).
    resolution_ms:
        Time resolution of the RR values, ms (0: none known).

    Returns
    -------
    float
        ``sqrt(e_corr² + e_res²)`` with ``e_corr = CORRECTION_ERROR_PER_SHARE · artifact_share``
        (a corrected beat is an interpolation: the successive differences around it are lost, and
        a missed or misclassified artifact inflates RMSSD) and
        ``e_res = sqrt(1 + Δ² / (2 · RMSSD²)) - 1``: RR values that are differences of beat times
        rounded to Δ carry rounding errors whose successive differences have variance ``Δ²/2``
        (three independent roundings, weights 1, -2, 1, each of variance ``Δ²/12``), which adds to
        the mean squared successive difference.

    References
    ----------
    Merri, M., Farden, D. C., Mottley, J. G., & Titlebaum, E. L. (1990). Sampling frequency of
    the electrocardiogram for spectral analysis of the heart rate variability. IEEE Trans Biomed
    Eng 37(1):99-106. Peltola, M. A. (2012). Role of editing of R-R intervals in the analysis of
    heart rate variability. Front Physiol 3:148.
    """
    e_corr = CORRECTION_ERROR_PER_SHARE * max(float(artifact_share), 0.0)
    e_res = 0.0
    if resolution_ms > 0 and math.isfinite(rmssd_ms) and rmssd_ms > 0:
        e_res = math.sqrt(1.0 + resolution_ms**2 / (2.0 * rmssd_ms**2)) - 1.0
    return math.hypot(e_corr, e_res)


def grade_window(
    *,
    n_beats: int,
    duration_s: float,
    window_s: float,
    artifact_share: float,
    min_beats: int,
    min_duration_s: float,
    nan_reasons: Iterable[tuple[str, str]] = (),
    rmssd_ms: float = math.nan,
    mean_nn_ms: float = math.nan,
    resolution_ms: float = 0.0,
    cautions: Iterable[str] = (),
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
    rmssd_ms, mean_nn_ms:
        RMSSD and mean NN of the corrected window, ms (NaN: the checks that need them are skipped).
    resolution_ms:
        Time resolution of the RR values, ms (0: unknown).
    cautions:
        Reasons that keep the window from ``good`` although its markers are defined (a gap inside
        it, a window long enough to span changing states).

    Returns
    -------
    str
        ``insufficient`` when too short. ``poor`` when the artifact share exceeds
        ``ARTIFACT_SHARE_POOR``, the NN intervals cover less than ``COVERAGE_POOR`` of the window,
        the expected RMSSD error (:func:`expected_rmssd_error`) exceeds ``EXPECTED_ERROR_POOR``,
        or RMSSD exceeds ``ECTOPY_RMSSD_REL_MAX`` of the mean NN (the corrected series is not sinus
        rhythm: frequent ectopic beats the correction could not tell from normal ones). ``fair``
        above ``ARTIFACT_SHARE_FAIR``, below ``COVERAGE_FAIR`` coverage, above
        ``EXPECTED_ERROR_FAIR`` expected error, with any NaN marker or any caution; else ``good``.
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
        if math.isfinite(rmssd_ms) and math.isfinite(mean_nn_ms) and mean_nn_ms > 0:
            relative = rmssd_ms / mean_nn_ms
            if relative > ECTOPY_RMSSD_REL_MAX:
                worst = 2
                reasons.append(
                    f"RMSSD is {relative:.0%} of the mean NN after correction "
                    f"(> {ECTOPY_RMSSD_REL_MAX:.0%}): not sinus rhythm, frequent ectopic beats?"
                )
        error = expected_rmssd_error(artifact_share, rmssd_ms, resolution_ms)
        if error > EXPECTED_ERROR_FAIR:
            worst = max(worst, 2 if error > EXPECTED_ERROR_POOR else 1)
            limit = EXPECTED_ERROR_POOR if error > EXPECTED_ERROR_POOR else EXPECTED_ERROR_FAIR
            rounding = expected_rmssd_error(0.0, rmssd_ms, resolution_ms)
            cause = (
                f"RR rounded to {resolution_ms:.1f} ms"
                if rounding > CORRECTION_ERROR_PER_SHARE * artifact_share
                else f"{artifact_share:.1%} of beats corrected"
            )
            reasons.append(f"expected RMSSD error ±{error:.0%} > {limit:.0%} ({cause})")
        if coverage < COVERAGE_POOR:
            worst = 2
            reasons.append(f"beats cover {coverage:.0%} of the window < {COVERAGE_POOR:.0%}")
        elif coverage < COVERAGE_FAIR:
            worst = max(worst, 1)
            reasons.append(f"beats cover {coverage:.0%} of the window < {COVERAGE_FAIR:.0%}")
        grouped = group_reasons(nan_reasons)
        caution_list = [c for c in cautions if c]
        if grouped or caution_list:
            worst = max(worst, 1)
        reasons.extend(grouped)
        reasons.extend(caution_list)
        grade = GRADES[worst]
    return format_quality(grade, [r.replace(";", ",") for r in reasons])
