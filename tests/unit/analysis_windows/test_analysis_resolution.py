"""The RR resolution is detected from the values: strap ticks, whole ms, coarse file lattices."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.clean import InvalidRRError, clean_rr
from analysis.resolution import detect_resolution_ms
from analysis.simulate import simulate_rr


def base(n: int = 2000, seed: int = 0) -> np.ndarray:
    return simulate_rr(n * 0.85, seed=seed)


@pytest.mark.parametrize(
    ("step", "rounded_to_ms", "expected"),
    [
        (1000 / 1024, False, 1000 / 1024),  # Bluetooth Heart Rate Measurement ticks
        (1.0, False, 1.0),  # a file in whole milliseconds (1/1000 s)
        (4.0, False, 4.0),  # 1/250 s
        (1000 / 128, False, 1000 / 128),  # 1/128 s, exact
        (1000 / 128, True, 1000 / 128),  # 1/128 s written as whole ms: 742, 750, 758 ...
        (1000 / 256, True, 1000 / 256),
        (2.0, False, 2.0),
        (8.0, False, 8.0),
    ],
)
def test_known_lattices(step: float, rounded_to_ms: bool, expected: float) -> None:
    rr = np.round(base() / step) * step
    if rounded_to_ms:
        rr = np.round(rr)
    assert detect_resolution_ms(rr) == pytest.approx(expected)


def test_continuous_values_have_no_resolution() -> None:
    assert detect_resolution_ms(base()) == 0.0


def test_a_few_corrected_values_do_not_hide_the_lattice() -> None:
    rr = np.round(base() * 1.024) / 1.024
    rr[::150] += 0.3  # < 1 % off the lattice (e.g. interpolated by a correction)
    assert detect_resolution_ms(rr) == pytest.approx(1000 / 1024)


def test_short_series_only_recognise_fine_lattices() -> None:
    rr = np.array([800.0, 808.0, 816.0, 824.0])  # multiples of 8 ms by chance
    assert detect_resolution_ms(rr) == 1.0
    assert detect_resolution_ms([]) == 0.0
    assert detect_resolution_ms([5000.0, 100.0]) == 0.0  # out of range values are ignored


def test_clean_reports_and_accepts_the_resolution() -> None:
    rr = np.round(base() * 1.024) / 1.024
    assert clean_rr(rr).resolution_ms == pytest.approx(1000 / 1024)
    assert clean_rr(rr, resolution_ms=4.0).resolution_ms == 4.0
    with pytest.raises(InvalidRRError, match="resolution_ms"):
        clean_rr(rr, resolution_ms=-1.0)
    with pytest.raises(InvalidRRError, match="resolution_ms"):
        clean_rr(rr, resolution_ms=float("nan"))
