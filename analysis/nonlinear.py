"""DFA α1 and sample entropy of many NN windows at once, equal to neurokit2's ``hrv_nonlinear``.

A window may consist of several gap-free stretches: boxes and templates never span a gap. Short
windows are processed together with whole-array NumPy operations, long ones with a k-d tree;
minimum-length policies are left to ``analysis.windows``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from analysis.kernel_input import as_nn_windows

logger = logging.getLogger(__name__)

#: DFA α1 box sizes in beats (Peng et al. 1995; neurokit2 ``dfa_windows[0] = (4, 11)``).
DFA_ALPHA1_SCALES: tuple[int, ...] = (4, 5, 6, 7, 8, 9, 10, 11)
#: neurokit2 returns NaN for DFA below this many intervals.
DFA_MIN_BEATS: int = 12
#: Detrended box variances at or below this are ignored (neurokit2 ``_fractal_dfa_fluctuation``).
DFA_MIN_BOX_VARIANCE: float = 1e-8
#: A box whose residual variance is below this fraction of its sum of squares is detrended
#: explicitly (the closed form would have lost more than six digits).
_DFA_CLOSED_FORM_DIGITS: float = 1e-6
#: Sample entropy embedding dimension m (Richman & Moorman 2000; neurokit2 ``hrv_nonlinear``).
SAMPEN_DIMENSION: int = 2
#: Sample entropy tolerance as a fraction of the window's SD (ddof = 1).
SAMPEN_TOLERANCE_SD: float = 0.2
#: Candidate template pairs compared per chunk in the sample-entropy kernel (bounds memory).
_SAMPEN_CHUNK_PAIRS: int = 32_768
#: Templates per batch of windows in the sample-entropy grid kernel (bounds its temporaries).
_SAMPEN_BATCH_TEMPLATES: int = 8192
#: Windows with more templates than this count their matches with bit sets (O(N^2 / 64) word
#: operations) instead of the grid (O(N^2) candidate pairs); benchmarks/analysis_kernels.py
#: prints the crossover.
SAMPEN_BITSET_MIN_TEMPLATES: int = 1500
#: Beats per block of bits in the bit-set kernel (bounds its memory to ~6 arrays of n x 64 words).
_BITSET_BLOCK_BEATS: int = 4096


@dataclass(frozen=True)
class MarkerBatch:
    """One marker for ``n`` windows.

    Attributes
    ----------
    values:
        Float array of length ``n``; NaN where the marker is undefined for that window.
    reasons:
        For each window, ``None`` when defined, else ``"<marker>: <why>"``.
    """

    values: NDArray[np.float64]
    reasons: tuple[str | None, ...]


def _concat(
    nn_ms: Sequence[NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Validated windows, concatenated, and their lengths."""
    windows = as_nn_windows(nn_ms)
    lengths = np.array([w.size for w in windows], dtype=np.int64)
    x = np.concatenate(windows) if windows else np.zeros(0)
    return x, lengths


def _ranges(
    starts: NDArray[np.int64], counts: NDArray[np.int64], step: int = 1
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``starts[j] + step * arange(counts[j])`` for every j, concatenated, and the j of each."""
    counts = np.maximum(counts, 0)
    total = int(counts.sum())
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    rank = np.arange(total, dtype=np.int64) - first[owner]
    return starts[owner] + rank * step, owner


def dfa_alpha1_batch(nn_ms: Sequence[NDArray[np.float64]]) -> MarkerBatch:
    """Short-term detrended fluctuation exponent α1 of each window, vectorised over windows.

    Parameters
    ----------
    nn_ms:
        One array of NN intervals (ms) per window.

    Returns
    -------
    MarkerBatch
        α1 (dimensionless) equal within 1e-9 relative to ``nk.hrv_nonlinear(...)["HRV_DFA_alpha1"]``
        (i.e. ``nk.fractal_dfa(nn, scale=range(4, 12))``). NaN, with a reason, for windows with
        fewer than 12 intervals (as neurokit2), or where every box of some size is a straight
        line (e.g. constant NN; neurokit2 returns NaN or fails).

    Raises
    ------
    analysis.kernel_input.MarkerInputError
        Non-finite, non-positive or multi-dimensional input.

    Notes
    -----
    See :func:`dfa_alpha1_stretches`, of which this is the one-stretch-per-window case.

    References
    ----------
    Peng C-K, Havlin S, Stanley HE, Goldberger AL (1995). Quantification of scaling exponents and
    crossover phenomena in nonstationary heartbeat time series. Chaos 5:82-87.
    neurokit2 0.2.13 ``fractal_dfa`` and ``_hrv_dfa``.
    """
    x, lengths = _concat(nn_ms)
    starts = np.cumsum(lengths) - lengths
    return dfa_alpha1_stretches(x, starts, lengths, np.arange(lengths.size), lengths.size)


def dfa_alpha1_stretches(
    x: NDArray[np.float64],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    owner: NDArray[np.int64],
    n_windows: int,
) -> MarkerBatch:
    """DFA α1 of windows made of gap-free stretches; no box spans a gap.

    Parameters
    ----------
    x:
        NN intervals, ms, of all stretches (already validated: finite, positive).
    starts, lengths:
        Each stretch is ``x[starts[j] : starts[j] + lengths[j]]``.
    owner:
        Window (0 .. n_windows-1) of each stretch, non-decreasing.
    n_windows:
        Number of windows.

    Returns
    -------
    MarkerBatch
        α1 per window. A window of one stretch gets neurokit2's value (within 1e-9 relative);
        NaN with a reason when the window has fewer than 12 intervals in stretches of at least 12,
        or when every box of some size is a straight line.

    Notes
    -----
    Each stretch's mean-removed series is integrated; for each box size ``s`` in 4..11 the boxes
    start every ``s // 2`` beats of a stretch (``range(0, n - s, s // 2)``, as neurokit2), a
    least-squares line is removed from each box, and ``F(s)`` is the root of the mean box variance
    over all boxes of all stretches of the window (variances <= 1e-8 dropped). α1 is the
    least-squares slope of ``log2 F(s)`` on ``log2 s``. A stretch's own mean is removed: it only
    changes the profile by a straight line, which every box removes anyway. Boxes of all windows
    are stacked and fitted in closed form.

    References
    ----------
    Peng et al. (1995) Chaos 5:82-87; neurokit2 0.2.13 ``fractal_dfa``. Pooling boxes over
    segments of an interrupted record: Kantelhardt J. W. et al. (2002). Multifractal detrended
    fluctuation analysis of nonstationary time series. Physica A 316:87-114.
    """
    values = np.full(n_windows, np.nan)
    reasons: list[str | None] = [None] * n_windows
    usable_beats = np.bincount(
        owner, weights=np.where(lengths >= DFA_MIN_BEATS, lengths, 0), minlength=n_windows
    )
    all_beats = np.bincount(owner, weights=lengths, minlength=n_windows)
    n_parts = np.bincount(owner, minlength=n_windows)
    too_short = usable_beats < DFA_MIN_BEATS
    for index in np.flatnonzero(too_short).tolist():
        reasons[index] = "dfa_alpha1: " + _too_few(
            DFA_MIN_BEATS, int(usable_beats[index]), int(all_beats[index]), int(n_parts[index])
        )
    use = (lengths >= DFA_MIN_BEATS) & ~too_short[owner]
    if not use.any():
        return MarkerBatch(values, tuple(reasons))
    st_start, st_len, st_owner = starts[use], lengths[use], owner[use]
    beat, beat_stretch = _ranges(st_start, st_len)
    xs = x[beat]
    offsets = np.cumsum(st_len) - st_len
    means = np.add.reduceat(xs, offsets) / st_len
    profile = np.cumsum(xs - means[beat_stretch])
    before = np.concatenate(([0.0], profile))[offsets]
    profile = profile - before[beat_stretch]

    windows_used = np.unique(st_owner)
    row_of = np.full(n_windows, -1, dtype=np.int64)
    row_of[windows_used] = np.arange(windows_used.size)
    stretch_row = row_of[st_owner]
    n_scales = len(DFA_ALPHA1_SCALES)
    log_f = np.empty((windows_used.size, n_scales))
    for k, scale in enumerate(DFA_ALPHA1_SCALES):
        step = scale // 2
        counts = (st_len - scale + step - 1) // step
        box_start, box_stretch = _ranges(offsets, counts, step)
        boxes = sliding_window_view(profile, scale)[box_start]
        x_centred = np.arange(scale, dtype=np.float64) - (scale - 1) / 2
        var = _box_residual_variance(boxes, x_centred)
        kept = var > DFA_MIN_BOX_VARIANCE
        box_row = stretch_row[box_stretch]
        total = np.bincount(box_row[kept], weights=var[kept], minlength=windows_used.size)
        n_kept = np.bincount(box_row[kept], minlength=windows_used.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f[:, k] = np.log2(np.sqrt(total / n_kept))

    log_s = np.log2(np.array(DFA_ALPHA1_SCALES, dtype=np.float64))
    log_s_centred = log_s - log_s.mean()
    finite = np.all(np.isfinite(log_f), axis=1)
    alpha = (
        (log_f - log_f.mean(axis=1, keepdims=True))
        @ log_s_centred
        / (log_s_centred @ log_s_centred)
    )
    values[windows_used[finite]] = alpha[finite]
    for row in np.flatnonzero(~finite).tolist():
        index = int(windows_used[row])
        flat_scales = [
            str(scale)
            for scale, value in zip(DFA_ALPHA1_SCALES, log_f[row].tolist(), strict=True)
            if not np.isfinite(value)
        ]
        reasons[index] = (
            "dfa_alpha1: no fluctuation left after detrending in boxes of "
            f"{', '.join(flat_scales)} beats"
        )
    return MarkerBatch(values, tuple(reasons))


def _box_residual_variance(
    boxes: NDArray[np.float64], x_centred: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Variance of each row of ``boxes`` about its least-squares line (rows are overwritten).

    Closed form: the sum of squares of the centred row minus the part the slope explains,
    ``(b · x)² / (x · x)``, with ``x`` the centred positions. Where the line explains nearly all of
    it (a run of equal intervals makes a straight profile) that difference has lost its digits and
    can exceed ``DFA_MIN_BOX_VARIANCE`` although the box is straight: such rows are detrended
    explicitly, so a straight box is dropped as neurokit2 drops it.
    """
    scale = boxes.shape[1]
    boxes -= boxes.mean(axis=1, keepdims=True)
    xx = float(x_centred @ x_centred)
    along = boxes @ x_centred
    squares = np.einsum("ij,ij->i", boxes, boxes)
    var: NDArray[np.float64] = (squares - along * along / xx) / scale
    lost = np.flatnonzero(var <= _DFA_CLOSED_FORM_DIGITS * squares / scale)
    if lost.size:
        residual = boxes[lost] - (along[lost] / xx)[:, None] * x_centred
        var[lost] = np.einsum("ij,ij->i", residual, residual) / scale
    return var


def _too_few(needed: int, usable: int, total: int, n_stretches: int) -> str:
    """Reason text for a window with too few beats (in stretches long enough to use)."""
    if n_stretches <= 1 or usable == total:
        return f"needs >= {needed} beats, got {total}"
    return f"needs >= {needed} beats in gap-free stretches, got {usable} of {total}"


def _std_ddof1(values: NDArray[np.float64]) -> float:
    """``np.std(values, ddof=1)`` with numpy's own arithmetic, without its Python overhead."""
    mean = np.add.reduce(values) / values.size
    dev = values - mean
    return float(np.sqrt(np.add.reduce(dev * dev) / (values.size - 1)))


def _count_template_matches(
    x: NDArray[np.float64],
    template: NDArray[np.int64],
    owner: NDArray[np.int64],
    n_windows: int,
    tolerance: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unordered template pairs matching at length 2 (B) and 3 (A) in each window.

    Template ``k`` starts at ``x[template[k]]`` and belongs to window ``owner[k]`` (non-decreasing);
    ``tolerance`` is per window. The first template values are cut into columns of width r (a hair
    wider, so that rounding never separates a matching pair by more than one column); within a
    column templates are ordered by their second value. The candidates of a template, those whose
    second value lies within r of its own, are one run of later templates in its column and one
    run in the next column; they are compared exactly on all three values. About 1.5 candidates
    are compared per matching pair (2.25 with square cells).
    """
    n_templates = np.bincount(owner, minlength=n_windows)
    first = np.cumsum(n_templates) - n_templates
    v0 = x[template]
    v1 = x[template + 1]
    tol = tolerance[owner]
    low = np.full(n_windows, np.inf)
    # Templates of a window are one run (owner non-decreasing): reduce each run.
    filled = np.flatnonzero(n_templates > 0)
    low[filled] = np.minimum.reduceat(v0, first[filled])
    cell = tolerance * (1 + 1e-9) + 1e-12
    cx = np.floor((v0 - low[owner]) / cell[owner]).astype(np.int64)
    side = int(cx.max()) + 3
    column = owner * side + cx
    # Sort key: column, then second value. The runs searched below are widened by a hair more
    # than the key's rounding, so they hold every partner; the exact test follows.
    stride = 2.0 ** np.ceil(np.log2(float(v1.max()) + 2.0 * float(tolerance.max()) + 2.0))
    key = column * stride + v1
    order = np.argsort(key)
    key = key[order]
    sorted_template = template[order]
    s0, s1, s2 = x[sorted_template], x[sorted_template + 1], x[sorted_template + 2]
    tol_sorted = tol[order]
    slack = tol_sorted + 1e-9 * (1.0 + np.abs(key))
    position = np.arange(key.size)
    # Same column: later templates up to second value + r; next column: second value +- r.
    same_end = np.searchsorted(key, key + slack, side="right")
    next_lo = np.searchsorted(key, key + stride - slack, side="left")
    next_hi = np.searchsorted(key, key + stride + slack, side="right")

    count_b = np.zeros(n_windows)
    count_a = np.zeros(n_windows)
    index_type = np.int32 if key.size < 2**30 else np.int64  # halves memory traffic
    for begin, end in ((position + 1, same_end), (next_lo, next_hi)):
        partners = np.maximum(end - begin, 0)
        # Pair p's candidates get consecutive pair numbers from cum[p]; pairs come in window
        # order, so a window's pairs are the numbers cum[first] .. cum[first + n_templates].
        cum = np.concatenate(([0], np.cumsum(partners)))
        window_bounds = cum[np.append(first, key.size)]
        cuts = np.searchsorted(cum, np.arange(0, int(cum[-1]), _SAMPEN_CHUNK_PAIRS), "right") - 1
        cuts = np.unique(np.append(cuts, key.size))
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            total = int(cum[hi] - cum[lo])
            if total == 0:
                continue
            counts = partners[lo:hi]
            right = np.arange(total, dtype=np.int64) + np.repeat(
                begin[lo:hi] - (cum[lo:hi] - cum[lo]), counts
            )
            # The left template's values repeated per candidate (a copy per run, not a gather).
            tol_pair = np.repeat(tol_sorted[lo:hi], counts)
            diff = np.repeat(s0[lo:hi], counts)
            diff -= s0[right]
            close = np.abs(diff, out=diff) <= tol_pair
            diff = np.repeat(s1[lo:hi], counts)
            diff -= s1[right]
            close &= np.abs(diff, out=diff) <= tol_pair
            match2 = np.flatnonzero(close)
            l2 = np.repeat(position[lo:hi].astype(index_type), counts)[match2]
            match3 = match2[np.abs(s2[l2] - s2[right[match2]]) <= tol_pair[match2]]
            count_b += np.diff(np.searchsorted(match2 + cum[lo], window_bounds))
            count_a += np.diff(np.searchsorted(match3 + cum[lo], window_bounds))
    return count_b, count_a


def _searchsorted_any(
    s: NDArray[np.float64], q: NDArray[np.float64], side: Literal["left", "right"]
) -> NDArray[np.intp]:
    """``searchsorted(s, q)`` for unordered queries: sorted first, which keeps the binary
    searches in cache (several times faster on large arrays)."""
    order = np.argsort(q)
    out = np.empty(q.size, dtype=np.intp)
    out[order] = np.searchsorted(s, q[order], side=side)
    return out


def _match_bounds(
    s: NDArray[np.float64], x: NDArray[np.float64], r: float | NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each ``x[a]``, the range ``[lo, hi)`` of sorted values ``s`` with ``|x[a] - s[p]| <= r``.

    ``r`` is one tolerance or one per ``x[a]``.

    The predicate is evaluated exactly as the kernels and neurokit2 evaluate it (``abs`` of the
    rounded difference); it holds on one contiguous range of ``s`` because rounding is monotonic.
    ``searchsorted`` finds it up to rounding at the ends, which is then fixed run by run of equal
    values.
    """
    n = s.size
    lo = _searchsorted_any(s, x - r, "left")
    hi = _searchsorted_any(s, x + r, "right")
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = s[1:] != s[:-1]
    position = np.arange(n)
    run_lo = np.maximum.accumulate(np.where(new_run, position, 0))
    ends = np.ones(n, dtype=bool)
    ends[:-1] = new_run[1:]
    run_hi = np.minimum.accumulate(np.where(ends, position + 1, n)[::-1])[::-1]

    def match(p: NDArray[np.intp]) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = np.abs(x - s[np.clip(p, 0, n - 1)]) <= r
        return out

    for _ in range(n + 1):
        lo_down = (lo > 0) & match(lo - 1)
        lo_up = (lo < n) & ~match(lo)
        hi_up = (hi < n) & match(hi)
        hi_down = (hi > 0) & ~match(hi - 1)
        if not (lo_down.any() or lo_up.any() or hi_up.any() or hi_down.any()):
            break
        lo = np.where(lo_down, run_lo[np.maximum(lo - 1, 0)], lo)
        lo = np.where(lo_up & ~lo_down, run_hi[np.minimum(lo, n - 1)], lo)
        hi = np.where(hi_up, run_hi[np.minimum(hi, n - 1)], hi)
        hi = np.where(hi_down & ~hi_up, run_lo[np.maximum(hi - 1, 0)], hi)
    return lo.astype(np.intp), hi.astype(np.intp)


def _count_template_matches_bitset(
    x: NDArray[np.float64], valid: NDArray[np.bool_], tolerance: float
) -> tuple[float, float]:
    """B and A of one long window with bit sets over value ranks, exact.

    ``x`` holds the window's beats, ``valid[j]`` whether template j (beats j, j+1, j+2 of one
    stretch) exists. Beats are ranked by value; for each beat a, the beats within r of it are the
    contiguous rank range ``[lo_a, hi_a)`` (:func:`_match_bounds`). Template pair (i, j) matches at
    length 2 when ``rank(j)`` lies in row i's range and ``rank(j+1)`` in row i+1's, at length 3
    when also ``rank(j+2)`` lies in row i+2's. Bits are indexed by ``rank(j)``, so the first
    condition is a run of bits, ``D0[c(hi)] ^ D0[c(lo)]`` with ``D0[k]`` the bit set of the k
    templates of lowest rank and ``c(v)`` the number of them below v; the second is the same with
    ``D1`` built in the order of ``rank(j+1)``, the third with ``D2`` in that of ``rank(j+2)``. Bits are taken 4,096 at a time; a row only visits the
    blocks its range meets, so the work is about ``n · (0.1 n + 4096) / 64`` word operations
    (r = 0.2 SD covers about a tenth of the values).
    """
    n = x.size
    order = np.argsort(x, kind="stable")
    s = x[order]
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    lo, hi = _match_bounds(s, x, tolerance)
    rows = np.flatnonzero(valid)
    templates = rows  # the same set: a row is a template, a bit is a template
    u = rank[templates]
    nu1 = rank[templates + 1]
    nu2 = rank[templates + 2]
    by_u = np.argsort(u, kind="stable")
    u_sorted = u[by_u]
    total2 = 0
    total3 = 0
    block = _BITSET_BLOCK_BEATS
    for c0 in range(0, n, block):
        c1 = min(c0 + block, n)
        words = (c1 - c0 + 63) // 64
        first, last = np.searchsorted(u_sorted, [c0, c1])
        members = by_u[first:last]
        if members.size == 0:
            continue
        bit = (u[members] - c0).astype(np.uint64)
        word = (bit >> np.uint64(6)).astype(np.intp)
        value = np.uint64(1) << (bit & np.uint64(63))
        meets = (lo[rows] < c1) & (hi[rows] > c0)
        r_i = rows[meets]
        if r_i.size == 0:
            continue
        m: NDArray[np.uint64] | None = None
        for step, nu in enumerate((u, nu1, nu2)):
            keys = nu[members]
            ev = np.argsort(keys, kind="stable")
            table = np.zeros((members.size + 1, words), dtype=np.uint64)
            table[np.arange(1, members.size + 1), word[ev]] = value[ev]
            np.bitwise_or.accumulate(table, axis=0, out=table)
            keys = keys[ev]
            c_hi = np.searchsorted(keys, hi[r_i + step], side="left")
            c_lo = np.searchsorted(keys, lo[r_i + step], side="left")
            part = table[c_hi]
            part ^= table[c_lo]
            if m is None:
                m = part
                continue
            m &= part
            count = int(np.bitwise_count(m).sum(dtype=np.int64))
            if step == 1:
                total2 += count
            else:
                total3 += count
    return (total2 - rows.size) / 2.0, (total3 - rows.size) / 2.0


def sampen_batch(nn_ms: Sequence[NDArray[np.float64]]) -> MarkerBatch:
    """Sample entropy (m = 2, r = 0.2 SD) of each window, vectorised over windows.

    Parameters
    ----------
    nn_ms:
        One array of NN intervals (ms) per window.

    Returns
    -------
    MarkerBatch
        SampEn (dimensionless) equal within 1e-9 relative to ``nk.hrv_nonlinear(...)["HRV_SampEn"]``
        wherever neurokit2 returns a finite value. Where SampEn is undefined the value is NaN with
        a reason, never a number: no pair of templates matches at length 2 (neurokit2 returns
        -inf), none matches at length 3 (neurokit2 returns +inf), or fewer than 4 intervals.

    Raises
    ------
    analysis.kernel_input.MarkerInputError
        Non-finite, non-positive or multi-dimensional input.

    Notes
    -----
    See :func:`sampen_stretches`, of which this is the one-stretch-per-window case.

    References
    ----------
    Richman JS, Moorman JR (2000). Physiological time-series analysis using approximate entropy
    and sample entropy. Am J Physiol Heart Circ Physiol 278:H2039-H2049.
    neurokit2 0.2.13 ``entropy_sample`` and ``_phi``.
    """
    x, lengths = _concat(nn_ms)
    starts = np.cumsum(lengths) - lengths
    return sampen_stretches(x, starts, lengths, np.arange(lengths.size), lengths.size)


def sampen_stretches(
    x: NDArray[np.float64],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    owner: NDArray[np.int64],
    n_windows: int,
) -> MarkerBatch:
    """Sample entropy (m = 2, r = 0.2 SD) of windows made of gap-free stretches.

    Parameters
    ----------
    x:
        NN intervals, ms, of all stretches (already validated: finite, positive). The stretches
        of one window must be adjacent in ``x`` (``x[starts[j]:...]`` in order, no holes).
    starts, lengths:
        Each stretch is ``x[starts[j] : starts[j] + lengths[j]]``.
    owner:
        Window (0 .. n_windows-1) of each stretch, non-decreasing.
    n_windows:
        Number of windows.

    Returns
    -------
    MarkerBatch
        SampEn per window; for a window of one stretch equal to neurokit2 within 1e-9 relative.
        NaN with a reason where no template pair matches at length 2 or 3, or the window has
        fewer than 4 intervals in stretches of at least 3.

    Notes
    -----
    As neurokit2: r = 0.2 · SD (ddof = 1) of all intervals of the window; templates
    ``(x[i], x[i+1])`` and ``(x[i], x[i+1], x[i+2])`` with i = 0 .. n-3 of each stretch (none
    spans a gap), compared with the Chebyshev distance, a pair matching when the distance is <= r,
    self-matches excluded; template pairs are formed across the window's stretches.
    SampEn = -ln(A / B) with A and B the numbers of matching pairs at lengths 3 and 2.
    Windows of up to :data:`SAMPEN_BITSET_MIN_TEMPLATES` templates are counted together on a
    grid of r-wide columns over the first template value, ordered by the second within a column
    (a sorted sweep: only the next column and a run of the own column can match, about 1.5
    candidates per matching pair); longer ones with bit sets over value ranks
    (:func:`_count_template_matches_bitset`, O(n² / 64) word operations), where neurokit2
    counts with scikit-learn's k-d tree. Both are exact (ties at distance r included), and faster
    than ``nk.entropy_sample`` at every length ``benchmarks/analysis_kernels.py`` times.

    References
    ----------
    Richman & Moorman (2000) Am J Physiol 278:H2039; neurokit2 0.2.13 ``entropy_sample``.
    """
    values = np.full(n_windows, np.nan)
    reasons: list[str | None] = [None] * n_windows
    per_stretch = np.maximum(lengths - SAMPEN_DIMENSION, 0)
    n_templates = np.bincount(owner, weights=per_stretch, minlength=n_windows).astype(np.int64)
    n_beats = np.bincount(owner, weights=lengths, minlength=n_windows).astype(np.int64)
    min_beats = SAMPEN_DIMENSION + 2
    n_parts = np.bincount(owner, minlength=n_windows)
    usable_beats = np.bincount(
        owner, weights=np.where(per_stretch > 0, lengths, 0), minlength=n_windows
    )
    short = usable_beats < min_beats
    for index in np.flatnonzero(short).tolist():
        reasons[index] = "sampen: " + _too_few(
            min_beats, int(usable_beats[index]), int(n_beats[index]), int(n_parts[index])
        )
    if short.all():
        return MarkerBatch(values, tuple(reasons))
    window_start = np.full(n_windows, -1, dtype=np.int64)
    first_stretch = np.searchsorted(owner, np.arange(n_windows), side="left")
    has = first_stretch < owner.size
    window_start[has] = starts[first_stretch[has]]
    tolerance = np.full(n_windows, np.nan)
    for w in np.flatnonzero(~short).tolist():
        seg = x[window_start[w] : window_start[w] + n_beats[w]]
        tolerance[w] = SAMPEN_TOLERANCE_SD * _std_ddof1(seg)
    template, template_stretch = _ranges(starts, per_stretch)
    template_owner = owner[template_stretch]
    count_b = np.zeros(n_windows)
    count_a = np.zeros(n_windows)
    big = ~short & (n_templates > SAMPEN_BITSET_MIN_TEMPLATES)
    small = ~short & ~big
    in_small = small[template_owner]
    if in_small.any():
        windows_small = np.flatnonzero(small)
        small_template = template[in_small]
        small_owner = template_owner[in_small]
        # Batches of whole windows, ~_SAMPEN_BATCH_TEMPLATES templates each: counts per window
        # do not depend on the batch, and small temporaries are reused by the allocator.
        window_end = np.cumsum(n_templates[windows_small])
        cuts = np.searchsorted(
            window_end,
            np.arange(1, int(window_end[-1]) // _SAMPEN_BATCH_TEMPLATES + 1)
            * _SAMPEN_BATCH_TEMPLATES,
        )
        bounds = [
            0,
            *sorted({int(c) + 1 for c in cuts if c + 1 < windows_small.size}),
            windows_small.size,
        ]
        for lo, hi in itertools.pairwise(bounds):
            these = windows_small[lo:hi]
            t_lo = int(window_end[lo - 1]) if lo else 0
            t_hi = int(window_end[hi - 1])
            row_of = np.full(n_windows, -1, dtype=np.int64)
            row_of[these] = np.arange(these.size)
            b, a = _count_template_matches(
                x,
                small_template[t_lo:t_hi],
                row_of[small_owner[t_lo:t_hi]],
                these.size,
                tolerance[these],
            )
            count_b[these], count_a[these] = b, a
    for w in np.flatnonzero(big).tolist():
        first_beat, n_w = int(window_start[w]), int(n_beats[w])
        valid = np.zeros(n_w, dtype=bool)
        valid[template[template_owner == w] - first_beat] = True
        count_b[w], count_a[w] = _count_template_matches_bitset(
            x[first_beat : first_beat + n_w], valid, float(tolerance[w])
        )

    ok = ~short
    denominator = n_templates * (n_templates - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi_b = 2.0 * count_b / denominator
        phi_a = 2.0 * count_a / denominator
        ratio = phi_a / phi_b
    # neurokit2's _phi_divide: -inf when phi_B ~ 0, +inf when A/B ~ 0 (np.isclose defaults).
    no_b = ok & np.isclose(phi_b, 0)
    no_a = ok & ~no_b & np.isclose(ratio, 0)
    defined = ok & ~no_b & ~no_a
    values[defined] = -np.log(ratio[defined]) + 0.0  # -0.0 -> 0.0 when A == B
    for index in np.flatnonzero(no_b).tolist():
        reasons[index] = "sampen: undefined, no templates match at length 2"
    for index in np.flatnonzero(no_a).tolist():
        reasons[index] = "sampen: undefined, no templates match at length 3"
    return MarkerBatch(values, tuple(reasons))
