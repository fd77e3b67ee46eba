"""Gap-aware markers: LF/HF from one gap-free stretch, DFA and SampEn never across a gap."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from analysis import compute_windows_timed, split_quality
from analysis.nonlinear import DFA_ALPHA1_SCALES, dfa_alpha1_stretches, sampen_stretches
from analysis.simulate import simulate_rr


def holed(hole: tuple[float, float], seed: int = 41) -> tuple[np.ndarray, np.ndarray]:
    """Ten minutes of clean RR (whole ms) with the beats of ``hole`` (s) lost."""
    rr = np.round(simulate_rr(600, seed=seed, ectopic_rate=0.0, missed_rate=0.0))
    t = np.cumsum(rr) / 1000.0
    keep = (t < hole[0]) | (t >= hole[1])
    return t[keep], rr[keep]


def nk_lf_hf(rr: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_frequency({"RRI": rr, "RRI_Time": t}, interpolation_rate=4, normalize=False)
    return float(out["HRV_LF"][0]), float(out["HRV_HF"][0]), float(out["HRV_LFHF"][0])


def test_spectrum_comes_from_the_longest_gap_free_stretch() -> None:
    t, rr = holed((40.0, 140.0))  # window 0: 40 s, a 100 s hole, 160 s
    row = compute_windows_timed(t, rr, clean=False).iloc[0]
    sel = (t >= 140.0) & (t < 300.0)
    lf, hf, lf_hf = nk_lf_hf(rr[sel], t[sel])
    assert row["lf_ms2"] == pytest.approx(lf, rel=1e-6)
    assert row["hf_ms2"] == pytest.approx(hf, rel=1e-6)
    assert row["lf_hf"] == pytest.approx(lf_hf, rel=1e-6)
    grade, reasons = split_quality(row["quality"])
    assert grade == "fair"
    assert any(
        r.startswith("lf_ms2, hf_ms2, lf_hf from the longest gap-free stretch (") for r in reasons
    )
    # A spline across the hole would have invented 100 s of beats: neurokit2 on the whole window.
    whole = t < 300.0
    bridged = nk_lf_hf(rr[whole], t[whole])
    assert abs(bridged[2] / lf_hf - 1) > 0.05


def test_stretches_too_short_for_lf_leave_it_nan_with_the_reason() -> None:
    t, rr = holed((100.0, 200.0))  # two stretches of ~100 s: HF yes, LF no
    row = compute_windows_timed(t, rr, clean=False).iloc[0]
    assert np.isnan(row["lf_ms2"]) and np.isnan(row["lf_hf"])
    assert np.isfinite(row["hf_ms2"])
    _, reasons = split_quality(row["quality"])
    assert any(
        r.startswith("lf_ms2, lf_hf longest gap-free stretch ") and r.endswith("< 120 s")
        for r in reasons
    )
    t, rr = holed((25.0, 255.0))  # 25 s and 45 s: no HF either
    row = compute_windows_timed(t, rr, clean=False).iloc[0]
    assert np.isnan(row["hf_ms2"])
    assert "longest gap-free stretch" in row["quality"]


def manual_dfa(stretches: list[np.ndarray]) -> float:
    """α1 with boxes of every stretch pooled (the definition, written out)."""
    log_f = []
    for scale in DFA_ALPHA1_SCALES:
        variances = []
        for x in stretches:
            if x.size < 12:
                continue
            y = np.cumsum(x - x.mean())
            for start in range(0, x.size - scale, scale // 2):
                box = y[start : start + scale]
                k = np.arange(scale)
                fit = np.polyval(np.polyfit(k, box, 1), k)
                v = np.mean((box - fit) ** 2)
                if v > 1e-8:
                    variances.append(v)
        log_f.append(np.log2(np.sqrt(np.mean(variances))))
    return float(np.polyfit(np.log2(DFA_ALPHA1_SCALES), log_f, 1)[0])


def manual_sampen(stretches: list[np.ndarray]) -> float:
    """SampEn (m = 2, r = 0.2 SD of all beats) over templates of every stretch, brute force."""
    x = np.concatenate(stretches)
    r = 0.2 * np.std(x, ddof=1)
    t2 = np.array([s[i : i + 2] for s in stretches for i in range(s.size - 2)])
    t3 = np.array([s[i : i + 3] for s in stretches for i in range(s.size - 2)])
    counts = []
    for templates in (t2, t3):
        d = np.max(np.abs(templates[:, None, :] - templates[None, :, :]), axis=2)
        counts.append((np.count_nonzero(d <= r) - len(templates)) / 2)
    return float(-np.log(counts[1] / counts[0]))


def test_dfa_and_sampen_pool_stretches_without_spanning_the_gap() -> None:
    t, rr = holed((100.0, 130.0))
    row = compute_windows_timed(t, rr, clean=False).iloc[0]
    sel = t < 300.0
    first, second = rr[sel & (t < 100.0)], rr[sel & (t >= 130.0)]
    assert row["dfa_alpha1"] == pytest.approx(manual_dfa([first, second]), rel=1e-9)
    assert row["sampen"] == pytest.approx(manual_sampen([first, second]), rel=1e-9)
    _, reasons = split_quality(row["quality"])
    assert "dfa_alpha1, sampen pooled over 2 gap-free stretches" in reasons
    # Across the gap (the old behaviour) the values differ.
    joined = np.concatenate((first, second))
    assert row["dfa_alpha1"] != pytest.approx(manual_dfa([joined]), rel=1e-6)


def test_stretch_kernels_on_one_stretch_equal_their_window_versions() -> None:
    x = np.round(simulate_rr(900, seed=5))
    starts = np.array([0, 400, 700])
    lengths = np.array([400, 300, x.size - 700])
    owner = np.array([0, 1, 2])
    dfa = dfa_alpha1_stretches(x, starts, lengths, owner, 3)
    sampen = sampen_stretches(x, starts, lengths, owner, 3)
    for k, (a, n) in enumerate(zip(starts, lengths, strict=True)):
        assert dfa.values[k] == pytest.approx(manual_dfa([x[a : a + n]]), rel=1e-9)
        assert sampen.values[k] == pytest.approx(manual_sampen([x[a : a + n]]), rel=1e-9)


def test_too_few_beats_in_usable_stretches_is_nan_with_reason() -> None:
    x = np.round(simulate_rr(60, seed=9))
    starts = np.array([0, 8, 16])
    lengths = np.array([8, 8, 8])  # three stretches, none long enough for a DFA box set
    batch = dfa_alpha1_stretches(x, starts, lengths, np.zeros(3, dtype=np.int64), 1)
    assert np.isnan(batch.values[0])
    assert batch.reasons[0] == "dfa_alpha1: needs >= 12 beats in gap-free stretches, got 0 of 24"
