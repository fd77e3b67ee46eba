"""Calibration of the session verdicts and the normal band on simulated patients (issue 10).

Runs ``analysis.calibration.run_cell`` (which judges each simulated patient with
``analysis.verdicts.judge_sessions`` and ``analysis.band.daily_trend``, exactly as the API does)
over the grid ρ ∈ {0, 0.3, 0.5, 0.7} × day-to-day CV {5 %, 10 %} × missing days {0 %, 20 %} ×
drift {no, +0.005/day} × baseline {14, 28, 60} days. Per condition it simulates one null cell
(no session effect) and, for power, three cells with +0.3 ln RMSSD in one period only. It prints

* null cells: family-wise false-positive rate (± Monte-Carlo SE), per-period false-positive rate,
  interval coverage of 0, mean REML ρ̂, and the share of complete post-session days whose 7-day
  mean the badge puts outside the band;
* power cells: the share of patients whose changed period is flagged, the coverage of the true
  change, the mean minimal detectable change and the share of periods that got a verdict;

then a summary: worst family-wise rate, the null cells above 5 % beyond Monte-Carlo error
(one-sided 99 %), worst badge rate. Over ~100 null cells a cell at a true 5 % crosses that bound
now and then by chance, so a cell above it is simulated again with ``--confirm`` fresh patients
(4,000) and judged on the pooled counts. The exit status is 1 when a null cell still fails.

    nice -n 10 python benchmarks/trends_calibration.py [--quick] [--null 1000] [--power 1000]
        [--processes 2] [--rho-rule bootstrap|plugin|upper] [--section all|grid|minimum]

The grid is followed by cells at the minimum the defaults allow (a baseline of exactly
``BASELINE_MIN_DAYS`` counted days, none missing; periods at their minimum occur in the
missing-day cells). ``--quick`` runs a smaller grid (ρ 0 and 0.7, CV 10 %, baselines 14 and 60)
with fewer patients; ``--section grid|minimum`` runs one part.
At most two worker processes (the machine is shared); each uses one BLAS thread.
"""

# ruff: noqa: E402 - thread limits and sys.path must be set before NumPy and analysis load.
from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import itertools
import math
import multiprocessing
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analysis.band import BAND_LEVEL, BASELINE_MIN_DAYS
from analysis.calibration import DRIFT_PER_DAY, EFFECT_LN_RMSSD, Cell, CellResult, run_cell
from analysis.verdicts import (
    BOOTSTRAP_REPLICATES,
    FAMILY_ALPHA,
    FAMILY_METHOD,
    PERIOD_MIN_DAYS,
    PERIOD_MIN_SHARE,
    PERIODS,
    RhoRule,
)

RHOS = (0.0, 0.3, 0.5, 0.7)
CVS = (0.05, 0.10)
MISSING = (0.0, 0.2)
DRIFTS = (False, True)
BASELINES = (14, 28, 60)
QUICK_RHOS = (0.0, 0.7)
QUICK_CVS = (0.10,)
QUICK_BASELINES = (14, 60)
#: Patients per task sent to a worker process.
CHUNK = 250
#: One-sided z of the Monte-Carlo allowance (99 %).
Z_MC = 2.33
#: A stable person's badge may leave the band on at most this share of days.
BADGE_LIMIT = 0.10
PERIOD_NAMES = tuple(p[0] for p in PERIODS)


@dataclass(frozen=True)
class Task:
    cell: Cell
    n: int
    entropy: tuple[int, ...]
    rho_rule: RhoRule
    badge: int


def _run(task: Task) -> CellResult:
    return run_cell(
        task.cell,
        task.n,
        seed=task.entropy,
        rho_rule=task.rho_rule,
        badge_patients=task.badge,
    )


def conditions(quick: bool, section: str = "all") -> list[tuple[float, float, float, bool, int]]:
    """The grid, and the cells at the minimum the defaults allow: a baseline of exactly
    :data:`analysis.band.BASELINE_MIN_DAYS` days with none missing."""
    rhos, cvs, base = (QUICK_RHOS, QUICK_CVS, QUICK_BASELINES) if quick else (RHOS, CVS, BASELINES)
    grid = list(itertools.product(rhos, cvs, MISSING, DRIFTS, base))
    minimum = list(itertools.product(rhos, cvs, (0.0,), DRIFTS, (BASELINE_MIN_DAYS,)))
    return {"grid": grid, "minimum": minimum, "all": grid + minimum}[section]


def tasks(
    quick: bool,
    n_null: int,
    n_power: int,
    n_badge: int,
    rho_rule: RhoRule,
    seed: int,
    section: str = "all",
) -> Iterator[tuple[Cell, Task]]:
    for rho, cv, miss, drift, base in conditions(quick, section):
        # a condition's seed is its own, whichever cells run beside it
        k = (round(rho * 10), round(cv * 100), round(miss * 100), int(drift), base)
        cells = [(Cell(rho, cv, miss, drift, base), n_null, n_badge)]
        cells += [
            (Cell(rho, cv, miss, drift, base, effect_in=name), n_power, 0)  # type: ignore[arg-type]
            for name in PERIOD_NAMES
        ]
        for j, (cell, n, badge) in enumerate(cells):
            for c, start in enumerate(range(0, n, CHUNK)):
                size = min(CHUNK, n - start)
                judged = max(0, min(size, badge - start))
                yield cell, Task(cell, size, (seed, *k, j, c), rho_rule, judged)


def fwer_limit(n: int) -> float:
    return FAMILY_ALPHA + Z_MC * math.sqrt(FAMILY_ALPHA * (1 - FAMILY_ALPHA) / n)


def badge_limit(n_patients: int) -> float:
    return BADGE_LIMIT + Z_MC * math.sqrt(BADGE_LIMIT * (1 - BADGE_LIMIT) / max(n_patients, 1))


def pct(x: float, width: int = 5) -> str:
    return f"{x * 100:{width}.1f}" if math.isfinite(x) else " " * (width - 1) + "–"


def cond_label(cell: Cell) -> str:
    return (
        f"{cell.rho:3.1f} {cell.cv * 100:3.0f}% {cell.missing * 100:3.0f}% "
        f"{'yes' if cell.drift else ' no'} {cell.baseline_days:4d}"
    )


COND_HEAD = "  ρ   CV miss drft base"


def print_null(results: list[CellResult]) -> None:
    print("\nNull cells (no session effect): rates in %")
    print(
        f"{COND_HEAD} |     n  FWER ±MCSE | FPR d1-3 d4-14 d15-28 | cover d1-3 d4-14 d15-28 "
        "|  ρ̂   | badge out"
    )
    for r in results:
        fpr = " ".join(pct(r.flag_rate(k), w) for k, w in zip(range(3), (8, 6, 7), strict=True))
        cov = " ".join(pct(r.coverage(k), w) for k, w in zip(range(3), (10, 6, 7), strict=True))
        mark = " !" if r.fwer > fwer_limit(r.n_patients) else "  "
        print(
            f"{cond_label(r.cell)} | {r.n_patients:5d} {pct(r.fwer)} {pct(r.fwer_mc_se(), 4)}{mark}"
            f"|{fpr} |{cov} | {r.rho_hat:4.2f} | {pct(r.badge_rate, 8)}"
        )


def print_power(results: dict[tuple[float, float, float, bool, int], list[CellResult]]) -> None:
    print(
        f"\nPower cells (+{EFFECT_LN_RMSSD} ln RMSSD in one period only): power, coverage of the "
        "true change and verdict share in %, mean MDC in ln ms"
    )
    print(
        f"{COND_HEAD} |     n | power d1-3 d4-14 d15-28 | cover d1-3 d4-14 d15-28 "
        "| MDC d1-3 d4-14 d15-28 | verdict d1-3 d4-14 d15-28"
    )
    for rs in results.values():
        # the power cell with the change in period k gives that period's figures
        each = list(zip(range(3), rs, strict=True))
        power = " ".join(pct(r.flag_rate(k), w) for (k, r), w in zip(each, (10, 6, 7), strict=True))
        cov = " ".join(pct(r.coverage(k), w) for (k, r), w in zip(each, (10, 6, 7), strict=True))
        mdc = " ".join(
            f"{r.mdc(k):{w}.2f}" if math.isfinite(r.mdc(k)) else " " * (w - 1) + "–"
            for (k, r), w in zip(each, (8, 6, 7), strict=True)
        )
        share = " ".join(
            pct(r.verdict_share(k), w) for (k, r), w in zip(each, (12, 6, 7), strict=True)
        )
        print(
            f"{cond_label(rs[0].cell)} | {min(r.n_patients for r in rs):5d} |{power} |{cov} "
            f"|{mdc} |{share}"
        )


def summary(
    null: list[CellResult],
    power: dict[object, list[CellResult]],
    confirmed: dict[Cell, CellResult] | None = None,
) -> bool:
    """Print the summary; ``confirmed`` holds the pooled counts of the cells re-simulated because
    their first 1,000 patients were above the limit (see :func:`confirm`)."""
    confirmed = confirmed or {}
    worst = max(null, key=lambda r: r.fwer)
    first_stage = [r for r in null if r.fwer > fwer_limit(r.n_patients)]
    failing = [confirmed.get(r.cell, r) for r in first_stage]
    failing = [r for r in failing if r.fwer > fwer_limit(r.n_patients)]
    stable = [r for r in null if not r.cell.drift]
    drifting = [r for r in null if r.cell.drift]
    worst_badge = max(stable, key=lambda r: r.badge_rate)
    badge_fail = [r for r in stable if r.badge_rate > badge_limit(r.badge_patients)]
    per_period = [max(r.flag_rate(k) for r in null) for k in range(3)]
    coverage = [min(r.coverage(k) for r in null) for k in range(3)]
    print("\nSummary")
    print(
        f"  family-wise false positives: worst {worst.fwer:.1%} ± {worst.fwer_mc_se():.1%} "
        f"({worst.cell.label()}); mean {np.mean([r.fwer for r in null]):.1%} over "
        f"{len(null)} null cells; limit {FAMILY_ALPHA:.0%} + {Z_MC} MC SE"
    )
    print(
        "  per-period false positives, worst cell: "
        + ", ".join(f"{n} {x:.1%}" for n, x in zip(PERIOD_NAMES, per_period, strict=True))
    )
    print(
        "  null coverage of 0, worst cell: "
        + ", ".join(f"{n} {x:.1%}" for n, x in zip(PERIOD_NAMES, coverage, strict=True))
    )
    print(
        f"  null cells above the limit: {len(first_stage)} at first, {len(failing)} after "
        "re-simulating them with fresh patients (pooled counts)"
    )
    for r in first_stage:
        pooled = confirmed.get(r.cell)
        again = (
            f"; pooled with {pooled.n_patients - r.n_patients} fresh patients "
            f"{pooled.fwer:.1%} (limit {fwer_limit(pooled.n_patients):.1%}): "
            f"{'still above' if pooled.fwer > fwer_limit(pooled.n_patients) else 'holds'}"
            if pooled is not None
            else ""
        )
        print(f"    {r.cell.label()}: {r.fwer:.1%} > {fwer_limit(r.n_patients):.1%}{again}")
    print(
        f"  badge outside the {BAND_LEVEL:.0%} band (stable null cells): worst "
        f"{worst_badge.badge_rate:.1%} ({worst_badge.cell.label()}), mean "
        f"{np.mean([r.badge_rate for r in stable]):.1%}; limit {BADGE_LIMIT:.0%}; above: "
        f"{len(badge_fail)}"
    )
    if drifting:
        print(
            f"  with a drift of +{DRIFT_PER_DAY}/day the level really leaves the baseline: badge "
            f"outside on {np.mean([r.badge_rate for r in drifting]):.1%} of days (mean), worst "
            f"{max(r.badge_rate for r in drifting):.1%}"
        )
    for k, name in enumerate(PERIOD_NAMES):
        pw = [rs[k].flag_rate(k) for rs in power.values()]
        md = [rs[k].mdc(k) for rs in power.values()]
        print(
            f"  power for +{EFFECT_LN_RMSSD} in {name}: median {np.median(pw):.0%} "
            f"(range {min(pw):.0%}–{max(pw):.0%}); mean MDC median {np.nanmedian(md):.2f} ln ms "
            f"(range {np.nanmin(md):.2f}–{np.nanmax(md):.2f})"
        )
    ok = not failing and not badge_fail
    print(f"  calibration {'holds' if ok else 'FAILS'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grid, fewer patients")
    parser.add_argument("--null", type=int, default=None, help="patients per null cell (1000)")
    parser.add_argument("--power", type=int, default=None, help="patients per power cell (1000)")
    parser.add_argument(
        "--badge", type=int, default=None, help="null patients per cell whose badge is judged (300)"
    )
    parser.add_argument("--processes", type=int, default=2, help="worker processes (at most 2)")
    parser.add_argument("--rho-rule", default="bootstrap", choices=("bootstrap", "plugin", "upper"))
    parser.add_argument("--seed", type=int, default=20261)
    parser.add_argument(
        "--confirm",
        type=int,
        default=4000,
        help="fresh patients for a null cell above the limit (pooled; 0: none)",
    )
    parser.add_argument(
        "--section",
        default="all",
        choices=("all", "grid", "minimum"),
        help="the grid, the cells at the minimum baseline the defaults allow, or both",
    )
    args = parser.parse_args()
    n_null = args.null if args.null is not None else (300 if args.quick else 1000)
    n_power = args.power if args.power is not None else (200 if args.quick else 1000)
    n_badge = min(n_null, args.badge if args.badge is not None else (100 if args.quick else 300))
    processes = max(1, min(2, args.processes))
    rule: RhoRule = args.rho_rule
    print(
        f"Session-verdict calibration ({'quick' if args.quick else 'full'} grid, "
        f"section {args.section}), rule {rule!r}: "
        f"{FAMILY_METHOD}, family-wise α {FAMILY_ALPHA:.0%}, {BOOTSTRAP_REPLICATES} bootstrap "
        f"refits; needs {BASELINE_MIN_DAYS} baseline days and max({PERIOD_MIN_DAYS}, "
        f"{PERIOD_MIN_SHARE:.0%}) of a period's days"
    )
    print(
        f"{n_null} patients per null cell ({n_badge} of them with the badge judged on each of "
        f"days 1-28), {n_power} per power cell; {processes} process(es); "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    jobs = list(tasks(args.quick, n_null, n_power, n_badge, rule, args.seed, args.section))
    merged: dict[Cell, CellResult] = {}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        results = pool.imap(_run, [t for _, t in jobs])
        for k, ((cell, _), res) in enumerate(zip(jobs, results, strict=True), start=1):
            merged[cell] = merged[cell].merge(res) if cell in merged else res
            if k % 20 == 0 or k == len(jobs):
                print(
                    f"  {k}/{len(jobs)} tasks, {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    elapsed = time.perf_counter() - started
    null = [r for c, r in merged.items() if c.is_null]
    power: dict[object, list[CellResult]] = {}
    for c, r in merged.items():
        if not c.is_null:
            power.setdefault((c.rho, c.cv, c.missing, c.drift, c.baseline_days), []).append(r)
    for rs in power.values():
        rs.sort(key=lambda r: PERIOD_NAMES.index(r.cell.effect_in))
    print_null(null)
    print_power(power)  # type: ignore[arg-type]
    confirmed: dict[Cell, CellResult] = {}
    above = [r for r in null if r.fwer > fwer_limit(r.n_patients)]
    if above and args.confirm > 0:
        # With ~100 null cells, a cell whose true rate is at 5 % exceeds the one-sided 99 % bound
        # now and then by chance; such a cell is simulated again with fresh patients and judged
        # on the pooled counts (a two-stage Monte-Carlo test), which a really inflated rate fails.
        again = [
            Task(r.cell, min(CHUNK, args.confirm - start), (args.seed, 99, k, c), rule, 0)
            for k, r in enumerate(above)
            for c, start in enumerate(range(0, args.confirm, CHUNK))
        ]
        with ctx.Pool(processes) as pool:
            for task, res in zip(again, pool.imap(_run, again), strict=True):
                base = confirmed.get(task.cell, merged[task.cell])
                confirmed[task.cell] = base.merge(res)
    ok = summary(null, power, confirmed)
    patients = sum(r.n_patients for r in merged.values())
    print(
        f"\n{patients} simulated patients in {elapsed:.0f} s "
        f"({elapsed / patients * processes * 1000:.1f} ms per patient per process); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
