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


def _as_1d(values: object, window: int, what: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MarkerInputError(
            f"window {window}: {what} are not numeric", window=window, reason="not numeric"
        ) from exc
    if arr.ndim != 1:
        raise MarkerInputError(
            f"window {window}: {what} must be one-dimensional, got shape {arr.shape}",
            window=window,
            reason="shape",
        )
    return arr


def _first_bad_window(bad: NDArray[np.bool_], sizes: NDArray[np.int64]) -> int:
    """Window holding the first True of ``bad`` (the concatenation of windows of ``sizes``)."""
    return int(np.searchsorted(np.cumsum(sizes), int(np.argmax(bad)), side="right"))


def as_nn_windows(nn_ms: Sequence[object]) -> list[NDArray[np.float64]]:
    """Return each window's NN intervals (ms) as a 1-D float64 array, or raise.

    Parameters
    ----------
    nn_ms:
        One array-like of NN intervals per window, ms.

    Raises
    ------
    MarkerInputError
        A window that is not one-dimensional or holds non-finite or non-positive values
        (fields ``window`` and ``reason``).
    """
    arrays = [_as_1d(nn, index, "NN intervals") for index, nn in enumerate(nn_ms)]
    if not arrays:
        return arrays
    sizes = np.array([a.size for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays)
    finite = np.isfinite(flat)
    if not finite.all():
        window = _first_bad_window(~finite, sizes)
        raise MarkerInputError(
            f"window {window}: NN intervals contain NaN or infinity",
            window=window,
            reason="non-finite",
        )
    if np.any(flat <= 0):
        window = _first_bad_window(flat <= 0, sizes)
        raise MarkerInputError(
            f"window {window}: NN intervals must be positive (ms)",
            window=window,
            reason="non-positive",
        )
    return arrays


def check_windows(
    nn_ms: Sequence[object], t_s: Sequence[object]
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
    nn_arrays = as_nn_windows(nn_ms)
    t_arrays = [_as_1d(t, index, "beat times") for index, t in enumerate(t_s)]
    for index, (nn, t) in enumerate(zip(nn_arrays, t_arrays, strict=True)):
        if t.shape != nn.shape:
            raise MarkerInputError(
                f"window {index}: {nn.size} NN intervals but time array of shape {t.shape}",
                window=index,
                reason="length",
            )
    if t_arrays:
        sizes = np.array([t.size for t in t_arrays], dtype=np.int64)
        flat = np.concatenate(t_arrays)
        bad = ~np.isfinite(flat)
        # A time not after its predecessor within the same window.
        step_bad = np.diff(flat) <= 0
        joins = np.cumsum(sizes)[:-1] - 1
        step_bad[joins[(joins >= 0) & (joins < step_bad.size)]] = False
        bad[1:] |= step_bad
        if bad.any():
            window = _first_bad_window(bad, sizes)
            raise MarkerInputError(
                f"window {window}: beat times must be finite and strictly increasing",
                window=window,
                reason="times",
            )
    return list(zip(nn_arrays, t_arrays, strict=True))
