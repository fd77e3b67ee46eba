"""Speed and exactness of the batched LF/HF, DFA α1 and SampEn kernels against per-window neurokit2.

Usage: ``python benchmarks/analysis_kernels.py [--repeat 5] [--skip-ecg] [--skip-scaling]``. Builds
two 24 h recordings (the real 60-min pyhrv NN series tiled 24 times, and ``analysis.simulate`` with
a day/night profile), splits them into 300 s windows, and prints seconds per 24 h day for each
kernel and for the per-window neurokit2 calls computing the same marker, their ratio and the
largest relative difference. Then the scaling of sample entropy with the window length (one
window of 300 to 100,000 beats, the last a 24 h window: the grid kernel below
``SAMPEN_BITSET_MIN_TEMPLATES`` templates, bit sets above, against ``nk.entropy_sample``'s k-d
tree). Also prints the ECG→RR agreement on the Polar H10 recording.
"""

# ruff: noqa: E402 - thread limits and sys.path must be set before NumPy and analysis load.
from __future__ import annotations

import os
import sys
from pathlib import Path

# One core, as issue 4 asks: keep BLAS/OpenMP pools from spreading over the shared machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Run as a script, this folder comes first on sys.path and benchmarks/analysis.py would shadow
# the ``analysis`` package: drop the folder.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import time
import warnings
from collections.abc import Callable

import neurokit2 as nk
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.ecg import ecg_to_rr
from analysis.frequency import frequency_markers
from analysis.nonlinear import SAMPEN_BITSET_MIN_TEMPLATES, dfa_alpha1_batch, sampen_batch
from analysis.simulate import simulate_rr

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
WINDOW_S = 300.0
Array = NDArray[np.float64]


def windows_of(rr_ms: Array) -> tuple[list[Array], list[Array]]:
    t_s = np.cumsum(rr_ms) / 1000.0
    cuts = np.flatnonzero(np.diff(np.floor(t_s / WINDOW_S))) + 1
    return np.split(rr_ms, cuts), np.split(t_s, cuts)


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """Best wall-clock and best CPU (process) seconds over ``repeat`` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def nk_frequency(nn: list[Array], t: list[Array]) -> Array:
    out = np.full((len(nn), 3), np.nan)
    for k, (x, tk) in enumerate(zip(nn, t, strict=True)):
        try:
            f = nk.hrv_frequency({"RRI": x, "RRI_Time": tk}, interpolation_rate=4, normalize=False)
        except ValueError:
            continue
        out[k] = f["HRV_LF"][0], f["HRV_HF"][0], f["HRV_LFHF"][0]
    return out


def nk_dfa(nn: list[Array]) -> Array:
    return np.array(
        [
            nk.fractal_dfa(x, multifractal=False, scale=np.arange(4, 12))[0]
            if x.size >= 12
            else np.nan
            for x in nn
        ]
    )


def nk_sampen(nn: list[Array]) -> Array:
    out = []
    for x in nn:
        tol = 0.2 * np.std(x, ddof=1)
        out.append(nk.entropy_sample(x, delay=1, dimension=2, tolerance=tol)[0])
    return np.array(out, dtype=np.float64)


def max_rel_diff(ours: Array, ref: Array) -> float:
    both = np.isfinite(ours) & np.isfinite(ref)
    if not both.any():
        return float("nan")
    return float(np.max(np.abs(ours[both] - ref[both]) / np.abs(ref[both])))


def run_recording(name: str, rr_ms: Array, repeat: int) -> None:
    nn, t = windows_of(rr_ms)
    print(f"\n== {name}: {rr_ms.size} beats, {np.sum(rr_ms) / 3.6e6:.2f} h, {len(nn)} windows")
    day = 86_400_000.0 / np.sum(rr_ms)  # scale to seconds per 24 h day

    ours_f = frequency_markers(nn, t)
    ours_d = dfa_alpha1_batch(nn)
    ours_s = sampen_batch(nn)
    t_f = best_of(repeat, lambda: frequency_markers(nn, t))
    t_d = best_of(repeat, lambda: dfa_alpha1_batch(nn))
    t_s = best_of(repeat, lambda: sampen_batch(nn))

    start = time.perf_counter()
    ref_f = nk_frequency(nn, t)
    nk_t_f = time.perf_counter() - start
    start = time.perf_counter()
    ref_d = nk_dfa(nn)
    nk_t_d = time.perf_counter() - start
    start = time.perf_counter()
    ref_s = nk_sampen(nn)
    nk_t_s = time.perf_counter() - start

    ours_freq = np.column_stack([ours_f.lf_ms2, ours_f.hf_ms2, ours_f.lf_hf])
    rows = [
        ("LF, HF, LF/HF", t_f, nk_t_f, max_rel_diff(ours_freq.ravel(), ref_f.ravel()), 1e-6),
        ("DFA alpha1", t_d, nk_t_d, max_rel_diff(ours_d.values, ref_d), 1e-9),
        ("SampEn", t_s, nk_t_s, max_rel_diff(ours_s.values, ref_s), 1e-9),
    ]
    print(
        f"{'kernel':<14} {'ours wall':>10} {'ours cpu':>9} {'nk wall':>8} {'ratio':>7} "
        f"{'max rel diff':>13}   (seconds per 24 h day)"
    )
    for label, (ours_wall, ours_cpu), ref_t, diff, tol in rows:
        flag = "ok" if diff <= tol else f"EXCEEDS {tol:g}"
        print(
            f"{label:<14} {ours_wall * day:>10.4f} {ours_cpu * day:>9.4f} {ref_t * day:>8.3f} "
            f"{ref_t / ours_wall:>6.0f}x {diff:>13.2e} {flag}"
        )
    wall = t_f[0] + t_d[0] + t_s[0]
    cpu = t_f[1] + t_d[1] + t_s[1]
    nk_total = nk_t_f + nk_t_d + nk_t_s
    print(
        f"{'all three':<14} {wall * day:>10.4f} {cpu * day:>9.4f} {nk_total * day:>8.3f} "
        f"{nk_total / wall:>6.0f}x   ({rr_ms.size / wall:,.0f} beats/s wall)"
    )
    undefined = int(np.sum(~np.isfinite(ref_s)))
    print(f"SampEn undefined in nk (+-inf/NaN): {undefined} windows; ours NaN there with reason")


def run_sampen_scaling(repeat: int) -> None:
    """Sample entropy of one window of n beats: Somatrace vs nk.entropy_sample, n = 300 .. 100,000."""
    print(
        f"\n== SampEn scaling, one window of n beats (integer ms; grid up to "
        f"{SAMPEN_BITSET_MIN_TEMPLATES} templates, bit sets above)"
    )
    print(f"{'n beats':>8} {'ours cpu':>10} {'nk cpu':>10} {'ratio':>7} {'rel diff':>9}")
    for n in (100, 300, 1000, 1500, 2000, 3000, 10_000, 30_000, 100_000):
        x = np.round(simulate_rr(n * 0.92, seed=n, mean_hr_bpm=66.0))
        tol = 0.2 * np.std(x, ddof=1)
        ours_value = float(sampen_batch([x]).values[0])
        _, ours_cpu = best_of(repeat if n < 10_000 else 2, lambda x=x: sampen_batch([x]))
        nk_repeat = repeat if n < 10_000 else 1
        _, nk_cpu = best_of(
            nk_repeat,
            lambda x=x, tol=tol: nk.entropy_sample(x, delay=1, dimension=2, tolerance=tol),
        )
        ref = float(nk.entropy_sample(x, delay=1, dimension=2, tolerance=tol)[0])
        print(
            f"{x.size:>8} {ours_cpu * 1e3:>8.1f}ms {nk_cpu * 1e3:>8.1f}ms {nk_cpu / ours_cpu:>6.1f}x "
            f"{abs(ours_value - ref) / abs(ref):>9.1e}"
        )


def run_ecg() -> None:
    ecg = np.load(DATA / "polar_h10_ecg130hz.npz")
    stamps = ecg["t_offset_us"].astype(np.float64) / 1e6
    strap_rr = pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)
    rate = (stamps.size - 1) / stamps[-1]
    start = time.perf_counter()
    result = ecg_to_rr(ecg["ecg_uV"], rate, sample_times_s=stamps)
    elapsed = time.perf_counter() - start
    peaks = result.r_peak_times_s
    beats = np.cumsum(strap_rr) / 1000.0

    def nearest(shift: float) -> tuple[NDArray[np.int64], Array]:
        b = beats + shift
        idx = np.clip(np.searchsorted(peaks, b), 1, peaks.size - 1)
        j = np.where(np.abs(peaks[idx - 1] - b) < np.abs(peaks[idx] - b), idx - 1, idx)
        return j, np.abs(peaks[j] - b)

    shifts = np.arange(-5.0, 5.0, 0.005)
    shift = float(shifts[int(np.argmax([(nearest(s)[1] < 0.04).sum() for s in shifts]))])
    j, dist = nearest(shift)
    ok = dist < 0.04
    pair = ok[1:] & ok[:-1] & (np.diff(j) == 1)
    diff = (np.diff(peaks[j]) * 1000.0)[pair] - strap_rr[1:][pair]
    print(
        f"\n== ECG -> RR (Polar H10, {stamps[-1]:.0f} s at {rate:.2f} Hz): "
        f"{peaks.size} R peaks in {elapsed:.2f} s; strap {strap_rr.size} RR; "
        f"{int(pair.sum())} pairs aligned (shift {shift:+.3f} s)"
    )
    print(
        f"RR difference ECG - strap: median |d| {np.median(np.abs(diff)):.2f} ms, "
        f"mean d {np.mean(diff):+.2f} ms, within 10 ms {np.mean(np.abs(diff) <= 10):.1%}, "
        f"max |d| {np.max(np.abs(diff)):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timing repeats (best is shown)")
    parser.add_argument("--skip-ecg", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    real = np.tile(np.load(DATA / "pyhrv_SampleNNISeriesLong.npy").astype(np.float64), 24)
    run_recording("pyhrv 60-min NN tiled to 24 h (real)", real, args.repeat)
    simulated = simulate_rr(86_400.0, seed=4, mean_hr_bpm=70.0, start_hour_local=8.0)
    run_recording("analysis.simulate 24 h with sleep (uncleaned)", simulated, args.repeat)
    if not args.skip_scaling:
        run_sampen_scaling(args.repeat)
    if not args.skip_ecg:
        run_ecg()


if __name__ == "__main__":
    main()
