"""Validation of the per-window NN arrays handed to the batched marker kernels.

Used by ``analysis.frequency`` and ``analysis.nonlinear``; cleaning and windowing are done before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from analysis.errors import AnalysisError


class MarkerInputError(AnalysisError):
    """A window handed to a marker kernel is malformed (fields: ``window``, ``reason``)."""


def as_nn_window(nn: object, window: int) -> NDArray[np.float64]:
    """Return one window's NN intervals (ms) as a 1-D float64 array, or raise.

    Parameters
    ----------
    nn:
        Array-like of NN intervals, ms.
    window:
        Index of the window, reported in the error.

    Raises
    ------
    MarkerInputError
        Not one-dimensional, non-finite or non-positive values.
    """
    try:
        arr = np.asarray(nn, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MarkerInputError(
            f"window {window}: NN intervals are not numeric", window=window, reason="not numeric"
        ) from exc
    if arr.ndim != 1:
        raise MarkerInputError(
            f"window {window}: NN intervals must be one-dimensional, got shape {arr.shape}",
            window=window,
            reason="shape",
        )
    if not np.all(np.isfinite(arr)):
        raise MarkerInputError(
            f"window {window}: NN intervals contain NaN or infinity",
            window=window,
            reason="non-finite",
        )
    if np.any(arr <= 0):
        raise MarkerInputError(
            f"window {window}: NN intervals must be positive (ms)",
            window=window,
            reason="non-positive",
        )
    return arr


def check_windows(
    nn_ms: Sequence[NDArray[np.float64]], t_s: Sequence[NDArray[np.float64]]
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Validate per-window NN intervals (ms) and beat times (s) and return them as float arrays.

    Parameters
    ----------
    nn_ms:
        One array of NN intervals per window, ms.
    t_s:
        One array of beat end times per window, s, strictly increasing, same length as ``nn_ms``.

    Returns
    -------
    list of (nn, t) tuples
        1-D float64 arrays.

    Raises
    ------
    MarkerInputError
        Different numbers of windows, different lengths within a window, bad intervals, or
        times that are not finite and strictly increasing.
    """
    if len(nn_ms) != len(t_s):
        raise MarkerInputError(
            f"got {len(nn_ms)} NN windows but {len(t_s)} time windows",
            window=None,
            reason="window count",
        )
    out: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    for index, (nn, t) in enumerate(zip(nn_ms, t_s, strict=True)):
        nn_arr = as_nn_window(nn, index)
        t_arr = np.asarray(t, dtype=np.float64)
        if t_arr.shape != nn_arr.shape:
            raise MarkerInputError(
                f"window {index}: {nn_arr.size} NN intervals but time array of shape {t_arr.shape}",
                window=index,
                reason="length",
            )
        if not np.all(np.isfinite(t_arr)) or np.any(np.diff(t_arr) <= 0):
            raise MarkerInputError(
                f"window {index}: beat times must be finite and strictly increasing",
                window=index,
                reason="times",
            )
        out.append((nn_arr, t_arr))
    return out
