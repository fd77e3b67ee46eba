"""Artifact correction of RR series: Lipponen & Tarvainen (2019) with a threshold floor tied to the RR resolution.

Removes impossible intervals, detects and corrects ectopic, missed, extra and long/short beats
iteratively as ``nk.signal_fixpeaks(method="kubios")`` does, and merges fragments the correction
left; windowing and markers are left to ``analysis.windows``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.bounds import RR_MAX_MS, RR_MIN_MS
from analysis.errors import AnalysisError
from analysis.resolution import detect_resolution_ms
from analysis.rolling import rolling_quantiles, window_quantiles_at

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
#: A beat's classification reads RR intervals at most this far before it (the 91-beat window of
#: the 11-beat median) ...
_REACH_BEFORE: Final[int] = _WINDOW_WIDTH // 2 + _MEDFILT_ORDER // 2
#: ... and this far after it (the same, for the following beat it may examine).
_REACH_AFTER: Final[int] = _REACH_BEFORE + 1
#: The interquartile ranges behind both thresholds are taken as at least this many resolution
#: steps (see :func:`clean_rr`).
IQR_MIN_STEPS: Final[float] = 2.0
#: Classification kinds of an examined beat.
_KIND_NONE: Final[int] = 0
_KIND_EXTRA: Final[int] = 1
_KIND_MISSED: Final[int] = 2
_KIND_LONGSHORT: Final[int] = 3

Array = NDArray[np.float64]
Index = NDArray[np.intp]


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
        recorded, else the rule that changed it (ectopic, missed, extra, longshort); a fragment
        merged into its neighbour marks the merged interval ``extra``.
    artifact_share:
        Fraction of beats that were corrected or removed as impossible:
        ``(count(mask != 0) + n_impossible_removed) / (len(nn_ms) + n_impossible_removed)``.
    n_impossible_removed:
        Input intervals removed before correction: not positive, longer than ``RR_MAX_MS``, or a
        fragment shorter than ``RR_MIN_MS`` with no neighbour in its segment.
    keep_index:
        Indices into the input of the intervals that entered correction.
    segment_id:
        Continuous segment (0, 1, ...) of every NN interval; correction never crosses segments.
    resolution_ms:
        Time resolution the threshold floor was tied to, ms (0.0: none, continuous values).
    """

    nn_ms: NDArray[np.float64]
    mask: NDArray[np.int8]
    artifact_share: float
    n_impossible_removed: int
    keep_index: NDArray[np.intp]
    segment_id: NDArray[np.intp]
    resolution_ms: float = 0.0

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
    resolution_ms: float | None = None,
) -> CleanResult:
    """Remove impossible intervals and correct artifacts (Lipponen & Tarvainen 2019).

    Each segment is treated as peak times ``[0, cumsum(rr_ms)]`` in ms (neurokit2 with
    ``sampling_rate=1000``); detection and correction repeat while the number of detected
    artifacts decreases, exactly as ``nk.signal_fixpeaks(peaks, method="kubios", iterative=True)``.
    Like neurokit2 at 1 kHz, interpolated peak times are placed at whole-ms offsets
    (``prev + floor((next - prev) / 2)``).

    Three deliberate departures from neurokit2, all no-ops on gap-free integer-ms input whose
    variability is well above its resolution (there the result is identical to neurokit2):

    * **Threshold floor.** Both thresholds, ``alpha · QD`` of the successive differences and of
      the deviations from the 11-beat median (``alpha`` = 5.2, QD = half the rolling interquartile
      range over 91 beats), use an interquartile range of at least two resolution steps ``Δ``
      (:data:`IQR_MIN_STEPS`): ``alpha · max(Q3 - Q1, 2Δ) / 2``. Quartiles of values that move
      in steps of Δ snap to those steps, each off by up to a step, so a 91-beat interquartile
      range below 2Δ is not resolved: on a file at 1/128 s it shrinks (or collapses to a
      fraction of a step), and neurokit2 "corrects" beats that are merely rounded (750 → 742 ms).
      On a clean ECGSYN recording (neurokit2's RR model) rounded to 1/128 s the floor brings the
      share of corrected beats back from 2.2 % to the 0.8 % of the unrounded series.
    * **Unresolved spread.** Where that interquartile range of successive differences is below
      the floor, their threshold is also at least their third quartile (Q3) over the same 91
      beats, so at most a quarter of those beats can exceed it. This matters where the spread
      vanishes although the differences do not (a strictly alternating series 985, 1015, 985
      ...): neurokit2's threshold falls to zero there (no detection at all) and the floor alone
      would make every beat an "artifact".
    * **Fragments are merged, not dropped.** Intervals shorter than ``RR_MIN_MS`` (noise detected
      as a beat) go through the correction, whose extra-beat rule merges them with their
      neighbour as Lipponen & Tarvainen describe; a fragment the rules leave is merged with the
      neighbour that brings the sum closest to the local median (marked ``extra``). Deleting
      fragments beforehand would shift every later beat by the fragment's length.

    Parameters
    ----------
    rr_ms:
        RR intervals, ms.
    breaks:
        Optional boolean per input interval: True where a new continuous segment starts
        (after a recording gap). Correction runs on each segment separately.
    correct:
        False skips the Lipponen & Tarvainen correction (fragments are still merged and
        impossible intervals removed).
    resolution_ms:
        Time resolution of the values, ms (e.g. ``1000 / 1024`` for a chest strap); detected
        from the values when None (``analysis.resolution.detect_resolution_ms``). 0 disables
        the floor.

    Returns
    -------
    CleanResult

    Raises
    ------
    InvalidRRError
        Input not a 1-D finite numeric series, ``breaks`` of another length, or a negative or
        non-finite ``resolution_ms``.

    References
    ----------
    Lipponen, J. A., & Tarvainen, M. P. (2019). A robust algorithm for heart rate variability
    time series artefact correction using novel beat classification. J Med Eng Technol 43(3).
    neurokit2 0.2.13 ``signal_fixpeaks`` (``_find_artifacts``, ``_correct_artifacts``).
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
    if resolution_ms is not None and not (np.isfinite(resolution_ms) and resolution_ms >= 0):
        raise InvalidRRError(
            f"resolution_ms must be a non-negative number, got {resolution_ms}",
            name="resolution_ms",
        )
    seg_all = np.cumsum(brk)
    possible = (rr > 0) & (rr <= RR_MAX_MS)
    # A fragment alone in its segment has no neighbour to merge with.
    fragment = possible & (rr < RR_MIN_MS)
    if fragment.any():
        seg_possible = seg_all[possible]
        counts = np.bincount(seg_possible - seg_possible.min())
        alone = np.zeros(rr.size, dtype=bool)
        alone[possible] = counts[seg_possible - seg_possible.min()] == 1
        possible &= ~(fragment & alone)
    keep_index = np.flatnonzero(possible)
    n_removed = int(rr.size - keep_index.size)
    if n_removed:
        logger.debug("removed %d impossible RR intervals", n_removed)
    kept = rr[keep_index]
    step_ms = detect_resolution_ms(kept) if resolution_ms is None else float(resolution_ms)
    if kept.size == 0:
        share = 1.0 if n_removed else 0.0
        return CleanResult(
            np.zeros(0),
            np.zeros(0, np.int8),
            share,
            n_removed,
            keep_index,
            np.zeros(0, np.intp),
            step_ms,
        )
    seg_start = seg_all[keep_index]
    bounds = np.flatnonzero(np.diff(seg_start)) + 1
    starts = np.concatenate(([0], bounds)).astype(np.intp)
    stops = np.concatenate((bounds, [kept.size])).astype(np.intp)
    states = [
        _Segment.from_rr(kept[a:b]) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
    ]
    if correct:
        _kubios(states, floor_s=IQR_MIN_STEPS * step_ms / 1000.0)
    nn_parts: list[Array] = []
    mask_parts: list[NDArray[np.int8]] = []
    for state in states:
        nn, code = state.nn_and_codes()
        nn, code = _merge_fragments(nn, code)
        nn_parts.append(nn)
        mask_parts.append(code)
    nn_ms = np.concatenate(nn_parts)
    mask_all = np.concatenate(mask_parts)
    segment_id = np.repeat(np.arange(len(states), dtype=np.intp), [p.size for p in nn_parts])
    total = nn_ms.size + n_removed
    share = (int(np.count_nonzero(mask_all)) + n_removed) / total if total else 0.0
    return CleanResult(nn_ms, mask_all, share, n_removed, keep_index, segment_id, step_ms)


# --------------------------------------------------------------------------------------------
# Segment state and the iteration of neurokit2's ``_signal_fixpeaks_kubios``


@dataclass
class _Records:
    """Examined beats of one segment (Fig. 1 of Lipponen & Tarvainen), in peak-index order.

    ``idx`` is the peak index of each candidate (``|dRR| > Th1``); ``ectopic`` per eq. 1-2; ``go``
    when it is examined for long/short beats; ``two`` when the following beat is examined too;
    ``kind1``/``kind2`` the class (extra, missed, long/short or none) of the beat itself and of the
    following one.
    """

    idx: Index
    ectopic: NDArray[np.bool_]
    go: NDArray[np.bool_]
    two: NDArray[np.bool_]
    kind1: NDArray[np.int8]
    kind2: NDArray[np.int8]

    @staticmethod
    def empty() -> _Records:
        b = np.zeros(0, dtype=bool)
        k = np.zeros(0, dtype=np.int8)
        return _Records(np.zeros(0, dtype=np.intp), b, b.copy(), b.copy(), k, k.copy())

    def take(self, keep: NDArray[np.bool_] | Index | slice) -> _Records:
        return _Records(
            self.idx[keep],
            self.ectopic[keep],
            self.go[keep],
            self.two[keep],
            self.kind1[keep],
            self.kind2[keep],
        )

    @staticmethod
    def merged(a: _Records, b: _Records) -> _Records:
        idx = np.concatenate((a.idx, b.idx))
        order = np.argsort(idx, kind="stable")
        return _Records(
            idx[order],
            np.concatenate((a.ectopic, b.ectopic))[order],
            np.concatenate((a.go, b.go))[order],
            np.concatenate((a.two, b.two))[order],
            np.concatenate((a.kind1, b.kind1))[order],
            np.concatenate((a.kind2, b.kind2))[order],
        )

    def artifacts(self) -> dict[str, list[int]]:
        """The artifact lists ``_find_artifacts`` returns, from the sequential scan of Fig. 1.

        The scan visits every candidate except the one right after a candidate that examined two
        beats (it advanced by two); only such chains need a sequential pass.
        """
        visited = np.ones(self.idx.size, dtype=bool)
        chained = np.flatnonzero((self.idx[1:] == self.idx[:-1] + 1) & self.two[:-1]) + 1
        for k in chained.tolist():
            visited[k] = not (visited[k - 1] and self.two[k - 1])
        first_kind = np.where(visited & self.go, self.kind1, _KIND_NONE)
        second_kind = np.where(visited & self.two, self.kind2, _KIND_NONE)
        out: dict[str, list[int]] = {"ectopic": self.idx[visited & self.ectopic].tolist()}
        for name, kind in (
            ("missed", _KIND_MISSED),
            ("extra", _KIND_EXTRA),
            ("longshort", _KIND_LONGSHORT),
        ):
            a = self.idx[first_kind == kind]
            b = self.idx[second_kind == kind] + 1
            # idx is sorted: only a mix of both lists needs sorting.
            out[name] = (
                np.sort(np.concatenate((a, b))) if a.size and b.size else a if a.size else b
            ).tolist()
        return out


@dataclass
class _Segment:
    """One continuous segment under correction: peak times (ms) and what changed them."""

    peaks: Array
    peak_code: NDArray[np.int8]
    merged_code: NDArray[np.int8]
    records: _Records = field(default_factory=_Records.empty)
    n_current: int = 0
    active: bool = True
    #: Peak indices changed by the last correction (in the current peaks' index space).
    changed: Index = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    @staticmethod
    def from_rr(rr_ms: Array) -> _Segment:
        peaks = np.concatenate(([0.0], np.cumsum(rr_ms)))
        zeros = np.zeros(peaks.size, dtype=np.int8)
        return _Segment(peaks, zeros, zeros.copy(), active=peaks.size >= _MIN_PEAKS)

    def nn_and_codes(self) -> tuple[Array, NDArray[np.int8]]:
        """NN intervals (ms) and the rule code of each: the code of its end peak, else the code
        merged into that peak by an extra-beat deletion, else the code of its start peak."""
        nn = np.diff(self.peaks)
        code = self.peak_code[1:].copy()
        for other in (self.merged_code[1:], self.peak_code[:-1]):
            code = np.where(code == 0, other, code).astype(np.int8)
        return nn, code


def _kubios(states: list[_Segment], floor_s: float) -> None:
    """Run neurokit2's iterative Kubios correction on every segment, sharing the work.

    The first detection reads every segment; after a correction only the beats whose
    classification can have changed (those within ``_REACH_BEFORE``/``_REACH_AFTER`` beats of a
    changed peak, and the first beats, which depend on the segment means) are classified again,
    so the rolling quantiles are not recomputed over the whole record on every pass.
    """
    active = [s for s in states if s.active]
    if not active:
        return
    _detect([(s, None) for s in active], floor_s)
    for s in active:
        artifacts = s.records.artifacts()
        s.n_current = sum(len(v) for v in artifacts.values())
        _apply(s, artifacts)
    while True:
        pending = [s for s in active if s.active]
        if not pending:
            return
        _detect([(s, _dirty_zones(s)) for s in pending], floor_s)
        for s in pending:
            artifacts = s.records.artifacts()
            n_previous = s.n_current
            s.n_current = sum(len(v) for v in artifacts.values())
            if s.n_current >= n_previous:
                s.active = False
                continue
            _apply(s, artifacts)


def _apply(s: _Segment, artifacts: dict[str, list[int]]) -> None:
    """Correct ``s`` in place; a correction that changes nothing ends its iteration (the next
    detection would find the same artifacts)."""
    old_peaks = s.peaks
    s.peaks, s.peak_code, s.merged_code, s.changed = _correct_artifacts(
        artifacts, s.peaks, s.peak_code, s.merged_code
    )
    if s.changed.size == 0:
        s.active = False
        return
    # Records of unchanged beats keep their classification; move them to the new indices.
    idx = np.searchsorted(s.peaks, old_peaks[s.records.idx])
    s.records.idx = idx.astype(np.intp)


def _dirty_zones(s: _Segment) -> list[tuple[int, int]]:
    """Merged [lo, hi) ranges of peak indices to classify again after the last correction."""
    n = s.peaks.size
    lo = np.concatenate(([0], s.changed - _REACH_AFTER))
    hi = np.concatenate(([_REACH_AFTER + 1], s.changed + _REACH_BEFORE + 2))
    order = np.argsort(lo, kind="stable")
    lo, hi = np.clip(lo[order], 0, n), np.clip(hi[order], 0, n)
    zones: list[tuple[int, int]] = []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        if b <= a:
            continue
        if zones and a <= zones[-1][1]:
            zones[-1] = (zones[-1][0], max(zones[-1][1], b))
        else:
            zones.append((a, b))
    return zones


# --------------------------------------------------------------------------------------------
# Detection (neurokit2 ``_find_artifacts``), over many segments and local stretches at once


def _threshold(q1: Array, q3: Array, floor_s: float) -> Array:
    """``alpha · max(Q3 - Q1, floor) / 2``: neurokit2's ``alpha · ((Q3 - Q1) / 2)`` whenever
    the interquartile range is at least the floor (see :func:`clean_rr`)."""
    th: Array = _ALPHA * (np.maximum(q3 - q1, floor_s) / 2)
    return th


def _detect(requests: list[tuple[_Segment, list[tuple[int, int]] | None]], floor_s: float) -> None:
    """Classify beats of several segments and update their records.

    ``requests`` pairs a segment with the peak-index zones to classify again (None: all of it).
    Each zone is read with enough context on both sides (``_REACH_BEFORE``/``_REACH_AFTER``) that
    its classification equals the one a pass over the whole segment would give; zones of all
    segments are stacked into one array and processed together.
    """
    rr_parts: list[Array] = []
    drr_parts: list[Array] = []
    p_start: list[int] = []  # piece start, in its segment's peak indices
    p_len: list[int] = []
    p_closed_start: list[bool] = []
    p_closed_stop: list[bool] = []
    p_owner: list[int] = []
    core_lo: list[int] = []  # cores, in the stacked array's indices
    core_hi: list[int] = []
    zone_lo: list[Index] = []
    zone_hi: list[Index] = []
    offset = 0
    for owner, (s, zones) in enumerate(requests):
        n = s.peaks.size
        # np.diff and np.mean, spelled out without their Python overhead (same arithmetic).
        rr = np.empty(n)
        np.subtract(s.peaks[1:], s.peaks[:-1], out=rr[1:])
        rr[1:] /= 1000.0
        rr[0] = np.add.reduce(rr[1:]) / (n - 1)
        drr = np.empty(n)
        np.subtract(rr[1:], rr[:-1], out=drr[1:])
        drr[0] = np.add.reduce(drr[1:]) / (n - 1)
        # The scan of Fig. 1 stops before the last two beats: zones (whose old records are
        # replaced) may reach the end, the classified cores stop at n - 2.
        if zones is None:
            zones = [(0, n)]
            pieces = [(0, n, [(0, n - 2)])]
        else:
            pieces = []
            for a, b in zones:
                b_core = min(b, n - 2)
                lo, hi = max(0, a - _REACH_BEFORE), min(n, b_core + _REACH_AFTER + 1)
                if pieces and lo <= pieces[-1][1]:
                    pieces[-1] = (
                        pieces[-1][0],
                        max(hi, pieces[-1][1]),
                        [*pieces[-1][2], (a, b_core)],
                    )
                else:
                    pieces.append((lo, hi, [(a, b_core)]))
        zone_lo.append(np.array([a for a, _ in zones], dtype=np.intp))
        zone_hi.append(np.array([b for _, b in zones], dtype=np.intp))
        for lo, hi, cores in pieces:
            rr_parts.append(rr[lo:hi])
            drr_parts.append(drr[lo:hi])
            p_start.append(lo)
            p_len.append(hi - lo)
            p_closed_start.append(lo == 0)
            p_closed_stop.append(hi == n)
            p_owner.append(owner)
            for a, b in cores:
                if b <= a:
                    continue
                core_lo.append(offset + a - lo)
                core_hi.append(offset + b - lo)
            offset += hi - lo
    if offset == 0:
        return
    rr = np.concatenate(rr_parts)
    drr = np.concatenate(drr_parts)
    lengths = np.array(p_len, dtype=np.intp)
    starts = np.cumsum(lengths) - lengths
    stops = starts + lengths
    closed_start = np.array(p_closed_start)
    closed_stop = np.array(p_closed_stop)

    # Th1 and the normalised successive differences dRRs (eq. 2 of the paper).
    q1, q3 = rolling_quantiles(
        np.abs(drr),
        _WINDOW_WIDTH,
        (0.25, 0.75),
        starts=starts,
        stops=stops,
        closed_start=closed_start,
        closed_stop=closed_stop,
    )
    th1 = _threshold(q1, q3, floor_s)
    unresolved = (q3 - q1) < floor_s
    th1[unresolved] = np.maximum(th1[unresolved], q3[unresolved])
    drrs = np.full(rr.size, np.nan)
    np.divide(drr, th1, out=drrs, where=th1 != 0)

    # Candidates: beats of the cores with |dRRs| > 1 (NaN included, as neurokit2's loop).
    in_core = np.zeros(rr.size + 1, dtype=np.int8)
    np.add.at(in_core, np.array(core_lo, dtype=np.intp), 1)
    np.add.at(in_core, np.array(core_hi, dtype=np.intp), -1)
    core_mask = np.cumsum(in_core[:-1]) > 0
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(core_mask & ~(np.abs(drrs) <= 1))
    piece_of = np.searchsorted(stops, cand, side="right")

    def neighbour(pos: Index, step: int) -> Array:
        """dRRs at ``pos + step`` with neurokit2's reflect padding at closed piece ends."""
        target = pos + step
        p = piece_of if pos is cand else np.searchsorted(stops, pos, side="right")
        first, last = starts[p], stops[p] - 1
        target = np.where(target < first, 2 * first - target, target)
        target = np.where(target > last, 2 * last - target, target)
        return drrs[target]

    d = drrs[cand]
    left, right, right2 = neighbour(cand, -1), neighbour(cand, 1), neighbour(cand, 2)
    with np.errstate(invalid="ignore"):
        s12 = np.where(
            d > 0, np.maximum(left, right), np.where(d < 0, np.minimum(left, right), 0.0)
        )
        ectopic = ((d > 1) & (s12 < (-_C1 * d - _C2))) | ((d < -1) & (s12 > (-_C1 * d + _C2)))
        two_possible = np.abs(right) < np.abs(right2)

    # Th2 and the normalised deviations from the 11-beat median, mRRs, where they are read.
    (medrr,) = rolling_quantiles(
        rr,
        _MEDFILT_ORDER,
        (0.5,),
        starts=starts,
        stops=stops,
        closed_start=closed_start,
        closed_stop=closed_stop,
        median=True,
    )
    mrrs_raw = rr - medrr
    mrrs_raw[mrrs_raw < 0] = mrrs_raw[mrrs_raw < 0] * 2
    need = np.unique(np.concatenate((cand[~ectopic], cand[~ectopic & two_possible] + 1)))
    need_piece = np.searchsorted(stops, need, side="right")
    half = _WINDOW_WIDTH // 2
    w_lo = np.maximum(starts[need_piece], need - half)
    w_hi = np.minimum(stops[need_piece], need + half + 1)
    nq1, nq3 = window_quantiles_at(np.abs(mrrs_raw), w_lo, w_hi, (0.25, 0.75))
    th2 = np.full(rr.size, np.nan)
    th2[need] = _threshold(nq1, nq3, floor_s)
    mrrs = np.full(rr.size, np.nan)
    ok = need[th2[need] != 0]
    mrrs[ok] = mrrs_raw[ok] / th2[ok]

    with np.errstate(invalid="ignore"):
        go = ~ectopic & ((np.abs(d) > 1) | (np.abs(mrrs[cand]) > 3))
        two = go & two_possible
    kind1 = np.zeros(cand.size, dtype=np.int8)
    kind2 = np.zeros(cand.size, dtype=np.int8)
    s22_1 = _s22(d, right, right2)
    kind1[go] = _classify(cand[go], drrs, s22_1[go], mrrs, rr, medrr, th2)
    if two.any():
        j = cand[two] + 1
        d_j = drrs[j]
        s22_2 = _s22(d_j, neighbour(j, 1), neighbour(j, 2))
        kind2[two] = _classify(j, drrs, s22_2, mrrs, rr, medrr, th2)

    # Back to each segment's peak indices; replace the records of the re-classified zones.
    owner_of_piece = np.array(p_owner, dtype=np.intp)
    seg_idx = cand - starts[piece_of] + np.array(p_start, dtype=np.intp)[piece_of]
    cand_owner = owner_of_piece[piece_of]
    new = _Records(seg_idx.astype(np.intp), ectopic, go, two, kind1, kind2)
    # Pieces are stacked in request order: each request's candidates are one run.
    runs = np.searchsorted(cand_owner, np.arange(len(requests) + 1)).tolist()
    for owner, (s, zones) in enumerate(requests):
        mine = new.take(slice(runs[owner], runs[owner + 1]))
        if zones is None:
            s.records = mine
            continue
        zlo, zhi = zone_lo[owner], zone_hi[owner]
        old = s.records
        z = np.searchsorted(zlo, old.idx, side="right") - 1
        inside = (z >= 0) & (old.idx < zhi[np.maximum(z, 0)])
        s.records = _Records.merged(old.take(~inside), mine)


def _s22(d: Array, right: Array, right2: Array) -> Array:
    """Subspace s22 of the paper (eq. 5): the smaller / larger of the next two dRRs."""
    with np.errstate(invalid="ignore"):
        out: Array = np.where(
            d >= 0, np.minimum(right, right2), np.where(d < 0, np.maximum(right, right2), 0.0)
        )
    return out


def _classify(
    j: Index,
    drrs: Array,
    s22: Array,
    mrrs: Array,
    rr: Array,
    medrr: Array,
    th2: Array,
) -> NDArray[np.int8]:
    """Extra, missed or long/short class of examined beats ``j`` (eq. 3-7), ``_KIND_*`` codes."""
    with np.errstate(invalid="ignore"):
        dj = drrs[j]
        eq3 = (dj > 1) & (s22 < -1)
        eq4 = np.abs(mrrs[j]) > 3
        eq5 = (dj < -1) & (s22 > 1)
        eq6 = np.abs(rr[j] / 2 - medrr[j]) < th2[j]
        eq7 = np.abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j]
    artifact = eq3 | eq4 | eq5
    extra = artifact & eq5 & eq7
    missed = artifact & ~extra & eq3 & eq6
    longshort = artifact & ~extra & ~missed
    kind = np.zeros(j.size, dtype=np.int8)
    kind[extra] = _KIND_EXTRA
    kind[missed] = _KIND_MISSED
    kind[longshort] = _KIND_LONGSHORT
    return kind


# --------------------------------------------------------------------------------------------
# Correction (neurokit2 ``_correct_artifacts``), tracking which peaks changed


def _update_indices(source: list[int], update: list[int], shift: int) -> list[int]:
    """Shift indices after insertions/deletions with neurokit2's semantics, in O(n log n).

    neurokit2 visits the sources in order and shifts every index still above the source by
    ``shift``, comparing the already shifted index. With sources in non-decreasing order an index
    ``u`` is shifted by the first ``c`` sources exactly (once ``u <= s_k`` it stays at or below every
    later source), where ``c`` is the first ``k`` with ``u + shift·k <= s_k``; the loop is kept for
    sources out of order.
    """
    if not update:
        return update
    src = np.asarray(source, dtype=np.int64)
    if src.size > 1 and bool(np.any(src[1:] < src[:-1])):
        for s in source:
            update = [u + shift if u > s else u for u in update]
        return [int(v) for v in np.unique(update)]
    upd = np.asarray(update, dtype=np.int64)
    bound = np.maximum.accumulate(src - shift * np.arange(src.size, dtype=np.int64))
    count = np.searchsorted(bound, upd, side="left") if src.size else np.zeros_like(upd)
    return [int(v) for v in np.unique(upd + shift * count)]


def _correct_artifacts(
    artifacts: dict[str, list[int]],
    peaks: Array,
    peak_code: NDArray[np.int8],
    merged_code: NDArray[np.int8],
) -> tuple[Array, NDArray[np.int8], NDArray[np.int8], Index]:
    """Apply one round of corrections; returns the new peaks and codes and the changed peaks.

    A changed peak is one inserted, moved, or following a deleted one (its interval merged).
    """
    extra_idcs = artifacts["extra"]
    missed_idcs = artifacts["missed"]
    ectopic_idcs = artifacts["ectopic"]
    longshort_idcs = artifacts["longshort"]
    changed = np.zeros(0, dtype=np.intp)
    if extra_idcs:
        deleted = np.unique(np.asarray(extra_idcs, dtype=np.intp))
        peaks = np.delete(peaks, deleted)
        peak_code = np.delete(peak_code, deleted)
        merged_code = np.delete(merged_code, deleted)
        after = deleted - np.arange(deleted.size)
        merged_code[after[(after >= 0) & (after < peaks.size)]] = RULE_EXTRA
        changed = np.clip(after, 0, peaks.size - 1)
        missed_idcs = _update_indices(extra_idcs, missed_idcs, -1)
        ectopic_idcs = _update_indices(extra_idcs, ectopic_idcs, -1)
        longshort_idcs = _update_indices(extra_idcs, longshort_idcs, -1)
    if missed_idcs:
        idx = np.asarray(missed_idcs, dtype=np.intp)
        idx = np.sort(idx[(idx > 1) & (idx < peaks.size)])
        prev_p, next_p = peaks[idx - 1], peaks[idx]
        added = prev_p + np.floor((next_p - prev_p) / 2)
        peaks = np.insert(peaks, idx, added)
        peak_code = np.insert(peak_code, idx, np.int8(RULE_MISSED))
        merged_code = np.insert(merged_code, idx, np.int8(RULE_NONE))
        changed = changed + np.searchsorted(idx, changed, side="right")
        changed = np.concatenate((changed, idx + np.arange(idx.size)))
        ectopic_idcs = _update_indices(missed_idcs, ectopic_idcs, 1)
        longshort_idcs = _update_indices(missed_idcs, longshort_idcs, 1)
    for idcs, rule in ((ectopic_idcs, RULE_ECTOPIC), (longshort_idcs, RULE_LONGSHORT)):
        if idcs:
            peaks, peak_code, merged_code, moved = _correct_misaligned(
                idcs, peaks, peak_code, merged_code, rule
            )
            changed = np.concatenate((changed, moved))
    return peaks, peak_code, merged_code, np.unique(changed).astype(np.intp)


def _correct_misaligned(
    idcs: list[int],
    peaks: Array,
    peak_code: NDArray[np.int8],
    merged_code: NDArray[np.int8],
    rule: int,
) -> tuple[Array, NDArray[np.int8], NDArray[np.int8], Index]:
    """Move peaks ``idcs`` to the middle of their neighbours (neurokit2 ``_correct_misaligned``).

    neurokit2 deletes the peaks, appends the interpolated ones and sorts stably. The interpolated
    peak lies between its neighbours, so in the usual case it simply takes the old peak's place;
    only when that would break the stable order is the sort done as neurokit2 does it.
    """
    idx = np.asarray(idcs, dtype=np.intp)
    idx = idx[(idx > 1) & (idx < peaks.size - 1)]
    if idx.size == 0:
        return peaks, peak_code, merged_code, idx
    prev_p, next_p = peaks[idx - 1], peaks[idx + 1]
    interp = prev_p + np.floor((next_p - prev_p) / 2)
    moved = np.zeros(peaks.size, dtype=bool)
    moved[idx] = True
    new = peaks.copy()
    new[idx] = interp
    # Stable order of (kept peaks, then interpolated ones): on a tie a kept peak comes first.
    left_ok = new[idx - 1] <= new[idx]
    right_ok = np.where(moved[idx + 1], new[idx] <= new[idx + 1], new[idx] < new[idx + 1])
    if bool(np.all(left_ok & right_ok)):
        codes = peak_code.copy()
        codes[idx] = rule
        # A peak already at its neighbours' midpoint (corrected by an earlier pass) does not
        # move: nothing around it needs classifying again.
        return new, codes, merged_code, np.unique(idx[interp != peaks[idx]])
    keep = ~moved
    all_peaks = np.concatenate((peaks[keep], interp))
    all_codes = np.concatenate((peak_code[keep], np.full(idx.size, rule, dtype=np.int8)))
    all_merged = np.concatenate((merged_code[keep], merged_code[idx]))
    order = np.argsort(all_peaks, kind="mergesort")
    span = np.arange(max(int(idx.min()) - 2, 0), min(int(idx.max()) + 3, peaks.size))
    return all_peaks[order], all_codes[order], all_merged[order], span.astype(np.intp)


# --------------------------------------------------------------------------------------------
# Fragments left by the correction


def _merge_fragments(nn_ms: Array, code: NDArray[np.int8]) -> tuple[Array, NDArray[np.int8]]:
    """Merge every interval shorter than ``RR_MIN_MS`` into its neighbours in the same segment.

    A run of consecutive fragments is split between the interval before it and the one after it
    (all to one side, or the first ones to the left and the rest to the right) so that the two
    merged intervals lie closest, in total absolute difference, to the median of the intervals
    within five beats of the run; eq. 7 of Lipponen & Tarvainen likewise judges an extra beat by the
    sum of the pieces against the local median. Without such a median the run goes to the shorter
    neighbour. Merged intervals are marked ``extra``; the total duration is kept.
    """
    frag = nn_ms < RR_MIN_MS
    if not frag.any() or nn_ms.size < 2:
        return nn_ms, code
    nn = nn_ms.copy()
    code = code.copy()
    edges = np.diff(np.concatenate(([0], frag.astype(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_stops = np.flatnonzero(edges == -1)
    drop = np.zeros(nn.size, dtype=bool)
    for a, b in zip(run_starts.tolist(), run_stops.tolist(), strict=True):
        drop[a:b] = True
        pieces = nn[a:b]
        left, right = a - 1, b
        if left < 0 and right >= nn.size:  # the whole segment is fragments: one interval
            nn[a] = pieces.sum()
            code[a] = RULE_EXTRA
            drop[a] = False
            continue
        around = nn[max(a - 5, 0) : min(b + 5, nn.size)]
        around = around[around >= RR_MIN_MS]
        if left < 0 or right >= nn.size:
            split = 0 if left < 0 else pieces.size
        elif around.size == 0:
            split = pieces.size if nn[left] <= nn[right] else 0
        else:
            ref = float(np.median(around))
            to_left = np.concatenate(([0.0], np.cumsum(pieces)))
            total = to_left[-1]
            cost = np.abs(nn[left] + to_left - ref) + np.abs(nn[right] + total - to_left - ref)
            split = int(np.argmin(cost))
        if split > 0:
            nn[left] += pieces[:split].sum()
            code[left] = RULE_EXTRA
        if split < pieces.size:
            nn[right] += pieces[split:].sum()
            code[right] = RULE_EXTRA
    return nn[~drop], code[~drop]


def _rolling_quantiles(x: Array, window: int, qs: tuple[float, ...]) -> list[Array]:
    """Centred rolling quantiles of one series (``analysis.rolling.rolling_quantiles``)."""
    return rolling_quantiles(x, window, qs)
