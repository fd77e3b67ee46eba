"""LF and HF spectral power (ms²) and LF/HF of many NN windows at once, equal to neurokit2.

Reproduces ``nk.hrv_frequency(..., interpolation_rate=4, normalize=False)`` (Welch PSD of the
quadratic-spline-resampled tachogram); minimum-duration policies are left to ``analysis.windows``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray
from scipy.signal import get_window

from analysis.kernel_input import MarkerInputError, check_windows

logger = logging.getLogger(__name__)

#: Resampling rate of the tachogram, in Hz (Kubios and ``interpolation_rate=4`` in neurokit2).
INTERPOLATION_RATE_HZ: int = 4
#: Low-frequency band [lower, upper) in Hz (Task Force 1996).
LF_BAND_HZ: tuple[float, float] = (0.04, 0.15)
#: High-frequency band [lower, upper) in Hz (Task Force 1996).
HF_BAND_HZ: tuple[float, float] = (0.15, 0.4)
#: Highest frequency neurokit2 keeps in the spectrum (upper edge of its VHF band), in Hz.
MAX_FREQUENCY_HZ: float = 0.5
#: A quadratic spline needs three knots; neurokit2 fails below that.
MIN_BEATS_SPECTRUM: int = 3
#: Beats per batch of :func:`resample_tachograms` (about 27 five-minute windows).
_BATCH_BEATS: int = 8192


@dataclass(frozen=True)
class FrequencyMarkers:
    """Frequency-domain markers of ``n`` windows.

    Attributes
    ----------
    lf_ms2, hf_ms2, lf_hf:
        Float arrays of length ``n``; NaN where the marker is undefined for that window.
    reasons:
        For each window, a tuple of ``"<marker>: <why>"`` strings explaining every NaN (empty when
        all three markers are defined).
    """

    lf_ms2: NDArray[np.float64]
    hf_ms2: NDArray[np.float64]
    lf_hf: NDArray[np.float64]
    reasons: tuple[tuple[str, ...], ...]


def _bspline2_basis(
    knots: NDArray[np.float64], interval: NDArray[np.int64], x: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Quadratic B-spline basis values at ``x`` (Cox-de Boor), for ``knots[l] <= x < knots[l+1]``.

    Returns the values of the basis functions ``l-2``, ``l-1`` and ``l`` (``l = interval``);
    ``knots`` may be the concatenation of several windows' knot vectors.
    """
    t_lm1 = knots[interval - 1]
    t_l = knots[interval]
    t_lp1 = knots[interval + 1]
    t_lp2 = knots[interval + 2]
    right = (t_lp1 - x) / (t_lp1 - t_l)
    left = (x - t_l) / (t_lp1 - t_l)
    b0 = (t_lp1 - x) / (t_lp1 - t_lm1) * right
    b1 = (x - t_lm1) / (t_lp1 - t_lm1) * right + (t_lp2 - x) / (t_lp2 - t_l) * left
    b2 = (x - t_l) / (t_lp2 - t_l) * left
    return b0, b1, b2


def resample_tachograms(
    windows: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> list[NDArray[np.float64]]:
    """Resample NN series at 4 Hz with a quadratic spline, exactly as neurokit2 does, batched.

    Parameters
    ----------
    windows:
        ``(nn_ms, t_s)`` pairs as returned by ``analysis.kernel_input.check_windows``: NN
        intervals (ms, at least 3 per window) and their end times (s, strictly increasing).

    Returns
    -------
    list of numpy.ndarray
        One tachogram (ms) per window on the grid ``arange(t_s[0], t_s[-1] + 1/4, 1/4)``; grid
        points past the last beat repeat the last interval (the ``interp1d`` fill value used by
        ``nk.signal_interpolate``).

    Raises
    ------
    analysis.kernel_input.MarkerInputError
        A window with fewer than 3 beats.

    Notes
    -----
    The interpolant is scipy's ``make_interp_spline(t, nn, k=2)``: knots at the data ends and
    at the midpoints between data points 1..n-2, so every data point meets three basis
    functions and the collocation system is tridiagonal. The systems of all windows are
    stacked into one block-tridiagonal system and solved with one banded LAPACK call; each
    piece is then turned into a quadratic polynomial and all grids are evaluated at once
    (equal to scipy's B-spline evaluation within ~1e-14 relative).

    References
    ----------
    neurokit2 0.2.13 ``intervals_process`` and ``signal_interpolate(method="quadratic")``;
    de Boor C (1978). A Practical Guide to Splines. Springer.
    """
    if not windows:
        return []
    sizes = np.array([nn.size for nn, _ in windows], dtype=np.int64)
    if np.any(sizes < MIN_BEATS_SPECTRUM):
        short = int(np.flatnonzero(sizes < MIN_BEATS_SPECTRUM)[0])
        raise MarkerInputError(
            f"window {short}: the quadratic spline needs >= {MIN_BEATS_SPECTRUM} beats",
            window=short,
            reason="too few beats",
        )
    # Batches of a few thousand beats: the windows' systems are independent (unit end rows), so
    # the result is the same, and the temporaries stay small enough for the allocator to reuse
    # their memory instead of mapping fresh pages (the page faults cost more than the arithmetic).
    out: list[NDArray[np.float64]] = []
    first, beats = 0, 0
    for index, size in enumerate(sizes.tolist()):
        beats += size
        if beats >= _BATCH_BEATS or index == sizes.size - 1:
            out += _resample_batch(windows[first : index + 1], sizes[first : index + 1])
            first, beats = index + 1, 0
    return out


def _resample_batch(
    windows: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
    sizes: NDArray[np.int64],
) -> list[NDArray[np.float64]]:
    """:func:`resample_tachograms` of one batch of windows (``sizes`` beats each), one solve."""
    from scipy.linalg import solve_banded

    step = 1 / INTERPOLATION_RATE_HZ
    n_total = int(sizes.sum())
    starts = np.cumsum(sizes) - sizes
    x = np.concatenate([t for _, t in windows])
    y = np.concatenate([nn for nn, _ in windows])
    ends = starts + sizes - 1
    t_first, t_last = x[starts], x[ends]
    # Knot vectors of all windows, each n + 3 long: (x0, x0, x0, midpoints of x1..x(n-2), xe,
    # xe, xe), concatenated.
    knot_owner = np.repeat(np.arange(sizes.size), sizes + 3)
    knot_local = (
        np.arange(n_total + 3 * sizes.size) - (starts + 3 * np.arange(sizes.size))[knot_owner]
    )
    mid = np.empty(n_total)
    mid[:-1] = (x[1:] + x[:-1]) / 2
    interior = np.clip(starts[knot_owner] + knot_local - 2, 0, n_total - 1)
    knots = np.where(
        knot_local < 3,
        t_first[knot_owner],
        np.where(knot_local < sizes[knot_owner], mid[interior], t_last[knot_owner]),
    )
    # The 4 Hz grid of each window, as np.arange(t0, te + 1/4, 1/4) builds it (start + i * delta).
    delta = (t_first + step) - t_first
    grid_sizes = np.ceil(((t_last + step) - t_first) / step).astype(np.int64)
    g_owner = np.repeat(np.arange(sizes.size), grid_sizes)
    g_local = np.arange(int(grid_sizes.sum())) - (np.cumsum(grid_sizes) - grid_sizes)[g_owner]
    grid = t_first[g_owner] + g_local * delta[g_owner]
    # Grid points in each polynomial piece j (spanning [knot j + 2, knot j + 3), the last one
    # closed) and past the last beat. A point within rounding of a knot may land in either
    # neighbouring piece: the spline is continuous there, so the value is the same.
    edge_knots = (knot_local >= 2) & (knot_local <= sizes[knot_owner])
    edge_owner = knot_owner[edge_knots]
    edges = np.ceil((knots[edge_knots] - t_first[edge_owner]) / delta[edge_owner])
    last_edge = np.cumsum(sizes - 1) - 1
    edges[last_edge] = np.floor((t_last - t_first) / delta) + 1
    edges = np.clip(edges, 0, grid_sizes[edge_owner]).astype(np.int64)
    piece_counts = np.empty(edges.size, dtype=np.int64)
    piece_counts[:-1] = np.diff(edges)
    piece_counts[last_edge] = grid_sizes - edges[last_edge]
    knot_start = starts + 3 * np.arange(sizes.size)

    # Collocation rows: data point i of a window lies in knot interval l = i + 1, clipped to
    # [2, n - 1] (local indices), and meets basis functions l - 2 .. l. Interior rows are
    # (b0, b1, b2) on the (sub, main, super) diagonals; the end rows are unit rows (B_0(x_0) = 1,
    # B_{n-1}(x_{n-1}) = 1).
    owner = np.repeat(np.arange(sizes.size), sizes)
    local = np.arange(n_total) - starts[owner]
    interval_local = np.clip(local + 1, 2, sizes[owner] - 1)
    b0, b1, b2 = _bspline2_basis(knots, knot_start[owner] + interval_local, x)
    interior = (local > 0) & (local < sizes[owner] - 1)
    ab = np.zeros((3, n_total))
    ab[0, 1:] = np.where(interior, b2, 0.0)[:-1]
    ab[1, :] = np.where(interior, b1, 1.0)
    ab[2, :-1] = np.where(interior, b0, 0.0)[1:]
    coef = solve_banded((1, 1), ab, y, overwrite_ab=True, check_finite=False)

    # Power form of every piece, p0 + p1 d + p2 d^2 with d = x - knots[l], stored at the index
    # of its first coefficient (l - 2); the last two slots of each window are unused.
    j = np.minimum(local, np.maximum(sizes[owner] - 3, 0))
    k = knot_start[owner] + j + 2
    t_lm1, t_l, t_lp1, t_lp2 = knots[k - 1], knots[k], knots[k + 1], knots[k + 2]
    q = starts[owner] + j
    c0, c1, c2 = coef[q], coef[q + 1], coef[q + 2]
    h = t_lp1 - t_l
    span_a = t_lp1 - t_lm1
    span_b = t_lp2 - t_l
    p0 = (c0 * h + c1 * (t_l - t_lm1)) / span_a
    p1 = -2.0 * c0 / span_a + c1 * ((h - (t_l - t_lm1)) / (span_a * h) + 1.0 / h)
    p2 = c0 / (span_a * h) - c1 * (1.0 / (span_a * h) + 1.0 / (span_b * h)) + c2 / (span_b * h)

    # Slot n - 2 of each window holds the constant fill past the last beat.
    fill = starts + sizes - 2
    p0[fill] = y[starts + sizes - 1]
    p1[fill] = 0.0
    p2[fill] = 0.0
    t_l[fill] = 0.0

    slots = np.flatnonzero(local <= sizes[owner] - 2)
    piece = np.repeat(slots, piece_counts)
    d = grid - t_l[piece]
    values = p0[piece] + d * (p1[piece] + d * p2[piece])
    return np.split(values, np.cumsum(grid_sizes)[:-1])


def _segment_length(n_samples: int) -> int:
    """Welch segment length that neurokit2's ``signal_psd`` picks for ``n_samples``."""
    rate = INTERPOLATION_RATE_HZ
    min_frequency = 2 * rate / (n_samples / 2)
    nperseg = int(2 / min_frequency * rate)
    if nperseg > n_samples / 2:
        nperseg = int(n_samples / 2)
    return nperseg


def _welch_density(
    signals: NDArray[np.float64], nperseg: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One-sided Welch PSD of each row, as ``scipy.signal.welch`` with neurokit2's settings.

    Hann (periodic) segments of ``nperseg`` samples, 50 % overlap, no detrending, FFT length
    ``2 * nperseg``, density scaling, mean over segments; rows are processed together. SciPy's
    pocketfft (what ``scipy.signal.welch`` uses) handles the many FFT lengths ``2 * nperseg``
    with a large prime factor (1198 = 2 · 599) faster than NumPy's.
    """
    noverlap = nperseg // 2
    hop = nperseg - noverlap
    n_segments = (signals.shape[1] - noverlap) // hop
    window, scale, freq = _welch_constants(nperseg)
    # The segments as a strided view (what sliding_window_view(...)[:, ::hop] gives, without its
    # Python overhead, which costs more than the FFT of a small group).
    rows = np.ascontiguousarray(signals)
    row_stride, item = rows.strides
    segments = as_strided(
        rows,
        shape=(rows.shape[0], n_segments, nperseg),
        strides=(row_stride, hop * item, item),
        writeable=False,
    )
    spectrum = scipy.fft.rfft(segments * window, n=2 * nperseg, axis=-1, workers=1)
    power = spectrum.real**2 + spectrum.imag**2
    psd = power.mean(axis=1) / scale
    psd[:, 1:-1] *= 2.0
    return freq, np.asarray(psd, dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _welch_constants(nperseg: int) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    """Hann window, density scale ``rate · sum(w²)`` and bin frequencies for a segment length."""
    window = np.asarray(get_window("hann", nperseg), dtype=np.float64)
    window.setflags(write=False)
    freq = np.asarray(np.fft.rfftfreq(2 * nperseg, d=1.0 / INTERPOLATION_RATE_HZ), dtype=np.float64)
    freq.setflags(write=False)
    return window, INTERPOLATION_RATE_HZ * float(window @ window), freq


def _band_powers(
    tachograms: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]:
    """Integrate Welch PSDs of equally long tachograms over LF and HF (trapezoid, ms²)."""
    n_samples = tachograms.shape[1]
    nperseg = _segment_length(n_samples)
    centred = tachograms - tachograms.mean(axis=1, keepdims=True)
    _, psd = _welch_density(centred, nperseg)
    keep, lf_in, hf_in, lf_step, hf_step = _band_bins(n_samples)
    psd = psd[:, keep]
    # np.trapezoid(psd[:, band], x=freq[band], axis=1), spelled out (same operations).
    lf_psd = psd[:, lf_in]
    hf_psd = psd[:, hf_in]
    lf = (lf_step * (lf_psd[:, 1:] + lf_psd[:, :-1]) / 2.0).sum(1)
    hf = (hf_step * (hf_psd[:, 1:] + hf_psd[:, :-1]) / 2.0).sum(1)
    return lf, hf, int(lf_in.sum()), int(hf_in.sum())


@functools.lru_cache(maxsize=64)
def _band_bins(
    n_samples: int,
) -> tuple[
    NDArray[np.bool_],
    NDArray[np.bool_],
    NDArray[np.bool_],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """For tachograms of ``n_samples``: the kept Welch bins, LF and HF bins among them, and the
    bin widths of each band (``np.diff`` of its frequencies, as a row)."""
    rate = INTERPOLATION_RATE_HZ
    _, _, freq = _welch_constants(_segment_length(n_samples))
    min_frequency = 2 * rate / (n_samples / 2)
    keep = (freq >= min_frequency) & (freq <= MAX_FREQUENCY_HZ)
    freq = freq[keep]
    lf_in = (freq >= LF_BAND_HZ[0]) & (freq < LF_BAND_HZ[1])
    hf_in = (freq >= HF_BAND_HZ[0]) & (freq < HF_BAND_HZ[1])
    out = (keep, lf_in, hf_in, np.diff(freq[lf_in])[None, :], np.diff(freq[hf_in])[None, :])
    for array in out:
        array.setflags(write=False)
    return out


def frequency_markers(
    nn_ms: Sequence[NDArray[np.float64]], t_s: Sequence[NDArray[np.float64]]
) -> FrequencyMarkers:
    """LF power, HF power and LF/HF for each window, vectorised over windows.

    Parameters
    ----------
    nn_ms:
        One array of NN intervals (ms) per window.
    t_s:
        Matching arrays of beat end times (s, strictly increasing), e.g. ``cumsum(nn_ms) / 1000``
        or epoch seconds.

    Returns
    -------
    FrequencyMarkers
        ``lf_ms2`` (0.04-0.15 Hz), ``hf_ms2`` (0.15-0.4 Hz) and ``lf_hf``, each equal within 1e-6
        relative to ``nk.hrv_frequency({"RRI": nn, "RRI_Time": t}, interpolation_rate=4,
        normalize=False)``. Where neurokit2 returns NaN (band without spectral bins, zero power)
        or fails (fewer than 3 beats) the value is NaN and ``reasons`` says why. A window of
        constant NN also gets NaN (neurokit2 returns the ~1e-28 ms² of rounding noise).

    Raises
    ------
    analysis.errors.MarkerInputError
        Mismatched lengths, non-finite or non-positive intervals, or non-increasing times.

    Notes
    -----
    The tachogram is resampled at 4 Hz with a quadratic spline, centred, and its Welch PSD is
    taken with Hann segments of half the resampled length (50 % overlap, zero-padded FFT of twice
    the segment length, density scaling); band power is the trapezoid integral of the PSD over
    the bins in [lower, upper). Windows with equally many samples share one batched Welch call.

    References
    ----------
    Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement.
    Circulation 93:1043-1065. neurokit2 0.2.13 ``hrv_frequency``, ``signal_psd``, ``signal_power``.
    """
    return frequency_markers_checked(check_windows(nn_ms, t_s))


def frequency_markers_checked(
    windows: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> FrequencyMarkers:
    """:func:`frequency_markers` of windows already validated (``kernel_input.check_windows``).

    Parameters
    ----------
    windows:
        ``(nn_ms, t_s)`` pairs of float64 arrays: positive NN intervals (ms) and strictly
        increasing beat end times (s) of equal length.

    Returns
    -------
    FrequencyMarkers
        As :func:`frequency_markers`.
    """
    n_windows = len(windows)
    lf_out = np.full(n_windows, np.nan)
    hf_out = np.full(n_windows, np.nan)
    reasons: list[list[str]] = [[] for _ in range(n_windows)]

    usable: list[int] = []
    for index, (nn, _) in enumerate(windows):
        if nn.size < MIN_BEATS_SPECTRUM:
            why = f"needs >= {MIN_BEATS_SPECTRUM} beats for the 4 Hz resampling, got {nn.size}"
            reasons[index] += [f"lf_ms2: {why}", f"hf_ms2: {why}"]
        elif nn.min() == nn.max():
            why = "no variability (constant NN), spectrum is rounding noise"
            reasons[index] += [f"lf_ms2: {why}", f"hf_ms2: {why}"]
        else:
            usable.append(index)
    tachograms = resample_tachograms([windows[index] for index in usable]) if usable else []
    groups: dict[int, list[tuple[int, NDArray[np.float64]]]] = {}
    for index, tachogram in zip(usable, tachograms, strict=True):
        groups.setdefault(tachogram.size, []).append((index, tachogram))

    for n_samples, members in groups.items():
        indices = np.array([index for index, _ in members])
        lf, hf, n_lf_bins, n_hf_bins = _band_powers(np.stack([tach for _, tach in members]))
        duration_s = n_samples / INTERPOLATION_RATE_HZ
        for name, power, n_bins, target in (
            ("lf_ms2", lf, n_lf_bins, lf_out),
            ("hf_ms2", hf, n_hf_bins, hf_out),
        ):
            target[indices] = np.where(power == 0.0, np.nan, power)
            for index, value in zip(indices.tolist(), power.tolist(), strict=True):
                if value != 0.0:
                    continue
                if n_bins < 2:
                    reasons[index].append(
                        f"{name}: a {duration_s:.0f} s window gives {n_bins} spectral bin(s) "
                        "in the band, too short"
                    )
                else:
                    reasons[index].append(f"{name}: no power in the band")

    with np.errstate(divide="ignore", invalid="ignore"):
        lf_hf = lf_out / hf_out
    for index in range(n_windows):
        if np.isnan(lf_hf[index]):
            missing = [r.split(":", 1)[0] for r in reasons[index]]
            reasons[index].append(f"lf_hf: {' and '.join(missing)} undefined")
    return FrequencyMarkers(
        lf_ms2=lf_out,
        hf_ms2=hf_out,
        lf_hf=lf_hf,
        reasons=tuple(tuple(r) for r in reasons),
    )
