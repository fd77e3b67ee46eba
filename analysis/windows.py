"""Windowed HRV markers of a whole recording, computed for all windows at once.

Integrates artifact correction (``analysis.clean``), the marker families (time domain, Poincaré,
stress, frequency, DFA, sample entropy) and quality grading; trends are left to ``analysis.trends``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analysis.bounds import (
    DEFAULT_WINDOW_S,
    DFA_ALPHA1_MIN_BEATS,
    GAP_MAX_RR_RATIO,
    GAP_MAX_S,
    HF_MIN_S,
    LF_MIN_S,
    MIN_BEATS,
    RR_MAX_MS,
    SAMPEN_MIN_BEATS,
    STATIONARY_WINDOW_MAX_S,
    TIME_DOMAIN_MIN_S,
)
from analysis.clean import InvalidRRError, as_rr_array, clean_rr
from analysis.errors import AnalysisError
from analysis.frequency import frequency_markers_checked
from analysis.nonlinear import MarkerBatch, dfa_alpha1_stretches, sampen_stretches
from analysis.poincare import poincare_markers
from analysis.quality import grade_window
from analysis.stress import stress_indices
from analysis.time_domain import time_domain_markers

logger = logging.getLogger(__name__)

#: Column names of the window table, in order (the public contract).
COLUMNS: Final[tuple[str, ...]] = (
    "window_start_s",
    "n_beats",
    "artifact_share",
    "mean_nn_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd",
    "pnn50_pct",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "dfa_alpha1",
    "sampen",
    "stress_index",
    "baevsky_si",
    "quality",
)
#: Markers that need only the time-domain minimum (beats and duration).
_BASIC_MARKERS: Final[tuple[str, ...]] = (
    "mean_nn_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd",
    "pnn50_pct",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2",
    "stress_index",
    "baevsky_si",
)
#: Stages reported to the ``progress`` callback, in order.
STAGES: Final[tuple[str, ...]] = ("clean", "time_domain", "frequency", "nonlinear", "quality")

ProgressCallback = Callable[[str], None]


class WindowInputError(AnalysisError):
    """Invalid window length, origin or beat times."""


def compute_windows(
    rr_ms: ArrayLike,
    window_s: float = DEFAULT_WINDOW_S,
    clean: bool = True,
    progress: ProgressCallback | None = None,
    resolution_ms: float | None = None,
) -> pd.DataFrame:
    """HRV markers per window of a continuous RR recording.

    Beat times are the cumulative sum of the RR intervals from the recording start (the first
    RR ends at ``rr_ms[0]``); an interval belongs to window k when its end time lies in
    ``[k·W, (k+1)·W)``. Equivalent to ``compute_windows_timed(cumsum(rr_ms) / 1000, rr_ms)``.

    Parameters
    ----------
    rr_ms:
        RR intervals, ms.
    window_s:
        Window length W, s (default 300).
    clean:
        Correct artifacts (Lipponen & Tarvainen 2019) before computing markers. Impossible
        intervals are handled either way (``analysis.clean.clean_rr``).
    progress:
        Optional callback, called with each name of :data:`STAGES` as it starts.
    resolution_ms:
        Time resolution of the RR values, ms; detected from the values when None.

    Returns
    -------
    pandas.DataFrame
        One row per window in time order with exactly :data:`COLUMNS`; see
        :func:`compute_windows_timed`.

    Raises
    ------
    analysis.clean.InvalidRRError
        RR input not a 1-D finite numeric series.
    WindowInputError
        Window length not positive.
    """
    rr = as_rr_array(rr_ms)
    return compute_windows_timed(
        np.cumsum(rr) / 1000.0, rr, window_s, clean, 0.0, progress, resolution_ms
    )


def compute_windows_timed(
    beat_t_s: ArrayLike,
    rr_ms: ArrayLike,
    window_s: float = DEFAULT_WINDOW_S,
    clean: bool = True,
    origin_s: float = 0.0,
    progress: ProgressCallback | None = None,
    resolution_ms: float | None = None,
) -> pd.DataFrame:
    """HRV markers per window of an RR recording whose beat end times are given.

    Window k covers ``[origin_s + k·W, origin_s + (k+1)·W)``; only windows holding at least one
    beat (kept or removed as impossible) are returned. A gap (a beat's given time more than
    ``GAP_MAX_S`` or ``GAP_MAX_RR_RATIO`` × its RR after the previous kept beat's) splits the
    recording into segments: artifact correction never bridges a gap and successive
    differences never span one. Within a segment the NN beat times are the segment's first
    given beat time plus the cumulative NN sum.

    Each marker equals neurokit2 on that window's NN intervals passed as
    ``{"RRI": nn_ms, "RRI_Time": t_s}`` when the window holds no gap: ``hrv_time`` (MeanNN,
    SDNN, RMSSD, pNN50), ``hrv_nonlinear`` (SD1, SD2, SD1SD2, DFA_alpha1, SampEn) and
    ``hrv_frequency(interpolation_rate=4, normalize=False)`` (LF, HF, LFHF);
    ``mean_hr_bpm = 60000 / mean_nn_ms``, ``ln_rmssd = ln(rmssd_ms)``; ``stress_index`` (Kubios'
    scale) and ``baevsky_si`` (Baevsky's) come from ``analysis.stress``.

    **Gaps inside a window.** A window crossed by gaps consists of gap-free stretches. Time-domain
    and Poincaré markers skip the differences that span a gap. LF, HF and LF/HF come from the
    window's longest stretch alone (a spline across a hole would invent the missing beats): NaN
    when that stretch is shorter than ``LF_MIN_S`` (LF, LF/HF) or ``HF_MIN_S`` (HF). DFA α1 and
    SampEn pool boxes and templates of all stretches, none spanning a gap (``analysis.nonlinear``);
    NaN when the stretches long enough to use hold fewer than ``DFA_ALPHA1_MIN_BEATS`` /
    ``SAMPEN_MIN_BEATS`` beats. The ``quality`` string says which markers were affected.

    Markers of windows too short for them (``analysis.bounds``: LF needs 120 s, HF 60 s, DFA α1
    and SampEn 100 beats, the rest 30 s and 3 beats) are NaN and the ``quality`` string says why
    (``analysis.quality.split_quality`` parses it); windows longer than
    ``STATIONARY_WINDOW_MAX_S`` are graded no better than fair (non-stationary).

    Parameters
    ----------
    beat_t_s:
        End time of each RR interval, s (e.g. epoch seconds), strictly increasing.
    rr_ms:
        RR intervals, ms, same length.
    window_s:
        Window length W, s.
    clean:
        Correct artifacts before computing markers.
    origin_s:
        Start of window 0, s (e.g. a clock-aligned epoch).
    progress:
        Optional callback, called with each name of :data:`STAGES` as it starts.
    resolution_ms:
        Time resolution of the RR values, ms (a strap's 1000/1024); detected from the values when
        None. It sets the artifact-correction threshold floor and the quality grade's rounding
        term.

    Returns
    -------
    pandas.DataFrame
        Exactly :data:`COLUMNS`; ``window_start_s`` is ``origin_s + k·W``; ``n_beats`` counts NN
        intervals; ``artifact_share`` is (corrected + removed) / (NN + removed) of the window.

    Raises
    ------
    analysis.clean.InvalidRRError
        RR or times not 1-D finite numeric series of equal length, or a bad ``resolution_ms``.
    WindowInputError
        Times not strictly increasing, window length not positive, origin not finite.
    """
    rr = as_rr_array(rr_ms)
    t = as_rr_array(beat_t_s, name="beat_t_s")
    if t.shape != rr.shape:
        raise InvalidRRError(
            f"beat_t_s has {t.size} values but rr_ms has {rr.size}", name="beat_t_s"
        )
    if not (np.isfinite(window_s) and window_s > 0):
        raise WindowInputError(f"window_s must be a positive number, got {window_s}")
    if not np.isfinite(origin_s):
        raise WindowInputError(f"origin_s must be finite, got {origin_s}")
    if t.size > 1:
        bad = np.flatnonzero(np.diff(t) <= 0)
        if bad.size:
            raise WindowInputError(
                f"beat_t_s must be strictly increasing (index {int(bad[0]) + 1})",
                index=int(bad[0]) + 1,
            )
    notify = progress if progress is not None else _no_progress

    notify("clean")
    possible = (rr > 0) & (rr <= RR_MAX_MS)
    keep = np.flatnonzero(possible)
    gap_kept = np.zeros(keep.size, dtype=bool)
    if keep.size > 1:
        dt = np.diff(t[keep])
        rr_next = rr[keep[1:]] / 1000.0
        gap_kept[1:] = (dt > GAP_MAX_S) | (dt > GAP_MAX_RR_RATIO * rr_next)
    breaks = np.zeros(rr.size, dtype=bool)
    breaks[keep[gap_kept]] = True
    cleaned = clean_rr(rr, breaks=breaks, correct=clean, resolution_ms=resolution_ms)
    nn = cleaned.nn_ms
    seg = cleaned.segment_id
    kept = cleaned.keep_index
    seg_of_kept = np.cumsum(breaks)[kept]
    first_of_seg = np.flatnonzero(np.diff(seg_of_kept, prepend=-1) != 0)
    seg_t0 = t[kept[first_of_seg]] - rr[kept[first_of_seg]] / 1000.0
    nn_t = _segment_times(nn, seg, seg_t0)

    w = float(window_s)
    removed = np.ones(rr.size, dtype=bool)
    removed[kept] = False
    removed_t = t[removed]
    k_nn = np.floor((nn_t - origin_s) / w).astype(np.int64)
    k_removed = np.floor((removed_t - origin_s) / w).astype(np.int64)
    present = np.union1d(k_nn, k_removed)
    n_windows = int(present.size)
    win = np.searchsorted(present, k_nn).astype(np.intp)
    win_removed = np.searchsorted(present, k_removed).astype(np.intp)
    successive = np.ones(nn.size, dtype=bool)
    if nn.size:
        successive[1:] = seg[1:] == seg[:-1]
        successive[0] = False

    n_beats = np.bincount(win, minlength=n_windows)
    n_flagged = np.bincount(win, weights=(cleaned.mask != 0), minlength=n_windows)
    n_removed = np.bincount(win_removed, minlength=n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        artifact_share = (n_flagged + n_removed) / (n_beats + n_removed)
    duration_s = np.bincount(win, weights=nn, minlength=n_windows) / 1000.0

    # Gap-free stretches: runs of beats within one window and one segment.
    stretch_start = np.flatnonzero(np.concatenate(([True], ~successive[1:] | (np.diff(win) != 0))))
    if nn.size == 0:
        stretch_start = np.zeros(0, dtype=np.intp)
    stretch_len = np.diff(np.append(stretch_start, nn.size)).astype(np.int64)
    stretch_win = win[stretch_start].astype(np.int64) if nn.size else np.zeros(0, np.int64)
    stretch_s = (
        np.add.reduceat(nn, stretch_start) / 1000.0 if nn.size else np.zeros(0, dtype=np.float64)
    )
    n_stretches = np.bincount(stretch_win, minlength=n_windows)

    notify("time_domain")
    td = time_domain_markers(nn, win, n_windows, successive)
    pc = poincare_markers(nn, win, n_windows, successive)
    si = stress_indices(nn, win, n_windows)
    cols: dict[str, NDArray[np.float64]] = {
        "mean_nn_ms": td.mean_nn_ms,
        "sdnn_ms": td.sdnn_ms,
        "rmssd_ms": td.rmssd_ms,
        "pnn50_pct": td.pnn50_pct,
        "sd1_ms": pc.sd1_ms,
        "sd2_ms": pc.sd2_ms,
        "sd1_sd2": pc.sd1_sd2,
        "stress_index": si.stress_index,
        "baevsky_si": si.baevsky_si,
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["mean_hr_bpm"] = 60000.0 / td.mean_nn_ms
        cols["ln_rmssd"] = np.log(np.where(td.rmssd_ms > 0, td.rmssd_ms, np.nan))

    enough = (n_beats >= MIN_BEATS) & (duration_s >= TIME_DOMAIN_MIN_S)
    enough_idx = np.flatnonzero(enough).tolist()
    nan_reasons: list[list[tuple[str, str]]] = [[] for _ in range(n_windows)]
    cautions: list[list[str]] = [[] for _ in range(n_windows)]
    for name in _BASIC_MARKERS:
        cols[name] = np.where(enough, cols[name], np.nan)
        for k in np.flatnonzero(enough & np.isnan(cols[name])).tolist():
            nan_reasons[k].append((name, "undefined (no variability)"))

    notify("frequency")
    lf = np.full(n_windows, np.nan)
    hf = np.full(n_windows, np.nan)
    lf_hf = np.full(n_windows, np.nan)
    # The longest gap-free stretch of every window.
    longest_of = np.full(n_windows, -1, dtype=np.intp)
    if stretch_start.size:
        by_length = np.lexsort((-stretch_s, stretch_win))
        head = np.concatenate(([True], np.diff(stretch_win[by_length]) != 0))
        longest_of[stretch_win[by_length[head]]] = by_length[head]
    spectral_s = np.where(longest_of >= 0, stretch_s[np.maximum(longest_of, 0)], 0.0)
    hf_ok = np.flatnonzero(enough & (spectral_s >= HF_MIN_S))
    if hf_ok.size:
        parts = [
            (nn[a : a + n], nn_t[a : a + n])
            for a, n in zip(
                stretch_start[longest_of[hf_ok]].tolist(),
                stretch_len[longest_of[hf_ok]].tolist(),
                strict=True,
            )
        ]
        fm = frequency_markers_checked(parts)
        hf[hf_ok] = fm.hf_ms2
        lf_ok = spectral_s[hf_ok] >= LF_MIN_S
        lf[hf_ok[lf_ok]] = fm.lf_ms2[lf_ok]
        lf_hf[hf_ok[lf_ok]] = fm.lf_hf[lf_ok]
        for pos, k in enumerate(hf_ok.tolist()):
            for reason in fm.reasons[pos]:
                marker, _, why = reason.partition(": ")
                if marker in ("lf_ms2", "lf_hf") and not lf_ok[pos]:
                    continue
                nan_reasons[k].append((marker, why or "undefined"))
    for k in enough_idx:
        gapped = n_stretches[k] > 1
        where = f"longest gap-free stretch {spectral_s[k]:.0f} s" if gapped else ""
        if spectral_s[k] < HF_MIN_S:
            why = f"{where} < {HF_MIN_S:.0f} s" if gapped else f"needs >= {HF_MIN_S:.0f} s"
            nan_reasons[k].append(("hf_ms2", why))
        if spectral_s[k] < LF_MIN_S:
            why = f"{where} < {LF_MIN_S:.0f} s" if gapped else f"need >= {LF_MIN_S:.0f} s"
            nan_reasons[k].append(("lf_ms2", why))
            nan_reasons[k].append(("lf_hf", why))
        elif gapped:
            cautions[k].append(
                f"lf_ms2, hf_ms2, lf_hf from the longest gap-free stretch ({spectral_s[k]:.0f} s)"
            )
    cols["lf_ms2"], cols["hf_ms2"], cols["lf_hf"] = lf, hf, lf_hf

    notify("nonlinear")
    dfa = np.full(n_windows, np.nan)
    sampen = np.full(n_windows, np.nan)
    for name, kernel, min_beats, out in (
        ("dfa_alpha1", dfa_alpha1_stretches, DFA_ALPHA1_MIN_BEATS, dfa),
        ("sampen", sampen_stretches, SAMPEN_MIN_BEATS, sampen),
    ):
        ok = np.flatnonzero(enough & (n_beats >= min_beats))
        if ok.size:
            sel = np.isin(stretch_win, ok)
            batch: MarkerBatch | None = kernel(
                nn,
                stretch_start[sel].astype(np.int64),
                stretch_len[sel],
                np.searchsorted(ok, stretch_win[sel]),
                int(ok.size),
            )
        else:
            batch = None
        for k in enough_idx:
            if n_beats[k] < min_beats:
                nan_reasons[k].append((name, f"needs >= {min_beats} beats"))
        if batch is None:
            continue
        out[ok] = batch.values
        for pos, batch_reason in enumerate(batch.reasons):
            k = int(ok[pos])
            if batch_reason is not None:
                nan_reasons[k].append((name, batch_reason.partition(": ")[2] or "undefined"))
    for k in enough_idx:
        if n_stretches[k] > 1 and (np.isfinite(dfa[k]) or np.isfinite(sampen[k])):
            cautions[k].append(
                f"dfa_alpha1, sampen pooled over {int(n_stretches[k])} gap-free stretches"
            )
    cols["dfa_alpha1"], cols["sampen"] = dfa, sampen

    notify("quality")
    if w > STATIONARY_WINDOW_MAX_S:
        long_note = (
            f"{w:.0f} s window > {STATIONARY_WINDOW_MAX_S:.0f} s: spans changing states, "
            "markers assume stationarity"
        )
        for k in enough_idx:
            cautions[k].append(long_note)
    quality = [
        grade_window(
            n_beats=int(n_beats[k]),
            duration_s=float(duration_s[k]),
            window_s=w,
            artifact_share=float(artifact_share[k]) if np.isfinite(artifact_share[k]) else 0.0,
            min_beats=MIN_BEATS,
            min_duration_s=TIME_DOMAIN_MIN_S,
            nan_reasons=nan_reasons[k],
            rmssd_ms=float(cols["rmssd_ms"][k]),
            mean_nn_ms=float(cols["mean_nn_ms"][k]),
            resolution_ms=cleaned.resolution_ms,
            cautions=cautions[k],
        )
        for k in range(n_windows)
    ]
    frame = pd.DataFrame(
        {
            "window_start_s": origin_s + present.astype(np.float64) * w,
            "n_beats": n_beats.astype(np.int64),
            "artifact_share": artifact_share,
            **cols,
            "quality": quality,
        }
    )
    return frame.loc[:, list(COLUMNS)]


def _no_progress(stage: str) -> None:
    """Default progress callback: log the stage."""
    logger.debug("compute_windows stage %s", stage)


def _segment_times(
    nn: NDArray[np.float64], seg: NDArray[np.intp], seg_t0: NDArray[np.float64]
) -> NDArray[np.float64]:
    """End time (s) of each NN interval: its segment's start time plus the cumulative NN sum."""
    if nn.size == 0:
        return np.zeros(0, dtype=np.float64)
    seg_start = np.concatenate(([0], np.flatnonzero(np.diff(seg)) + 1))
    csum = np.cumsum(nn)
    base = np.concatenate(([0.0], csum[seg_start[1:] - 1]))
    offset = csum - np.repeat(base, np.diff(np.concatenate((seg_start, [nn.size]))))
    times: NDArray[np.float64] = seg_t0[seg] + offset / 1000.0
    return times
