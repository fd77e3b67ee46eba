"""Centred rolling order statistics (quantiles, median) of independent pieces, equal to pandas bit for bit.

``pandas.Series.rolling(w, center=True, min_periods=1).quantile(q)`` and ``.median()``, as neurokit2's
artifact detector calls them, for several series at once; what they are used for is left to
``analysis.clean``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import ndimage

Array = NDArray[np.float64]
Index = NDArray[np.intp]


def _pick(sorted_rows: Array, m: Index, q: float, median: bool) -> Array:
    """Quantile ``q`` of each row's first ``m`` sorted values, as pandas computes it.

    ``quantile``: ``pos = q·(m-1)``; the value at ``pos`` when it is whole, else
    ``v_low + (v_high - v_low)·(pos - floor(pos))``. ``median``: the middle value, or the mean of the
    two middle values (``(v_low + v_high) / 2``, pandas' ``roll_median_c``) for even ``m``.
    """
    rows = np.arange(sorted_rows.shape[0])
    if median:
        hi = m // 2
        lo = (m - 1) // 2
        v_lo = sorted_rows[rows, lo]
        v_hi = sorted_rows[rows, hi]
        out: Array = np.where(lo == hi, v_lo, (v_lo + v_hi) / 2)
        return out
    pos = q * (m - 1).astype(np.float64)
    low = pos.astype(np.intp)
    frac = pos - low
    v_low = sorted_rows[rows, low]
    v_high = sorted_rows[rows, np.minimum(low + 1, m - 1)]
    with np.errstate(invalid="ignore"):
        out = np.where(frac == 0, v_low, v_low + (v_high - v_low) * frac)
    return out


def window_quantiles_at(
    x: Array,
    lo: Index,
    hi: Index,
    qs: Sequence[float],
    *,
    median: bool = False,
) -> list[Array]:
    """Exact quantiles of the windows ``x[lo[k]:hi[k]]`` (each at most a few hundred values long).

    Parameters
    ----------
    x:
        Values.
    lo, hi:
        Window bounds, ``0 <= lo < hi <= x.size``.
    qs:
        Quantiles in [0, 1] (ignored with ``median``: one median is returned).
    median:
        Return pandas' rolling median instead of quantiles.

    Returns
    -------
    list of numpy.ndarray
        One array per quantile, one value per window.
    """
    quantiles = (0.5,) if median else tuple(float(q) for q in qs)
    outs = [np.empty(lo.size, dtype=np.float64) for _ in quantiles]
    if lo.size == 0:
        return outs
    m = hi - lo
    width = int(m.max())
    # Rows copied from a sliding view (contiguous copies, no per-value gather); windows cut short
    # hold the missing values as +inf, sorted last. Rows of a few hundred values are sorted
    # whole: NumPy's vectorised sort is several times faster than np.partition picking two to
    # four order statistics.
    padded = np.concatenate((x, np.full(width, np.inf)))
    rows = sliding_window_view(padded, width)[lo]
    if bool(np.any(m < width)):
        rows[np.arange(width)[None, :] >= m[:, None]] = np.inf
    rows.sort(axis=1)
    for out, q in zip(outs, quantiles, strict=True):
        out[:] = _pick(rows, m, q, median)
    return outs


def rolling_quantiles(
    x: Array,
    window: int,
    qs: Sequence[float],
    *,
    starts: Index | None = None,
    stops: Index | None = None,
    closed_start: NDArray[np.bool_] | None = None,
    closed_stop: NDArray[np.bool_] | None = None,
    median: bool = False,
) -> list[Array]:
    """Centred rolling quantiles (``min_periods=1``) of the pieces ``x[starts[k]:stops[k]]``.

    Equal bit for bit to ``pandas.Series(piece).rolling(window, center=True, min_periods=1)``
    ``.quantile(q)`` (or ``.median()``) of every piece. Full windows come from SciPy's C rank filter
    over the whole array; windows that a piece's end cuts short are sorted together.

    Parameters
    ----------
    x:
        The pieces, concatenated.
    window:
        Odd window length (values).
    qs:
        Quantiles in [0, 1] (one median with ``median``).
    starts, stops:
        Piece bounds (default: one piece, the whole array).
    closed_start, closed_stop:
        Per piece, whether its start (stop) is a real end of the series. Near an open end (a piece cut
        out of a longer series for a local update) the values are unspecified: the caller does not
        read them. Default: all closed.
    median:
        Return pandas' rolling median (the mean of the two middle values of an even window).

    Returns
    -------
    list of numpy.ndarray
        One array per quantile, same length as ``x``.
    """
    n = x.size
    half = window // 2
    if starts is None or stops is None:
        starts = np.array([0], dtype=np.intp)
        stops = np.array([n], dtype=np.intp)
    if closed_start is None:
        closed_start = np.ones(starts.size, dtype=bool)
    if closed_stop is None:
        closed_stop = np.ones(starts.size, dtype=bool)
    quantiles = (0.5,) if median else tuple(float(q) for q in qs)
    outs = [np.empty(n, dtype=np.float64) for _ in quantiles]
    if n == 0:
        return outs
    if n >= window:
        ranks: dict[int, Array] = {}
        for q in quantiles:
            pos = q * (window - 1)
            for rank in {int(pos), int(np.ceil(pos))}:
                if rank not in ranks:
                    ranks[rank] = ndimage.rank_filter(x, rank=rank, size=window, mode="nearest")
        for out, q in zip(outs, quantiles, strict=True):
            pos = q * (window - 1)
            low = int(pos)
            if low == pos:
                out[:] = ranks[low]
            elif median:
                out[:] = (ranks[low] + ranks[low + 1]) / 2
            else:
                out[:] = ranks[low] + (ranks[low + 1] - ranks[low]) * (pos - low)
    # Positions whose window a closed piece end cuts short.
    lengths = stops - starts
    head = np.minimum(half, lengths)
    head_pos = _ranges(starts[closed_start], head[closed_start])
    tail_len = np.minimum(half, lengths)
    tail_pos = _ranges((stops - tail_len)[closed_stop], tail_len[closed_stop])
    # A piece shorter than the window is covered by its head and tail (they overlap).
    cut = np.unique(np.concatenate((head_pos, tail_pos)))
    if cut.size:
        piece = np.searchsorted(stops, cut, side="right")
        lo = np.maximum(starts[piece], cut - half)
        hi = np.minimum(stops[piece], cut + half + 1)
        values = window_quantiles_at(x, lo, hi, quantiles, median=median)
        for out, value in zip(outs, values, strict=True):
            out[cut] = value
    return outs


def _ranges(starts: Index, lengths: Index) -> Index:
    """Concatenation of ``arange(s, s + l)`` for every (s, l)."""
    lengths = np.maximum(lengths, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    owner = np.repeat(np.arange(lengths.size), lengths)
    first = np.cumsum(lengths) - lengths
    out: Index = (starts[owner] + np.arange(total) - first[owner]).astype(np.intp)
    return out
