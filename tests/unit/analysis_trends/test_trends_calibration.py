"""Seeded calibration check of the session verdicts and the band (a small grid of the benchmark's).

Fails when the family-wise false-positive rate of a null cell exceeds 5 % by more than its
Monte-Carlo error (one-sided 99 %), or a stable person's badge leaves the band on more than 10 % of
days beyond it (stable cells; a drift really moves the level away from the baseline).
``benchmarks/trends_calibration.py`` runs the full grid with >= 1,000 patients per cell. The cells
are the hardest of that grid: the strongest day-to-day autocorrelation with the shortest baseline
and missing days (where a plug-in ρ fails), and a drift with a long baseline at low day-to-day
variation (where a model without a slow trend fails: 57 % family-wise when tried). Without Holm's
adjustment the first cell fails too. The last tests show that this check fails a rule that is not
calibrated (t intervals at the plug-in ρ) and a model without the slow trend.
"""

from __future__ import annotations

import math

import pytest

from analysis.calibration import Cell, CellResult, run_cell
from analysis.verdicts import FAMILY_ALPHA

#: Patients per null cell: the Monte-Carlo SE of a 5 % rate is then 0.9 percentage points.
N_PATIENTS = 600
#: Patients whose badge is judged per cell (28 days each).
N_BADGE = 120
#: One-sided z of the Monte-Carlo allowance.
Z_MC = 2.33
#: Badge: share of days outside the band allowed for a stable person.
BADGE_LIMIT = 0.10

NULL_CELLS = (
    Cell(rho=0.7, cv=0.10, missing=0.2, drift=True, baseline_days=14),
    Cell(rho=0.5, cv=0.05, missing=0.2, drift=False, baseline_days=28),
    Cell(rho=0.7, cv=0.05, missing=0.2, drift=False, baseline_days=14),
    Cell(rho=0.3, cv=0.05, missing=0.2, drift=True, baseline_days=60),
)


def fwer_limit(n: int) -> float:
    """5 % plus the one-sided 99 % Monte-Carlo allowance for ``n`` patients."""
    return FAMILY_ALPHA + Z_MC * math.sqrt(FAMILY_ALPHA * (1 - FAMILY_ALPHA) / n)


def badge_limit(result: CellResult) -> float:
    # days of one patient are correlated: count patients, not days, for the allowance
    n = max(result.badge_patients, 1)
    return BADGE_LIMIT + Z_MC * math.sqrt(BADGE_LIMIT * (1 - BADGE_LIMIT) / n)


@pytest.mark.parametrize("cell", NULL_CELLS, ids=[c.label() for c in NULL_CELLS])
def test_family_wise_false_positives_stay_at_5_percent(cell: Cell) -> None:
    result = run_cell(
        cell,
        N_PATIENTS,
        seed=(2026, int(cell.rho * 10), cell.baseline_days, int(cell.drift)),
        badge_patients=N_BADGE,
    )
    assert result.n_patients == N_PATIENTS
    assert result.fwer <= fwer_limit(N_PATIENTS), (
        f"{cell.label()}: family-wise false positives {result.fwer:.1%} > {fwer_limit(N_PATIENTS):.1%}"
    )
    if not cell.drift:  # a drifting level really leaves the baseline's band: not a false alarm
        assert result.badge_rate <= badge_limit(result), (
            f"{cell.label()}: badge outside the band on {result.badge_rate:.1%} of days"
        )
    for k in range(3):  # the intervals of null patients hold 0 at least 95 % of the time
        assert result.coverage(k) >= 0.95 - Z_MC * math.sqrt(0.05 * 0.95 / result.verdicts[k])


def test_the_check_fails_a_rule_that_is_not_calibrated() -> None:
    cell = NULL_CELLS[0]
    plugin = run_cell(cell, N_PATIENTS, seed=(2026, 7, 14), rho_rule="plugin", badge_patients=0)
    assert plugin.fwer > fwer_limit(N_PATIENTS), f"plug-in ρ gave {plugin.fwer:.1%}"


def test_the_check_fails_a_model_without_the_slow_trend() -> None:
    cell = NULL_CELLS[3]
    flat = run_cell(cell, N_PATIENTS, seed=(2026, 3, 60), slow_trend=False, badge_patients=0)
    assert flat.fwer > fwer_limit(N_PATIENTS), f"no trend gave {flat.fwer:.1%}"
