"""Rolling order statistics of several pieces at once equal pandas bit for bit (what neurokit2 calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.rolling import rolling_quantiles, window_quantiles_at


def pieces(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [3, 50, 91, 92, 400, 7, 1000]
    return [np.round(np.abs(rng.normal(size=n)), 2) for n in sizes]  # rounding makes ties


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("window", "median"), [(91, False), (11, True), (11, False)])
def test_pieces_equal_pandas_per_piece(seed: int, window: int, median: bool) -> None:
    parts = pieces(seed)
    x = np.concatenate(parts)
    lengths = np.array([p.size for p in parts])
    stops = np.cumsum(lengths)
    starts = stops - lengths
    got = rolling_quantiles(x, window, (0.25, 0.75), starts=starts, stops=stops, median=median)
    for part, a, b in zip(parts, starts, stops, strict=True):
        frame = pd.DataFrame({"s": part}).rolling(window, center=True, min_periods=1)
        if median:
            np.testing.assert_array_equal(got[0][a:b], frame.median()["s"].to_numpy())
        else:
            for out, q in zip(got, (0.25, 0.75), strict=True):
                np.testing.assert_array_equal(out[a:b], frame.quantile(q)["s"].to_numpy())


def test_open_piece_ends_are_left_to_the_caller() -> None:
    x = np.arange(300, dtype=np.float64)
    starts, stops = np.array([0, 150]), np.array([150, 300])
    closed = rolling_quantiles(x, 91, (0.5,), starts=starts, stops=stops)[0]
    opened = rolling_quantiles(
        x, 91, (0.5,), starts=starts, stops=stops, closed_stop=np.array([False, True])
    )[0]
    # Away from the open end the values agree; near it the window reads the next piece.
    np.testing.assert_array_equal(opened[:105], closed[:105])
    assert opened[149] != closed[149]


def test_selected_windows_equal_pandas() -> None:
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=500), 1)
    ref = pd.DataFrame({"s": x}).rolling(91, center=True, min_periods=1)
    q1, q3 = ref.quantile(0.25)["s"].to_numpy(), ref.quantile(0.75)["s"].to_numpy()
    pos = np.array([0, 10, 44, 45, 46, 200, 454, 455, 499])
    lo = np.maximum(pos - 45, 0)
    hi = np.minimum(pos + 46, x.size)
    a, b = window_quantiles_at(x, lo, hi, (0.25, 0.75))
    np.testing.assert_array_equal(a, q1[pos])
    np.testing.assert_array_equal(b, q3[pos])
    (med,) = window_quantiles_at(x, lo, hi, (), median=True)
    np.testing.assert_array_equal(med, ref.median()["s"].to_numpy()[pos])
