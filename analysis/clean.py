"""Artifact correction of RR series: Lipponen & Tarvainen (2019) as neurokit2 implements it.

Removes physiologically impossible intervals, then detects and corrects ectopic, missed, extra
and long/short beats iteratively; windowing and markers are left to ``analysis.windows``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from analysis.bounds import RR_MAX_MS, RR_MIN_MS
from analysis.errors import AnalysisError

logger = logging.getLogger(__name__)

#: Per-beat rule codes of :attr:`CleanResult.mask`.
RULE_NONE: Final[int] = 0
RULE_ECTOPIC: Final[int] = 1
RULE_MISSED: Final[int] = 2
RULE_EXTRA: Final[int] = 3
RULE_LONGSHORT: Final[int] = 4
#: Names of the rule codes, indexed by code.
RULE_NAMES: Final[tuple[str, ...]] = ("none", "ectopic", "missed", "extra", "longshort")

# Lipponen & Tarvainen (2019) constants, as in neurokit2 ``_find_artifacts``.
_C1: Final[float] = 0.13
_C2: Final[float] = 0.17
_ALPHA: Final[float] = 5.2
_WINDOW_WIDTH: Final[int] = 91
_MEDFILT_ORDER: Final[int] = 11
#: Fewer peaks than this: the detector's padding and thresholds are undefined; no correction.
_MIN_PEAKS: Final[int] = 5


class InvalidRRError(AnalysisError):
    """The RR input is not a one-dimensional series of finite numbers."""


@dataclass(frozen=True)
class CleanResult:
    """Outcome of :func:`clean_rr`.

    Attributes
    ----------
    nn_ms:
        Corrected NN intervals, ms.
    mask:
        int8 rule code per NN interval (``RULE_NAMES[code]``): 0 when the interval is as
        recorded, else the rule that changed it (ectopic, missed, extra, longshort).
    artifact_share:
        Fraction of beats that were corrected or removed as impossible:
        ``(count(mask != 0) + n_impossible_removed) / (len(nn_ms) + n_impossible_removed)``.
    n_impossible_removed:
        Input intervals outside ``[RR_MIN_MS, RR_MAX_MS]``, removed before correction.
    keep_index:
        Indices into the input of the intervals that survived the bounds check.
    segment_id:
        Continuous segment (0, 1, ...) of every NN interval; correction never crosses segments.
    """

    nn_ms: NDArray[np.float64]
    mask: NDArray[np.int8]
    artifact_share: float
    n_impossible_removed: int
    keep_index: NDArray[np.intp]
    segment_id: NDArray[np.intp]

    def counts(self) -> dict[str, int]:
        """Number of NN intervals flagged by each rule (``none`` included)."""
        bins = np.bincount(self.mask.astype(np.intp), minlength=len(RULE_NAMES))
        return {name: int(bins[code]) for code, name in enumerate(RULE_NAMES)}


def as_rr_array(rr_ms: ArrayLike, name: str = "rr_ms") -> NDArray[np.float64]:
    """Validate and convert RR input to a 1-D float64 array of finite values.

    Raises
    ------
    InvalidRRError
        When the input is not one-dimensional, not numeric, or holds NaN or infinite values.
    """
    try:
        arr = np.asarray(rr_ms, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidRRError(f"{name} must be numeric: {exc}", name=name) from exc
    if arr.ndim != 1:
        raise InvalidRRError(f"{name} must be one-dimensional, got shape {arr.shape}", name=name)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InvalidRRError(
            f"{name}[{int(bad[0])}] is not a finite number", name=name, index=int(bad[0])
        )
    return arr


def clean_rr(
    rr_ms: ArrayLike,
    *,
    breaks: ArrayLike | None = None,
    correct: bool = True,
) -> CleanResult:
    """Remove impossible intervals and correct artifacts (Lipponen & Tarvainen 2019).

    The recording is treated as peak times ``[0, cumsum(rr_ms)]`` in ms (neurokit2 with
    ``sampling_rate=1000``); detection and correction repeat while the number of detected
    artifacts decreases, exactly as ``nk.signal_fixpeaks(peaks, method="kubios", iterative=True)``.
    Like neurokit2 at 1 kHz, interpolated peak times are placed at whole-ms offsets
    (``prev + floor((next - prev) / 2)``), so for integer-ms input the result is identical.

    Parameters
    ----------
    rr_ms:
        RR intervals, ms.
    breaks:
        Optional boolean per input interval: True where a new continuous segment starts
        (after a recording gap). Correction runs on each segment separately.
    correct:
        False removes impossible intervals only (mask all zero).

    Returns
    -------
    CleanResult

    Raises
    ------
    InvalidRRError
        Input not a 1-D finite numeric series, or ``breaks`` of another length.

    References
    ----------
    Lipponen, J. A., & Tarvainen, M. P. (2019). A robust algorithm for heart rate variability
    time series artefact correction using novel beat classification. J Med Eng Technol 43(3).
    """
    rr = as_rr_array(rr_ms)
    if breaks is None:
        brk = np.zeros(rr.size, dtype=bool)
    else:
        brk = np.asarray(breaks, dtype=bool)
        if brk.shape != rr.shape:
            raise InvalidRRError(
                f"breaks has shape {brk.shape}, rr_ms has {rr.shape}", name="breaks"
            )
    possible = (rr >= RR_MIN_MS) & (rr <= RR_MAX_MS)
    keep_index = np.flatnonzero(possible)
    n_removed = int(rr.size - keep_index.size)
    if n_removed:
        logger.debug("removed %d impossible RR intervals", n_removed)
    # A segment starts at a given break, or at the first kept beat after a break that was removed.
    seg_start = np.cumsum(brk)[keep_index]
    kept = rr[keep_index]
    if kept.size == 0:
        empty_f = np.zeros(0, dtype=np.float64)
        share = 1.0 if n_removed else 0.0
        return CleanResult(
            empty_f, np.zeros(0, np.int8), share, n_removed, keep_index, np.zeros(0, np.intp)
        )
    bounds = np.flatnonzero(np.diff(seg_start)) + 1
    starts = np.concatenate(([0], bounds))
    stops = np.concatenate((bounds, [kept.size]))
    nn_parts: list[NDArray[np.float64]] = []
    mask_parts: list[NDArray[np.int8]] = []
    seg_parts: list[NDArray[np.intp]] = []
    for seg, (a, b) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        part = kept[a:b]
        if correct:
            nn, mask = correct_segment(part)
        else:
            nn, mask = part.copy(), np.zeros(part.size, dtype=np.int8)
        nn_parts.append(nn)
        mask_parts.append(mask)
        seg_parts.append(np.full(nn.size, seg, dtype=np.intp))
    nn_ms = np.concatenate(nn_parts)
    mask_all = np.concatenate(mask_parts)
    total = nn_ms.size + n_removed
    share = (int(np.count_nonzero(mask_all)) + n_removed) / total if total else 0.0
    return CleanResult(nn_ms, mask_all, share, n_removed, keep_index, np.concatenate(seg_parts))


def correct_segment(rr_ms: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Correct one continuous RR segment; returns (nn_ms, rule code per NN interval).

    Parameters
    ----------
    rr_ms:
        RR intervals of one uninterrupted stretch, ms.
    """
    peaks = np.concatenate(([0.0], np.cumsum(rr_ms)))
    if peaks.size < _MIN_PEAKS:
        return rr_ms.astype(np.float64, copy=True), np.zeros(rr_ms.size, dtype=np.int8)
    peak_code = np.zeros(peaks.size, dtype=np.int8)
    merged_code = np.zeros(peaks.size, dtype=np.int8)
    artifacts = _find_artifacts(peaks)
    peaks, peak_code, merged_code = _correct_artifacts(artifacts, peaks, peak_code, merged_code)
    n_current = sum(len(v) for v in artifacts.values())
    while True:
        new_artifacts = _find_artifacts(peaks)
        n_previous = n_current
        n_current = sum(len(v) for v in new_artifacts.values())
        if n_current >= n_previous:
            break
        peaks, peak_code, merged_code = _correct_artifacts(
            new_artifacts, peaks, peak_code, merged_code
        )
    nn = np.diff(peaks)
    code = peak_code[1:].copy()
    for other in (merged_code[1:], peak_code[:-1]):
        code = np.where(code == 0, other, code).astype(np.int8)
    return nn, code


def _linear_quantile(sorted_values: NDArray[np.float64], q: float) -> float:
    """pandas' rolling ``quantile(q)`` (linear interpolation) of one sorted window."""
    pos = q * (sorted_values.size - 1)
    low = int(pos)
    if low == pos:
        return float(sorted_values[low])
    v_low, v_high = float(sorted_values[low]), float(sorted_values[low + 1])
    return v_low + (v_high - v_low) * (pos - low)


def _rolling_quantiles(
    x: NDArray[np.float64], window: int, qs: tuple[float, ...]
) -> list[NDArray[np.float64]]:
    """Centred rolling quantiles with ``min_periods=1``, bit-identical to pandas.

    ``pandas.DataFrame.rolling(window, center=True, min_periods=1).quantile(q)`` as neurokit2
    calls it, but computed with SciPy's C rank filter on full windows (about 4x less CPU): the
    order statistics around ``q·(window-1)`` are interpolated exactly as pandas does. Windows cut
    by the series ends are sorted one by one.
    """
    n = x.size
    half = window // 2
    outs = [np.empty(n, dtype=np.float64) for _ in qs]
    if n > 2 * half:
        ranks: dict[int, NDArray[np.float64]] = {}
        for q in qs:
            pos = q * (window - 1)
            for rank in {int(pos), int(pos) + 1} if int(pos) != pos else {int(pos)}:
                if rank not in ranks:
                    ranks[rank] = ndimage.rank_filter(x, rank=rank, size=window, mode="nearest")
        for out, q in zip(outs, qs, strict=True):
            pos = q * (window - 1)
            low = int(pos)
            v_low = ranks[low]
            if low == pos:
                out[:] = v_low
            else:
                out[:] = v_low + (ranks[low + 1] - v_low) * (pos - low)
        edge = [*range(half), *range(n - half, n)]
    else:
        edge = list(range(n))
    for i in edge:
        window_values = np.sort(x[max(0, i - half) : i + half + 1])
        for out, q in zip(outs, qs, strict=True):
            out[i] = _linear_quantile(window_values, q)
    return outs


def _threshold(signal: NDArray[np.float64]) -> NDArray[np.float64]:
    q1, q3 = _rolling_quantiles(np.abs(signal), _WINDOW_WIDTH, (0.25, 0.75))
    th: NDArray[np.float64] = _ALPHA * ((q3 - q1) / 2)
    return th


def _find_artifacts(peaks: NDArray[np.float64]) -> dict[str, list[int]]:
    """Classify beats as in neurokit2 ``_find_artifacts`` (Lipponen & Tarvainen 2019, Fig. 1)."""
    rr = np.ediff1d(peaks, to_begin=0) / 1000.0
    rr[0] = np.mean(rr[1:])
    drrs = np.ediff1d(rr, to_begin=0)
    drrs[0] = np.mean(drrs[1:])
    th1 = _threshold(drrs)
    np.divide(drrs, th1, out=drrs, where=th1 != 0)
    drrs[th1 == 0] = np.nan

    pad = np.pad(drrs, 2, "reflect")
    left, right, right2 = pad[1:-3], pad[3:-1], pad[4:]
    with np.errstate(invalid="ignore"):
        pos, neg = drrs > 0, drrs < 0
        s12 = np.where(pos, np.maximum(left, right), np.where(neg, np.minimum(left, right), 0.0))
        s22 = np.where(
            drrs >= 0, np.minimum(right, right2), np.where(neg, np.maximum(right, right2), 0.0)
        )

    (medrr_v,) = _rolling_quantiles(rr, _MEDFILT_ORDER, (0.5,))
    mrrs = rr - medrr_v
    mrrs[mrrs < 0] = mrrs[mrrs < 0] * 2
    th2 = _threshold(mrrs)
    np.divide(mrrs, th2, out=mrrs, where=th2 != 0)
    mrrs[th2 == 0] = np.nan

    n = rr.size
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(~(np.abs(drrs) <= 1))
        cand = cand[cand < n - 2]
        d = drrs[cand]
        ectopic = ((d > 1) & (s12[cand] < (-_C1 * d - _C2))) | (
            (d < -1) & (s12[cand] > (-_C1 * d + _C2))
        )
        go = ~ectopic & ((np.abs(d) > 1) | (np.abs(mrrs[cand]) > 3))
        two = go & (np.abs(drrs[cand + 1]) < np.abs(drrs[cand + 2]))
    # The scan of Fig. 1 visits every candidate except the one right after a candidate that
    # examined two beats (it advanced by two); only such chains need a sequential pass.
    visited = np.ones(cand.size, dtype=bool)
    chained = np.flatnonzero((cand[1:] == cand[:-1] + 1) & two[:-1]) + 1
    for k in chained.tolist():
        visited[k] = not (visited[k - 1] and two[k - 1])
    first = cand[visited & go]
    second = cand[visited & two] + 1
    kinds = [_classify(j, drrs, s22, mrrs, rr, medrr_v, th2) for j in (first, second)]
    return {
        "ectopic": cand[visited & ectopic].tolist(),
        "missed": np.sort(np.concatenate((kinds[0][1], kinds[1][1]))).tolist(),
        "extra": np.sort(np.concatenate((kinds[0][0], kinds[1][0]))).tolist(),
        "longshort": np.sort(np.concatenate((kinds[0][2], kinds[1][2]))).tolist(),
    }


def _classify(
    j: NDArray[np.intp],
    drrs: NDArray[np.float64],
    s22: NDArray[np.float64],
    mrrs: NDArray[np.float64],
    rr: NDArray[np.float64],
    medrr: NDArray[np.float64],
    th2: NDArray[np.float64],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Extra, missed and long/short beats among examined positions ``j`` (eq. 3-7)."""
    with np.errstate(invalid="ignore"):
        dj = drrs[j]
        eq3 = (dj > 1) & (s22[j] < -1)
        eq4 = np.abs(mrrs[j]) > 3
        eq5 = (dj < -1) & (s22[j] > 1)
        eq6 = np.abs(rr[j] / 2 - medrr[j]) < th2[j]
        eq7 = np.abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j]
    artifact = eq3 | eq4 | eq5
    extra = artifact & eq5 & eq7
    missed = artifact & ~extra & eq3 & eq6
    longshort = artifact & ~extra & ~missed
    return j[extra], j[missed], j[longshort]


def _update_indices(source: list[int], update: list[int], shift: int) -> list[int]:
    """Shift indices after insertions/deletions, verbatim neurokit2 semantics."""
    if not update:
        return update
    for s in source:
        update = [u + shift if u > s else u for u in update]
    return [int(v) for v in np.unique(update)]


def _correct_artifacts(
    artifacts: dict[str, list[int]],
    peaks: NDArray[np.float64],
    peak_code: NDArray[np.int8],
    merged_code: NDArray[np.int8],
) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.int8]]:
    extra_idcs = artifacts["extra"]
    missed_idcs = artifacts["missed"]
    ectopic_idcs = artifacts["ectopic"]
    longshort_idcs = artifacts["longshort"]
    if extra_idcs:
        deleted = np.asarray(extra_idcs, dtype=np.intp)
        peaks = np.delete(peaks, deleted)
        peak_code = np.delete(peak_code, deleted)
        merged_code = np.delete(merged_code, deleted)
        after = np.sort(deleted) - np.arange(deleted.size)
        after = after[(after >= 0) & (after < peaks.size)]
        merged_code[after] = RULE_EXTRA
        missed_idcs = _update_indices(extra_idcs, missed_idcs, -1)
        ectopic_idcs = _update_indices(extra_idcs, ectopic_idcs, -1)
        longshort_idcs = _update_indices(extra_idcs, longshort_idcs, -1)
    if missed_idcs:
        idx = np.asarray(missed_idcs, dtype=np.intp)
        idx = idx[(idx > 1) & (idx < peaks.size)]
        prev_p, next_p = peaks[idx - 1], peaks[idx]
        added = prev_p + np.floor((next_p - prev_p) / 2)
        peaks = np.insert(peaks, idx, added)
        peak_code = np.insert(peak_code, idx, np.int8(RULE_MISSED))
        merged_code = np.insert(merged_code, idx, np.int8(RULE_NONE))
        ectopic_idcs = _update_indices(missed_idcs, ectopic_idcs, 1)
        longshort_idcs = _update_indices(missed_idcs, longshort_idcs, 1)
    if ectopic_idcs:
        peaks, peak_code, merged_code = _correct_misaligned(
            ectopic_idcs, peaks, peak_code, merged_code, RULE_ECTOPIC
        )
    if longshort_idcs:
        peaks, peak_code, merged_code = _correct_misaligned(
            longshort_idcs, peaks, peak_code, merged_code, RULE_LONGSHORT
        )
    return peaks, peak_code, merged_code


def _correct_misaligned(
    idcs: list[int],
    peaks: NDArray[np.float64],
    peak_code: NDArray[np.int8],
    merged_code: NDArray[np.int8],
    rule: int,
) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.int8]]:
    idx = np.asarray(idcs, dtype=np.intp)
    idx = idx[(idx > 1) & (idx < peaks.size - 1)]
    prev_p, next_p = peaks[idx - 1], peaks[idx + 1]
    interp = prev_p + np.floor((next_p - prev_p) / 2)
    moved_merged = merged_code[idx]
    keep = np.ones(peaks.size, dtype=bool)
    keep[idx] = False
    all_peaks = np.concatenate((peaks[keep], interp))
    all_codes = np.concatenate((peak_code[keep], np.full(idx.size, rule, dtype=np.int8)))
    all_merged = np.concatenate((merged_code[keep], moved_merged))
    order = np.argsort(all_peaks, kind="mergesort")
    return all_peaks[order], all_codes[order], all_merged[order]
