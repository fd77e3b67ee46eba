"""Property tests: on arbitrary RR windows the batched kernels equal neurokit2 or say why not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.frequency import frequency_markers
from analysis.nonlinear import dfa_alpha1_batch, sampen_batch

rr_windows = st.lists(
    st.lists(st.integers(300, 2000), min_size=3, max_size=160).map(
        lambda v: np.asarray(v, dtype=np.float64)
    ),
    min_size=1,
    max_size=4,
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(windows=rr_windows, epoch=st.sampled_from([0.0, 1.7e9]))
def test_frequency_equals_nk_on_arbitrary_windows(kref, windows, epoch):
    times = [np.cumsum(nn) / 1000.0 + epoch for nn in windows]
    result = frequency_markers(windows, times)
    for k, (nn, t) in enumerate(zip(windows, times, strict=True)):
        if nn.min() == nn.max():
            assert np.isnan(result.hf_ms2[k])  # constant: NaN, not nk's rounding noise
            continue
        expected = kref.nk_frequency(nn, t)
        got = (result.lf_ms2[k], result.hf_ms2[k], result.lf_hf[k])
        for e, g in zip(expected, got, strict=True):
            if np.isnan(e):
                assert np.isnan(g) and result.reasons[k]
            else:
                assert g == pytest.approx(e, rel=1e-6)


@SETTINGS
@given(windows=rr_windows)
def test_dfa_and_sampen_equal_nk_on_arbitrary_windows(kref, windows):
    dfa = dfa_alpha1_batch(windows)
    sampen = sampen_batch(windows)
    for k, nn in enumerate(windows):
        for batch, expected in ((dfa, kref.nk_dfa_alpha1(nn)), (sampen, kref.nk_sampen(nn))):
            if np.isfinite(expected):
                assert batch.values[k] == pytest.approx(expected, rel=1e-9, abs=1e-13)
            else:
                assert np.isnan(batch.values[k]) and batch.reasons[k] is not None
