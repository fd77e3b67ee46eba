"""Baevsky's stress index and Kubios' stress index (its square root) of many windows at once.

No neurokit2 equivalent; definitions after Baevsky & Chernikova (2017) and the Kubios HRV User's
Guide, with a range that one outlying beat cannot move. Windowing is left to ``analysis.windows``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from analysis.bounds import STRESS_BIN_MS
from analysis.time_domain import WindowIndexError, check_groups

#: Share of intervals trimmed from each end of a window before its range MxDMn is taken
#: (at least one interval each end).
RANGE_TRIM_SHARE: Final[float] = 0.01


@dataclass(frozen=True)
class StressIndices:
    """Stress indices of ``n`` windows (NaN for empty windows and constant NN).

    Attributes
    ----------
    baevsky_si:
        Baevsky's stress index ``AMo / (2 · Mo · MxDMn)`` (AMo in %, Mo and MxDMn in s).
    stress_index:
        Kubios' stress index, ``sqrt(baevsky_si)``.
    """

    baevsky_si: NDArray[np.float64]
    stress_index: NDArray[np.float64]


def stress_indices(
    nn_ms: NDArray[np.float64],
    window: NDArray[np.intp],
    n_windows: int,
    bin_ms: float = STRESS_BIN_MS,
) -> StressIndices:
    """Baevsky's stress index and its square root (Kubios' stress index) of every window.

    Parameters
    ----------
    nn_ms:
        NN intervals of the whole recording, ms, in time order.
    window:
        Window index (0 .. n_windows-1) of each interval, non-decreasing.
    n_windows:
        Number of windows.
    bin_ms:
        Histogram bin width, ms (default 50). Bins are ``[k·bin_ms, (k+1)·bin_ms)``.

    Returns
    -------
    StressIndices
        ``baevsky_si = AMo / (2 · Mo · MxDMn)``: AMo is the share (%) of intervals in the modal
        bin (the lowest such bin on ties), Mo that bin's centre (s), MxDMn the variation range
        (s); ``stress_index = sqrt(baevsky_si)``. Both NaN for empty windows and when every
        interval is the same (no variability to scale).

    Raises
    ------
    analysis.time_domain.WindowIndexError
        ``window`` does not match ``nn_ms`` or decreases.

    Notes
    -----
    **Range.** Baevsky's MxDMn is ``max - min``, which one outlying beat sets on its own (one 8 ms
    deviation in an otherwise constant series gives an index above 6,000). Here MxDMn is the
    trimmed range ``x(n-k) - x(k+1)`` of the sorted intervals with ``k = max(1, floor(0.01 n))``
    (1 % from each end, at least one interval), and never less than one histogram bin: a spread
    narrower than the 50 ms bin that defines AMo and Mo cannot be resolved by the method. So
    ``baevsky_si <= 100 / (2 · Mo · 0.05) = 1000 / Mo`` (at most 3,636 for Mo >= 0.275 s) and
    ``stress_index`` at most 60. On artifact-free 5-minute windows the trimmed range is about
    10-20 % narrower than max - min, so both indices read slightly higher than the untrimmed
    definition.

    **Scale.** Kubios reports the square root of Baevsky's index "to make it normally
    distributed" (typical resting values 7-12); ``baevsky_si`` is the raw value as in Baevsky's
    own papers (typical resting values 50-150).

    References
    ----------
    Baevsky, R. M., & Chernikova, A. G. (2017). Heart rate variability analysis: physiological
    foundations and main methods. Cardiometry 10:66-76.
    Tarvainen, M. P., Lipponen, J., Niskanen, J.-P., & Ranta-aho, P. O. (2021). Kubios HRV
    Software User's Guide, version 3.5 (stress index = square root of Baevsky's index).
    Wilcox, R. R. (2012). Introduction to Robust Estimation and Hypothesis Testing, 3rd ed.
    Academic Press (trimmed statistics).
    """
    check_groups(nn_ms, window, n_windows)
    if window.size > 1 and bool(np.any(window[1:] < window[:-1])):
        raise WindowIndexError("window indices must be non-decreasing", n_values=nn_ms.size)
    raw = np.full(n_windows, np.nan)
    if nn_ms.size == 0:
        return StressIndices(raw, raw.copy())
    bins = np.floor(nn_ms / bin_ms).astype(np.intp)
    lo = int(bins.min())
    n_bins = int(bins.max()) - lo + 1
    hist = np.bincount(window * n_bins + (bins - lo), minlength=n_windows * n_bins)
    hist = hist.reshape(n_windows, n_bins)
    count = hist.sum(axis=1)
    modal = np.argmax(hist, axis=1)
    amo_pct = hist[np.arange(n_windows), modal] / np.maximum(count, 1) * 100.0
    mo_s = ((modal + lo) * bin_ms + bin_ms / 2.0) / 1000.0
    low, high = _trimmed_extremes(nn_ms, count)
    mxdmn_s = np.maximum(high - low, bin_ms) / 1000.0
    wmax = np.full(n_windows, -np.inf)
    wmin = np.full(n_windows, np.inf)
    # Windows are contiguous runs (indices non-decreasing): reduce each run, not each value.
    filled = np.flatnonzero(count > 0)
    run_start = (np.cumsum(count) - count)[filled]
    wmax[filled] = np.maximum.reduceat(nn_ms, run_start)
    wmin[filled] = np.minimum.reduceat(nn_ms, run_start)
    varies = (count > 0) & (wmax > wmin)
    raw[varies] = amo_pct[varies] / (2.0 * mo_s[varies] * mxdmn_s[varies])
    return StressIndices(raw, np.sqrt(raw))


def _trimmed_extremes(
    nn_ms: NDArray[np.float64], count: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``x(k+1)`` and ``x(n-k)`` of each window's sorted intervals, ``k = max(1, floor(0.01 n))``.

    The beats of a window are contiguous (window indices non-decreasing), ``count`` per window.

    In a window of fewer than ``2k + 2`` intervals both positions meet at its middle.
    """
    n_windows = count.size
    low = np.full(n_windows, np.nan)
    high = np.full(n_windows, np.nan)
    first = np.cumsum(count) - count
    k = np.maximum(1, np.floor(RANGE_TRIM_SHARE * count).astype(np.intp))
    lo_pos = np.minimum(k, (count - 1) // 2)
    hi_pos = np.maximum(count - 1 - k, count // 2)
    # Beats are in window order: each window is one slice; two order statistics per window.
    for w in np.flatnonzero(count > 0).tolist():
        a, n = int(first[w]), int(count[w])
        kth = (int(lo_pos[w]), int(hi_pos[w]))
        part = np.partition(nn_ms[a : a + n], kth)
        low[w], high[w] = part[kth[0]], part[kth[1]]
    return low, high
