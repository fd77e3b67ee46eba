"""DFA α1 and sample entropy of many NN windows at once, equal to neurokit2's ``hrv_nonlinear``.

All windows are concatenated and processed with whole-array NumPy operations (no per-window
neurokit2 calls); minimum-length policies are left to ``analysis.windows``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

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
#: Sample entropy embedding dimension m (Richman & Moorman 2000; neurokit2 ``hrv_nonlinear``).
SAMPEN_DIMENSION: int = 2
#: Sample entropy tolerance as a fraction of the window's SD (ddof = 1).
SAMPEN_TOLERANCE_SD: float = 0.2
#: Candidate template pairs compared per chunk in the sample-entropy kernel (bounds memory).
_SAMPEN_CHUNK_PAIRS: int = 2_000_000


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
) -> tuple[list[NDArray[np.float64]], NDArray[np.int64]]:
    windows = as_nn_windows(nn_ms)
    lengths = np.array([w.size for w in windows], dtype=np.int64)
    return windows, lengths


def _segment_starts(
    offsets: NDArray[np.int64], counts: NDArray[np.int64], step: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start index (into the concatenation) and window number of every box, in order."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    rank = np.arange(total, dtype=np.int64) - first[owner]
    return offsets[owner] + rank * step, owner


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
    The mean-removed series is integrated; for each box size ``s`` in 4..11 the boxes start every
    ``s // 2`` beats (``range(0, n - s, s // 2)``), a least-squares line is removed from each box,
    and ``F(s)`` is the root of the mean box variance (variances <= 1e-8 dropped). α1 is the
    least-squares slope of ``log2 F(s)`` on ``log2 s``. Boxes of all windows are stacked and fitted
    in closed form.

    References
    ----------
    Peng C-K, Havlin S, Stanley HE, Goldberger AL (1995). Quantification of scaling exponents and
    crossover phenomena in nonstationary heartbeat time series. Chaos 5:82-87.
    neurokit2 0.2.13 ``fractal_dfa`` and ``_hrv_dfa``.
    """
    windows, lengths = _concat(nn_ms)
    n_windows = len(windows)
    values = np.full(n_windows, np.nan)
    reasons: list[str | None] = [None] * n_windows
    usable = np.flatnonzero(lengths >= DFA_MIN_BEATS)
    for index in np.flatnonzero(lengths < DFA_MIN_BEATS).tolist():
        reasons[index] = f"dfa_alpha1: needs >= {DFA_MIN_BEATS} beats, got {int(lengths[index])}"
    if usable.size == 0:
        return MarkerBatch(values, tuple(reasons))

    used_lengths = lengths[usable]
    offsets = np.cumsum(used_lengths) - used_lengths
    owner_of_beat = np.repeat(np.arange(usable.size), used_lengths)
    x = np.concatenate([windows[i] for i in usable.tolist()])
    means = np.add.reduceat(x, offsets) / used_lengths
    profile = np.cumsum(x - means[owner_of_beat])
    before = np.concatenate(([0.0], profile))[offsets]
    profile = profile - before[owner_of_beat]

    n_scales = len(DFA_ALPHA1_SCALES)
    log_f = np.empty((usable.size, n_scales))
    for k, scale in enumerate(DFA_ALPHA1_SCALES):
        step = scale // 2
        counts = (used_lengths - scale + step - 1) // step
        starts, owner = _segment_starts(offsets, counts, step)
        boxes = sliding_window_view(profile, scale)[starts]
        x_centred = np.arange(scale) - (scale - 1) / 2
        boxes -= boxes.mean(axis=1, keepdims=True)
        slope = boxes @ x_centred / float(x_centred @ x_centred)
        boxes -= slope[:, None] * x_centred
        var = np.einsum("ij,ij->i", boxes, boxes) / scale
        kept = var > DFA_MIN_BOX_VARIANCE
        total = np.bincount(owner[kept], weights=var[kept], minlength=usable.size)
        n_kept = np.bincount(owner[kept], minlength=usable.size)
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
    values[usable[finite]] = alpha[finite]
    for row in np.flatnonzero(~finite).tolist():
        index = int(usable[row])
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


def _std_ddof1(values: NDArray[np.float64]) -> float:
    """``np.std(values, ddof=1)`` with numpy's own arithmetic, without its Python overhead."""
    mean = np.add.reduce(values) / values.size
    dev = values - mean
    return float(np.sqrt(np.add.reduce(dev * dev) / (values.size - 1)))


def _count_template_matches(
    x: NDArray[np.float64],
    offsets: NDArray[np.int64],
    n_templates: NDArray[np.int64],
    tolerance: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unordered template pairs matching at length 2 (B) and 3 (A) in each window.

    Templates ``i = 0 .. N-3`` of a window start at ``x[offset + i]``. The plane of the first two
    template values is cut into square cells of side r (a hair wider, so that rounding never
    separates a matching pair by more than one cell); only templates in the same or a
    neighbouring cell are compared, exactly, on all coordinates.
    """
    n_windows = n_templates.size
    owner = np.repeat(np.arange(n_windows), n_templates)
    first = np.cumsum(n_templates) - n_templates
    template = offsets[owner] + np.arange(int(n_templates.sum())) - first[owner]
    v0 = x[template]
    v1 = x[template + 1]
    low = np.minimum.reduceat(x, offsets)
    cell = tolerance * (1 + 1e-9) + 1e-12
    cx = np.floor((v0 - low[owner]) / cell[owner]).astype(np.int64)
    cy = np.floor((v1 - low[owner]) / cell[owner]).astype(np.int64)
    side = int(max(cx.max(), cy.max())) + 3
    key = (owner * side + cx) * side + cy + 1
    order = np.argsort(key, kind="stable")
    key = key[order]
    sorted_template = template[order]
    s0, s1, s2 = x[sorted_template], x[sorted_template + 1], x[sorted_template + 2]
    tol = tolerance[owner]  # owner is unchanged by the sort: windows stay in blocks
    position = np.arange(key.size)
    # Same column (cx), rows cy-1..cy+1, later in sorted order; next column, rows cy-1..cy+1.
    same_end = np.searchsorted(key, key + 1, side="right")
    next_lo = np.searchsorted(key, key + side - 1, side="left")
    next_hi = np.searchsorted(key, key + side + 1, side="right")

    count_b = np.zeros(n_windows)
    count_a = np.zeros(n_windows)
    index_type = np.int32 if key.size < 2**30 else np.int64  # halves memory traffic
    for begin, end in ((position + 1, same_end), (next_lo, next_hi)):
        partners = end - begin
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
            left = np.repeat(position[lo:hi].astype(index_type), counts)
            right = np.arange(total, dtype=np.int64) + np.repeat(
                begin[lo:hi] - (cum[lo:hi] - cum[lo]), counts
            )
            tol_pair = tol[left]
            diff = s0[left] - s0[right]
            close = np.abs(diff, out=diff) <= tol_pair
            diff = s1[left] - s1[right]
            close &= np.abs(diff, out=diff) <= tol_pair
            match2 = np.flatnonzero(close)
            l2 = left[match2]
            match3 = match2[np.abs(s2[l2] - s2[right[match2]]) <= tol_pair[match2]]
            count_b += np.diff(np.searchsorted(match2 + cum[lo], window_bounds))
            count_a += np.diff(np.searchsorted(match3 + cum[lo], window_bounds))
    return count_b, count_a


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
    As neurokit2: r = 0.2 * SD (ddof = 1) of the window; the N - 2 templates
    ``(x[i], x[i+1])`` and ``(x[i], x[i+1], x[i+2])``, i = 0..N-3, are compared with the Chebyshev
    distance, a pair matching when the distance is <= r, self-matches excluded;
    SampEn = -ln(A / B) with A and B the numbers of matching pairs at lengths 3 and 2.
    Candidate pairs come from a grid of r-wide cells over the first two template values (only
    neighbouring cells can match); all windows are handled in one pass of array operations.

    References
    ----------
    Richman JS, Moorman JR (2000). Physiological time-series analysis using approximate entropy
    and sample entropy. Am J Physiol Heart Circ Physiol 278:H2039-H2049.
    neurokit2 0.2.13 ``entropy_sample`` and ``_phi``.
    """
    windows, lengths = _concat(nn_ms)
    n_windows = len(windows)
    values = np.full(n_windows, np.nan)
    reasons: list[str | None] = [None] * n_windows
    min_beats = SAMPEN_DIMENSION + 2
    for index in np.flatnonzero(lengths < min_beats).tolist():
        reasons[index] = f"sampen: needs >= {min_beats} beats, got {int(lengths[index])}"
    usable = np.flatnonzero(lengths >= min_beats)
    if usable.size == 0:
        return MarkerBatch(values, tuple(reasons))

    used_lengths = lengths[usable]
    offsets = np.cumsum(used_lengths) - used_lengths
    x = np.concatenate([windows[i] for i in usable.tolist()])
    tolerance = np.array([SAMPEN_TOLERANCE_SD * _std_ddof1(windows[i]) for i in usable.tolist()])
    n_templates = used_lengths - SAMPEN_DIMENSION
    count_b, count_a = _count_template_matches(x, offsets, n_templates, tolerance)

    denominator = n_templates * (n_templates - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi_b = 2.0 * count_b / denominator
        phi_a = 2.0 * count_a / denominator
        ratio = phi_a / phi_b
    # neurokit2's _phi_divide: -inf when phi_B ~ 0, +inf when A/B ~ 0 (np.isclose defaults).
    no_b = np.isclose(phi_b, 0)
    no_a = ~no_b & np.isclose(ratio, 0)
    defined = ~no_b & ~no_a
    values[usable[defined]] = -np.log(ratio[defined]) + 0.0  # -0.0 -> 0.0 when A == B
    for index in usable[no_b].tolist():
        reasons[index] = "sampen: undefined, no templates match at length 2"
    for index in usable[no_a].tolist():
        reasons[index] = "sampen: undefined, no templates match at length 3"
    return MarkerBatch(values, tuple(reasons))
