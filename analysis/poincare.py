"""Poincaré plot descriptors SD1, SD2 and SD1/SD2 of many windows at once.

Values equal neurokit2's ``hrv_nonlinear`` Poincaré section; windowing is left to
``analysis.windows``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis.time_domain import WindowIndexError, check_groups, group_std, successive_pairs


@dataclass(frozen=True)
class PoincareMarkers:
    """SD1, SD2 (ms) and SD1/SD2 of ``n`` windows; NaN with fewer than two successive pairs."""

    sd1_ms: NDArray[np.float64]
    sd2_ms: NDArray[np.float64]
    sd1_sd2: NDArray[np.float64]


def poincare_markers(
    nn_ms: NDArray[np.float64],
    window: NDArray[np.intp],
    n_windows: int,
    successive: NDArray[np.bool_] | None = None,
) -> PoincareMarkers:
    """SD1, SD2 and SD1/SD2 of every window.

    Parameters
    ----------
    nn_ms:
        NN intervals of the whole recording, ms, in time order.
    window:
        Window index (0 .. n_windows-1) of each interval, non-decreasing.
    n_windows:
        Number of windows.
    successive:
        Per interval, True when it directly follows the previous one; default all True.

    Returns
    -------
    PoincareMarkers
        ``SD1 = std((NN_n - NN_n+1) / sqrt 2)``, ``SD2 = std((NN_n + NN_n+1) / sqrt 2)`` (ddof = 1)
        over the window's successive pairs, as ``nk.hrv_nonlinear`` (HRV_SD1, HRV_SD2, HRV_SD1SD2).

    Raises
    ------
    WindowIndexError
        ``window`` or ``successive`` do not match ``nn_ms``.

    References
    ----------
    Brennan, M., Palaniswami, M., & Kamen, P. (2001). Do existing measures of Poincaré plot
    geometry reflect nonlinear features of heart rate variability? IEEE Trans Biomed Eng 48(11).
    """
    check_groups(nn_ms, window, n_windows)
    succ = np.ones(nn_ms.size, dtype=bool) if successive is None else successive
    if succ.shape != nn_ms.shape:
        raise WindowIndexError("successive flags do not match nn_ms", n_values=nn_ms.size)
    valid = successive_pairs(window, succ)
    rr_n = nn_ms[:-1][valid]
    rr_plus = nn_ms[1:][valid]
    pair_window = window[1:][valid]
    x1 = (rr_n - rr_plus) / np.sqrt(2)
    x2 = (rr_n + rr_plus) / np.sqrt(2)
    sd1 = group_std(x1, pair_window, n_windows)
    sd2 = group_std(x2, pair_window, n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = sd1 / sd2
    return PoincareMarkers(sd1, sd2, ratio)
