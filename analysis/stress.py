"""Baevsky stress index of many windows at once (50 ms histogram of NN intervals).

No neurokit2 equivalent; the definition follows Baevsky & Chernikova (2017). Windowing is left to
``analysis.windows``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from analysis.bounds import STRESS_BIN_MS
from analysis.time_domain import check_groups


def stress_index(
    nn_ms: NDArray[np.float64],
    window: NDArray[np.intp],
    n_windows: int,
    bin_ms: float = STRESS_BIN_MS,
) -> NDArray[np.float64]:
    """Baevsky's stress index ``SI = AMo / (2 · Mo · MxDMn)`` of every window.

    Parameters
    ----------
    nn_ms:
        NN intervals of the whole recording, ms.
    window:
        Window index (0 .. n_windows-1) of each interval.
    n_windows:
        Number of windows.
    bin_ms:
        Histogram bin width, ms (default 50). Bins are ``[k·bin_ms, (k+1)·bin_ms)``.

    Returns
    -------
    ndarray of float
        SI per window (dimensionless; AMo in %, Mo and MxDMn in s). AMo is the share of
        intervals in the modal bin (the lowest such bin on ties), Mo that bin's centre, MxDMn
        ``max - min``. NaN for empty windows and when MxDMn is 0 (no variability to scale).

    Raises
    ------
    analysis.time_domain.WindowIndexError
        ``window`` does not match ``nn_ms``.

    References
    ----------
    Baevsky, R. M., & Chernikova, A. G. (2017). Heart rate variability analysis: physiological
    foundations and main methods. Cardiometry 10:66-76.
    """
    check_groups(nn_ms, window, n_windows)
    out = np.full(n_windows, np.nan)
    if nn_ms.size == 0:
        return out
    bins = np.floor(nn_ms / bin_ms).astype(np.intp)
    lo = int(bins.min())
    n_bins = int(bins.max()) - lo + 1
    hist = np.bincount(window * n_bins + (bins - lo), minlength=n_windows * n_bins)
    hist = hist.reshape(n_windows, n_bins)
    count = hist.sum(axis=1)
    modal = np.argmax(hist, axis=1)
    amo_pct = hist[np.arange(n_windows), modal] / np.maximum(count, 1) * 100.0
    mo_s = ((modal + lo) * bin_ms + bin_ms / 2.0) / 1000.0
    wmax = np.full(n_windows, -np.inf)
    wmin = np.full(n_windows, np.inf)
    np.maximum.at(wmax, window, nn_ms)
    np.minimum.at(wmin, window, nn_ms)
    mxdmn_s = (wmax - wmin) / 1000.0
    ok = (count > 0) & (mxdmn_s > 0)
    out[ok] = amo_pct[ok] / (2.0 * mo_s[ok] * mxdmn_s[ok])
    return out
