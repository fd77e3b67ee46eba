"""Benchmark: every HRV marker with artifact correction for one 22.5 h day, Somatrace vs neurokit2.

The day is not tiled: ``analysis.simulate.simulate_strap_recording`` (circadian/sleep model from
08:00, RR at the strap's 1/1024 s, ectopic, missed and extra beats, contact losses of 2-120 s that
leave real gaps). In this one process, on one core, it times (1) neurokit2 as a user would run it:
``signal_fixpeaks(method="kubios")`` on every gap-free segment, then ``nk.hrv`` per 5-min window;
(2) the cheapest neurokit2 calls that give Somatrace's markers per window; (3) Somatrace's
``compute_windows_timed`` with cleaning and (4) without. It prints seconds per day, beats/s and the
ratios, then checks that every marker of every gap-free window equals neurokit2 on the same NN
intervals, and the artifact-correction checks of issue 10 (a clean ECGSYN day rounded to 1/128 s;
the Polar H10 recording with PVCs). ``--quick`` times neurokit2 on a sample of windows and
extrapolates (labelled as such). The machine's load average is printed before and after.

    python benchmarks/analysis.py [--quick] [--sample 12] [--repeat 7]
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
import pandas as pd
from neurokit2.hrv.hrv_nonlinear import _hrv_dfa, _hrv_nonlinear_poincare
from neurokit2.hrv.hrv_utils import _hrv_format_input
from numpy.typing import NDArray

from analysis import compute_windows, compute_windows_timed, split_quality
from analysis.bounds import GAP_MAX_RR_RATIO, GAP_MAX_S
from analysis.clean import clean_rr
from analysis.simulate import round_beat_times, simulate_ecgsyn_beats, simulate_strap_recording

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
WINDOW_S = 300.0
DAY_S = 22.5 * 3600.0
SEED = 2026
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
Array = NDArray[np.float64]


def build_day() -> tuple[Array, Array]:
    """22.5 h of strap beats (s, ms): not tiled, 1/1024 s, with gaps and artifacts."""
    return simulate_strap_recording(DAY_S, seed=SEED, mean_hr_bpm=66.0, ln_rmssd=3.6)


def segments_of(t_s: Array, rr_ms: Array) -> list[slice]:
    """Gap-free segments, split where ``compute_windows_timed`` splits them."""
    dt = np.diff(t_s)
    gap = (dt > GAP_MAX_S) | (dt > GAP_MAX_RR_RATIO * rr_ms[1:] / 1000.0)
    cuts = np.concatenate(([0], np.flatnonzero(gap) + 1, [t_s.size]))
    return [slice(a, b) for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)]


def nk_clean(rr_ms: Array) -> Array:
    """neurokit2's Kubios correction of one segment (peaks at 1 kHz, rounded to whole ms)."""
    peaks = np.round(np.concatenate(([0.0], np.cumsum(rr_ms)))).astype(int)
    if peaks.size < 5:
        return np.diff(peaks).astype(np.float64)
    _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=True)
    return np.diff(fixed).astype(np.float64)


def nk_best(nn: Array, t: Array) -> dict[str, float]:
    """The cheapest neurokit2 calls for Somatrace's markers (what nk.hrv_nonlinear calls)."""
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


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (s) over ``repeat`` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def windows_of(t_s: Array, nn_ms: Array) -> dict[int, slice]:
    """Beats of each 5-min window (by end time), as slices of the beat arrays."""
    k = np.floor(t_s / WINDOW_S).astype(np.int64)
    keys, starts = np.unique(k, return_index=True)
    stops = np.append(starts[1:], k.size)
    return {int(w): slice(int(a), int(b)) for w, a, b in zip(keys, starts, stops, strict=True)}


def ecgsyn_day_at_128hz() -> tuple[Array, Array]:
    """A clean 22.5 h recording from neurokit2's ECGSYN RR process, beats rounded to 1/128 s."""
    return round_beat_times(simulate_ecgsyn_beats(DAY_S / 3600.0, seed=SEED), 1 / 128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="time neurokit2 on a sample only")
    parser.add_argument("--sample", type=int, default=12, help="windows timed with --quick")
    parser.add_argument("--repeat", type=int, default=7, help="Somatrace runs (best is kept)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    load_before = os.getloadavg()

    t, rr = build_day()
    segs = segments_of(t, rr)
    n_beats = rr.size
    span_h = (t[-1] - t[0] + rr[0] / 1000.0) / 3600.0
    print(
        f"recording: {n_beats} beats over {span_h:.2f} h, RR at 1/1024 s, {len(segs) - 1} gaps "
        f"(analysis.simulate.simulate_strap_recording, seed {SEED}; not tiled)"
    )

    # -- Somatrace -------------------------------------------------------------------------
    frame = compute_windows_timed(t, rr, WINDOW_S, clean=True)
    n_windows = len(frame)
    s_wall, s_cpu = timed(lambda: compute_windows_timed(t, rr, WINDOW_S, clean=True), args.repeat)
    r_wall, r_cpu = timed(lambda: compute_windows_timed(t, rr, WINDOW_S, clean=False), args.repeat)
    starts = np.zeros(rr.size, dtype=bool)
    starts[[s.start for s in segs]] = True
    c_wall_s, c_cpu_s = timed(lambda: clean_rr(rr, breaks=starts), args.repeat)

    # -- neurokit2 -------------------------------------------------------------------------
    w0, c0 = time.perf_counter(), time.process_time()
    nk_nn = [nk_clean(rr[s]) for s in segs]
    c_wall, c_cpu = time.perf_counter() - w0, time.process_time() - c0
    nk_t = np.concatenate(
        [
            t[s][0] - rr[s][0] / 1000.0 + np.cumsum(nn) / 1000.0
            for s, nn in zip(segs, nk_nn, strict=True)
        ]
    )
    nk_all = np.concatenate(nk_nn)
    nk_windows = windows_of(nk_t, nk_all)
    keys = sorted(nk_windows)
    if args.quick:
        chosen = [
            keys[i] for i in np.unique(np.linspace(0, len(keys) - 1, args.sample).astype(int))
        ]
        label = f"extrapolated from {len(chosen)} of {len(keys)} windows"
    else:
        chosen = keys
        label = f"all {len(keys)} windows"
    scale = len(keys) / len(chosen)

    def per_window(fn: Callable[[Array, Array], object]) -> tuple[float, float]:
        w, c = time.perf_counter(), time.process_time()
        for key in chosen:
            sel = nk_windows[key]
            if nk_all[sel].size >= 20:
                fn(nk_all[sel], nk_t[sel])
        return (time.perf_counter() - w) * scale + c_wall, (time.process_time() - c) * scale + c_cpu

    f_wall, f_cpu = per_window(lambda nn, tt: nk.hrv({"RRI": nn, "RRI_Time": tt}))
    b_wall, b_cpu = per_window(nk_best)

    # -- agreement on gap-free windows: the same NN intervals through both ---------------------
    ours = clean_rr(rr, breaks=starts)
    seg_t0 = np.array([t[s][0] - rr[s][0] / 1000.0 for s in segs])
    seg_start = np.concatenate(([0], np.flatnonzero(np.diff(ours.segment_id)) + 1))
    csum = np.cumsum(ours.nn_ms)
    base = np.repeat(
        np.concatenate(([0.0], csum[seg_start[1:] - 1])),
        np.diff(np.append(seg_start, ours.nn_ms.size)),
    )
    our_t = seg_t0[ours.segment_id] + (csum - base) / 1000.0
    by_window = windows_of(our_t, ours.nn_ms)
    worst = dict.fromkeys(TOLERANCE, 0.0)
    compared = 0
    checked_windows = 0
    for _, row in frame.iterrows():
        key = round(row["window_start_s"] / WINDOW_S)
        sel = by_window.get(key)
        if sel is None or np.unique(ours.segment_id[sel]).size != 1 or ours.nn_ms[sel].size < 100:
            continue
        if args.quick and checked_windows >= 3 * args.sample:
            break
        checked_windows += 1
        ref = nk_best(ours.nn_ms[sel], our_t[sel])
        for name in TOLERANCE:
            a, b = float(row[name]), ref[name]
            if np.isfinite(a) and np.isfinite(b):
                worst[name] = max(worst[name], abs(a - b) / max(abs(b), 1e-300))
                compared += 1
    agree = all(worst[m] <= TOLERANCE[m] for m in TOLERANCE)

    # -- report ----------------------------------------------------------------------------
    day = 86_400.0 / (span_h * 3600.0)  # scale to seconds per 24 h day

    def line(name: str, wall: float, cpu: float, note: str = "") -> None:
        print(
            f"  {name:<40} {wall:8.3f} s wall {cpu:8.3f} s CPU "
            f"{n_beats / cpu:11,.0f} beats/s (CPU){note}"
        )

    print(f"windows: {n_windows} x {WINDOW_S:.0f} s; neurokit2 timings: {label}")
    print(f"times for this {span_h:.1f} h recording (x {day:.3f} for a 24 h day):")
    line("neurokit2 fixpeaks + nk.hrv per window", f_wall, f_cpu)
    line("neurokit2 fixpeaks + best calls per window", b_wall, b_cpu)
    line("  of which signal_fixpeaks (per segment)", c_wall, c_cpu)
    line("Somatrace compute_windows_timed", s_wall, s_cpu, f" (best of {args.repeat})")
    line("Somatrace without cleaning", r_wall, r_cpu, f" (best of {args.repeat})")
    line("Somatrace clean_rr alone", c_wall_s, c_cpu_s, f" (best of {args.repeat})")
    print(f"Somatrace per 24 h day: {s_cpu * day:.3f} s CPU ({s_wall * day:.3f} s wall)")
    print(
        f"speed-up vs nk.hrv per window:   {f_cpu / s_cpu:8.0f}x CPU ({f_wall / s_wall:.0f}x wall)"
    )
    print(
        f"speed-up vs best nk calls:       {b_cpu / s_cpu:8.0f}x CPU ({b_wall / s_wall:.0f}x wall)"
    )
    print(f"speed-up of cleaning vs fixpeaks: {c_cpu / c_cpu_s:7.0f}x CPU")
    print(
        f"agreement with neurokit2 on the same NN, {checked_windows} gap-free windows, "
        f"{compared} values (largest relative difference):"
    )
    for name, tol in TOLERANCE.items():
        print(f"  {name:<12} {worst[name]:.1e}   tolerance {tol:.0e}")
    print("  stress_index, baevsky_si: no neurokit2 equivalent (analysis.stress)")
    grades = frame["quality"].map(lambda q: split_quality(q)[0]).value_counts()
    print("quality of the day's windows: " + ", ".join(f"{g} {n}" for g, n in grades.items()))
    print(f"artifact share of the day: {ours.artifact_share:.2%} (counts {ours.counts()})")

    # -- issue 10 artifact-correction checks ------------------------------------------------
    tq, rq = ecgsyn_day_at_128hz()
    clean_q = compute_windows_timed(tq, rq, WINDOW_S)
    plain = clean_rr(rq, resolution_ms=0.0)
    print(
        f"clean ECGSYN day at 1/128 s ({rq.size} beats): median window artifact share "
        f"{clean_q['artifact_share'].median():.2%} (mean {clean_q['artifact_share'].mean():.2%}; "
        f"without the resolution floor, as neurokit2: {plain.artifact_share:.2%} of beats)"
    )
    pvc = pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)
    pvc_frame = compute_windows(pvc, WINDOW_S)
    print(
        "Polar H10 recording with PVCs (tests/data): "
        + "; ".join(
            f"{split_quality(q)[0]} ({q.split(': ', 1)[-1][:60]})" for q in pvc_frame["quality"]
        )
    )
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} (1 and 5 min)"
    )
    print(f"agreement within tolerances: {'yes' if agree else 'NO'}")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
