"""Time-domain HRV markers (mean NN, SDNN, RMSSD, pNN50) of many windows at once.

Values equal ``nk.hrv_time`` per window; windowing and minimum lengths are left to
``analysis.windows``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis.errors import AnalysisError


class WindowIndexError(AnalysisError):
    """Per-beat window indices are inconsistent with the values they label."""


@dataclass(frozen=True)
class TimeDomainMarkers:
    """Time-domain markers of ``n`` windows (NaN where undefined).

    Attributes
    ----------
    mean_nn_ms, sdnn_ms, rmssd_ms, pnn50_pct:
        Float arrays of length ``n``.
    n_beats:
        NN intervals per window.
    n_pairs:
        Successive NN pairs per window (the differences RMSSD and pNN50 use).
    """

    mean_nn_ms: NDArray[np.float64]
    sdnn_ms: NDArray[np.float64]
    rmssd_ms: NDArray[np.float64]
    pnn50_pct: NDArray[np.float64]
    n_beats: NDArray[np.intp]
    n_pairs: NDArray[np.intp]


def check_groups(values: NDArray[np.float64], group: NDArray[np.intp], n_groups: int) -> None:
    """Raise :class:`WindowIndexError` unless ``group`` labels ``values`` with ids < n_groups."""
    if group.shape != values.shape:
        raise WindowIndexError(
            f"{values.size} values but {group.size} window indices", n_values=values.size
        )
    if group.size and (int(group.min()) < 0 or int(group.max()) >= n_groups):
        raise WindowIndexError(f"window indices must lie in [0, {n_groups})", n_groups=n_groups)


def group_mean(
    values: NDArray[np.float64], group: NDArray[np.intp], n_groups: int
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Mean of ``values`` per group id and the group sizes (NaN mean for empty groups)."""
    count = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return mean, count


def group_std(
    values: NDArray[np.float64], group: NDArray[np.intp], n_groups: int
) -> NDArray[np.float64]:
    """Sample standard deviation (ddof = 1, two-pass) of ``values`` per group id; NaN below 2."""
    mean, count = group_mean(values, group, n_groups)
    dev = values - mean[group]
    ss = np.bincount(group, weights=dev * dev, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = ss / (count - 1)
    var[count < 2] = np.nan
    out: NDArray[np.float64] = np.sqrt(var)
    return out


def successive_pairs(window: NDArray[np.intp], successive: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Mask over ``diff(nn)``: pair (k-1, k) is used when both beats share a window and beat k
    directly follows beat k-1 (neurokit2 ``intervals_successive``)."""
    valid: NDArray[np.bool_] = (window[1:] == window[:-1]) & successive[1:]
    return valid


def time_domain_markers(
    nn_ms: NDArray[np.float64],
    window: NDArray[np.intp],
    n_windows: int,
    successive: NDArray[np.bool_] | None = None,
) -> TimeDomainMarkers:
    """Mean NN, SDNN, RMSSD and pNN50 of every window in one pass.

    Parameters
    ----------
    nn_ms:
        NN intervals of the whole recording, ms, in time order.
    window:
        Window index (0 .. n_windows-1) of each interval, non-decreasing.
    n_windows:
        Number of windows.
    successive:
        Per interval, True when it directly follows the previous one (no gap); default all True.

    Returns
    -------
    TimeDomainMarkers
        Equal to ``nk.hrv_time({"RRI": nn, "RRI_Time": t})`` per window: ``MeanNN``, ``SDNN``
        (ddof = 1), ``RMSSD`` (root mean square of successive differences) and ``pNN50``
        (``count(|diff| > 50 ms) / (n_pairs + 1) * 100``, neurokit2's denominator).

    Raises
    ------
    WindowIndexError
        ``window`` or ``successive`` do not match ``nn_ms``.

    References
    ----------
    Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement,
    physiological interpretation and clinical use. Circulation 93:1043-1065.
    """
    check_groups(nn_ms, window, n_windows)
    succ = np.ones(nn_ms.size, dtype=bool) if successive is None else successive
    if succ.shape != nn_ms.shape:
        raise WindowIndexError("successive flags do not match nn_ms", n_values=nn_ms.size)
    mean, count = group_mean(nn_ms, window, n_windows)
    sdnn = group_std(nn_ms, window, n_windows)
    valid = successive_pairs(window, succ)
    diff = np.diff(nn_ms)[valid]
    pair_window = window[1:][valid]
    n_pairs = np.bincount(pair_window, minlength=n_windows)
    ss = np.bincount(pair_window, weights=diff * diff, minlength=n_windows)
    nn50 = np.bincount(pair_window, weights=(np.abs(diff) > 50.0), minlength=n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmssd = np.sqrt(ss / n_pairs)
        pnn50 = nn50 / (n_pairs + 1) * 100.0
    rmssd[n_pairs < 1] = np.nan
    pnn50[n_pairs < 1] = np.nan
    return TimeDomainMarkers(mean, sdnn, rmssd, pnn50, count, n_pairs)
