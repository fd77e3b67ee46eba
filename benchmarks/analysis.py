"""Benchmark: the full HRV marker set of a 24 h recording, Somatrace vs neurokit2 per window.

Builds one day by tiling a real 60-minute NN recording (pyhrv sample, tests/data) 24 times, then
times, in this one process and on one core: (1) ``nk.hrv`` per 5-min window after neurokit2's own
Kubios correction, (2) the cheapest neurokit2 calls that give the same markers per window, and
(3) ``analysis.compute_windows``. Prints seconds per 24 h day, beats/s, the ratios and the largest
relative difference of every marker. ``--quick`` times neurokit2 on a sample of windows and
extrapolates (labelled as such); the default times every window (about 2 minutes or more).

    python benchmarks/analysis.py [--quick] [--sample 12] [--repeat 5]
"""

# ruff: noqa: E402 - thread limits and sys.path must be set before NumPy and analysis load.
from __future__ import annotations

import os
import sys
from pathlib import Path

# One core, as the issue asks: keep BLAS/OpenMP pools from spreading over the shared machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# ``analysis`` package: drop the folder.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import time
import warnings
from collections.abc import Callable

import neurokit2 as nk
import numpy as np
from neurokit2.hrv.hrv_nonlinear import _hrv_dfa, _hrv_nonlinear_poincare
from neurokit2.hrv.hrv_utils import _hrv_format_input
from numpy.typing import NDArray

from analysis import compute_windows

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pyhrv_SampleNNISeriesLong.npy"
WINDOW_S = 300.0
TOLERANCE = {
    "mean_nn_ms": 1e-9,
    "sdnn_ms": 1e-9,
    "rmssd_ms": 1e-9,
    "pnn50_pct": 1e-9,
    "sd1_ms": 1e-9,
    "sd2_ms": 1e-9,
    "sd1_sd2": 1e-9,
    "dfa_alpha1": 1e-9,
    "sampen": 1e-9,
    "lf_ms2": 1e-6,
    "hf_ms2": 1e-6,
    "lf_hf": 1e-6,
}
#: Columns of ``nk.hrv`` with the same definition as ours (its frequency defaults differ).
NK_HRV_COLUMNS = {
    "mean_nn_ms": "HRV_MeanNN",
    "sdnn_ms": "HRV_SDNN",
    "rmssd_ms": "HRV_RMSSD",
    "pnn50_pct": "HRV_pNN50",
    "sd1_ms": "HRV_SD1",
    "sd2_ms": "HRV_SD2",
    "sd1_sd2": "HRV_SD1SD2",
    "dfa_alpha1": "HRV_DFA_alpha1",
    "sampen": "HRV_SampEn",
}


def build_day() -> NDArray[np.float64]:
    """24 h of real NN intervals (ms): the pyhrv 60-min sample (BSD-3-Clause) tiled 24 times."""
    return np.tile(np.load(DATA).astype(np.float64), 24)


def nk_clean(rr_ms: NDArray[np.float64]) -> NDArray[np.float64]:
    """neurokit2's Kubios correction of the whole day (peaks at 1 kHz)."""
    peaks = np.concatenate(([0], np.cumsum(rr_ms))).astype(int)
    _, clean = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=True)
    return np.diff(clean).astype(np.float64)


def nk_best(nn: NDArray[np.float64], t: NDArray[np.float64]) -> dict[str, float]:
    """The cheapest neurokit2 calls for our markers (what nk.hrv_nonlinear calls, minus the rest)."""
    data = {"RRI": nn, "RRI_Time": t}
    td = nk.hrv_time(data)
    fd = nk.hrv_frequency(data, interpolation_rate=4, normalize=False)
    rri, rri_time, rri_missing = _hrv_format_input(data)
    nl = _hrv_nonlinear_poincare(rri, rri_time=rri_time, rri_missing=rri_missing, out={})
    nl = _hrv_dfa(rri, nl)
    sampen, _ = nk.entropy_sample(rri, delay=1, dimension=2, tolerance=0.2 * np.std(rri, ddof=1))
    return {
        "mean_nn_ms": float(td["HRV_MeanNN"].iloc[0]),
        "sdnn_ms": float(td["HRV_SDNN"].iloc[0]),
        "rmssd_ms": float(td["HRV_RMSSD"].iloc[0]),
        "pnn50_pct": float(td["HRV_pNN50"].iloc[0]),
        "sd1_ms": float(nl["SD1"]),
        "sd2_ms": float(nl["SD2"]),
        "sd1_sd2": float(nl["SD1SD2"]),
        "dfa_alpha1": float(nl["DFA_alpha1"]),
        "sampen": float(sampen),
        "lf_ms2": float(fd["HRV_LF"].iloc[0]),
        "hf_ms2": float(fd["HRV_HF"].iloc[0]),
        "lf_hf": float(fd["HRV_LFHF"].iloc[0]),
    }


def nk_full(nn: NDArray[np.float64], t: NDArray[np.float64]) -> dict[str, float]:
    """``nk.hrv`` (time, frequency with its defaults, all nonlinear indices) of one window."""
    out = nk.hrv({"RRI": nn, "RRI_Time": t})
    return {ours: float(out[theirs].iloc[0]) for ours, theirs in NK_HRV_COLUMNS.items()}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (s) over ``repeat`` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="time neurokit2 on a sample only")
    parser.add_argument("--sample", type=int, default=12, help="windows timed with --quick")
    parser.add_argument("--repeat", type=int, default=5, help="Somatrace runs (best is kept)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    rr = build_day()
    n_beats = rr.size
    day_s = rr.sum() / 1000.0
    print(f"recording: {n_beats} beats over {day_s / 3600:.2f} h (pyhrv 60-min sample x 24)")

    # -- Somatrace -------------------------------------------------------------------------
    frame = compute_windows(rr, WINDOW_S, clean=True)
    n_windows = len(frame)
    s_wall, s_cpu = timed(lambda: compute_windows(rr, WINDOW_S, clean=True), args.repeat)
    r_wall, r_cpu = timed(lambda: compute_windows(rr, WINDOW_S, clean=False), args.repeat)

    # -- neurokit2 -------------------------------------------------------------------------
    c_wall, c_cpu = timed(lambda: nk_clean(rr), 1)
    nn = nk_clean(rr)
    t = np.cumsum(nn) / 1000.0
    k = np.floor(t / WINDOW_S).astype(int)
    starts = np.searchsorted(k, np.arange(n_windows))
    stops = np.searchsorted(k, np.arange(n_windows), side="right")
    if args.quick:
        chosen = np.unique(np.linspace(0, n_windows - 1, max(1, args.sample)).astype(int))
        scale = n_windows / chosen.size
        label = f"extrapolated from {chosen.size} of {n_windows} windows"
    else:
        chosen = np.arange(n_windows)
        scale = 1.0
        label = f"all {n_windows} windows"

    best: dict[int, dict[str, float]] = {}
    full: dict[int, dict[str, float]] = {}
    w0, c0 = time.perf_counter(), time.process_time()
    for w in chosen.tolist():
        best[w] = nk_best(nn[starts[w] : stops[w]], t[starts[w] : stops[w]])
    b_wall, b_cpu = (time.perf_counter() - w0) * scale, (time.process_time() - c0) * scale
    w0, c0 = time.perf_counter(), time.process_time()
    for w in chosen.tolist():
        full[w] = nk_full(nn[starts[w] : stops[w]], t[starts[w] : stops[w]])
    f_wall, f_cpu = (time.perf_counter() - w0) * scale, (time.process_time() - c0) * scale
    b_wall, b_cpu = b_wall + c_wall, b_cpu + c_cpu
    f_wall, f_cpu = f_wall + c_wall, f_cpu + c_cpu

    # -- agreement -------------------------------------------------------------------------
    worst_best = dict.fromkeys(TOLERANCE, 0.0)
    worst_full = dict.fromkeys(NK_HRV_COLUMNS, 0.0)
    nan_mismatch = 0
    for w in chosen.tolist():
        row = frame.iloc[w]
        for refs, worst in ((best[w], worst_best), (full[w], worst_full)):
            for name in worst:
                ours, theirs = float(row[name]), refs[name]
                if np.isnan(ours) or not np.isfinite(theirs):
                    nan_mismatch += int(np.isnan(ours) != (not np.isfinite(theirs)))
                    continue
                worst[name] = max(worst[name], abs(ours - theirs) / max(abs(theirs), 1e-300))
    agree = all(worst_best[m] <= TOLERANCE[m] for m in TOLERANCE) and all(
        worst_full[m] <= TOLERANCE[m] for m in NK_HRV_COLUMNS
    )

    # -- report ----------------------------------------------------------------------------
    def line(name: str, wall: float, cpu: float, note: str = "") -> None:
        print(
            f"  {name:<34} {wall:9.3f} s/day wall {cpu:9.3f} s/day CPU "
            f"{n_beats / cpu:12,.0f} beats/s (CPU){note}"
        )

    print(f"windows: {n_windows} x {WINDOW_S:.0f} s; neurokit2 timings: {label}")
    line("neurokit2 nk.hrv per window", f_wall, f_cpu, " (incl. signal_fixpeaks)")
    line("neurokit2 best calls per window", b_wall, b_cpu, " (incl. signal_fixpeaks)")
    line("  of which signal_fixpeaks (1 call)", c_wall, c_cpu)
    line("Somatrace compute_windows", s_wall, s_cpu, f" (best of {args.repeat})")
    line("Somatrace compute_windows --no-clean", r_wall, r_cpu, f" (best of {args.repeat})")
    print(
        f"speed-up vs nk.hrv per window:     {f_cpu / s_cpu:8.0f}x CPU "
        f"({f_wall / s_wall:.0f}x wall)"
    )
    print(
        f"speed-up vs best nk calls:         {b_cpu / s_cpu:8.0f}x CPU "
        f"({b_wall / s_wall:.0f}x wall)"
    )
    print("largest relative difference (Somatrace vs neurokit2 best calls / vs nk.hrv):")
    for name, tol in TOLERANCE.items():
        vs_full = (
            f"{worst_full[name]:.1e}"
            if name in worst_full
            else "  (nk.hrv frequency defaults differ)"
        )
        print(f"  {name:<12} {worst_best[name]:.1e} / {vs_full}   tolerance {tol:.0e}")
    print("  stress_index: no neurokit2 equivalent (Baevsky, analysis.stress)")
    print(f"NaN disagreements: {nan_mismatch}")
    print(f"agreement within tolerances: {'yes' if agree and not nan_mismatch else 'NO'}")
    if not (agree and not nan_mismatch):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
