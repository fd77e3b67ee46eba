"""Long simulated recordings for benchmarks and tests: strap ticks and gaps, ECGSYN beats, rounding."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.simulate import (
    SimulationError,
    beats_from_tachogram,
    round_beat_times,
    simulate_ecgsyn_beats,
    simulate_strap_recording,
)


def test_strap_recording_has_ticks_gaps_and_is_reproducible() -> None:
    t, rr = simulate_strap_recording(4 * 3600.0, seed=5, dropouts_per_hour=3.0)
    t2, rr2 = simulate_strap_recording(4 * 3600.0, seed=5, dropouts_per_hour=3.0)
    np.testing.assert_array_equal(rr, rr2)
    np.testing.assert_array_equal(t, t2)
    ticks = rr * 1.024
    np.testing.assert_array_equal(ticks, np.round(ticks))  # multiples of 1/1024 s
    gaps = np.diff(t) - rr[1:] / 1000.0
    assert 3 <= int((gaps > 1.5).sum()) <= 25  # about 3 contact losses an hour
    assert np.all(gaps > -1e-9)  # times never run backwards
    assert t[-1] <= 4 * 3600.0


def test_strap_recording_rejects_bad_parameters() -> None:
    with pytest.raises(SimulationError):
        simulate_strap_recording(0.0, seed=1)
    with pytest.raises(SimulationError):
        simulate_strap_recording(600.0, seed=1, extra_rate=0.9)
    with pytest.raises(SimulationError):
        simulate_strap_recording(600.0, seed=1, dropouts_per_hour=-1.0)
    with pytest.raises(SimulationError):
        simulate_strap_recording(600.0, seed=1, dropout_s=(5.0, 1.0))


def test_beats_follow_the_tachogram() -> None:
    beats = beats_from_tachogram(np.full(10, 0.8))
    np.testing.assert_allclose(np.diff(beats), 0.8)
    assert beats[0] == 0.0 and beats[-1] < 10.0
    with pytest.raises(SimulationError):
        beats_from_tachogram(np.array([0.8, -1.0]))


def test_rounding_beat_times_gives_differences_on_the_step() -> None:
    t, rr = round_beat_times(np.array([0.0, 0.81, 1.62, 2.41]), 1 / 128)
    np.testing.assert_allclose(rr / (1000 / 128), np.round(rr / (1000 / 128)))
    assert t.size == rr.size == 3
    with pytest.raises(SimulationError):
        round_beat_times(np.array([0.0, 1.0]), 0.0)


def test_ecgsyn_recording_is_neurokits_rr_model() -> None:
    beats = simulate_ecgsyn_beats(2.0, seed=4)
    rr = np.diff(beats) * 1000.0
    assert 650 < rr.mean() < 1100  # 52-80 bpm
    assert 5.0 < np.sqrt(np.mean(np.diff(rr) ** 2)) < 80.0
    np.testing.assert_array_equal(beats, simulate_ecgsyn_beats(2.0, seed=4))
    with pytest.raises(SimulationError):
        simulate_ecgsyn_beats(0.0, seed=1)
