"""``somatrace analyze``: formats, --out, --window, --no-clean equal to neurokit2, --ecg, errors."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import COLUMNS, compute_windows, compute_windows_timed
from analysis.cli import AnalyzeUsageError
from analysis.ecg import ecg_to_rr
from analysis.rrfile import RRFileError
from analysis.simulate import simulate_rr
from somatrace.cli import app

DATA = Path(__file__).resolve().parents[2] / "data"
SOMATRACE = Path(sys.executable).with_name("somatrace")


def _nk_reference():
    """The neurokit2 reference helpers of tests/unit/analysis_windows (one definition)."""
    path = Path(__file__).resolve().parents[1] / "analysis_windows" / "conftest.py"
    spec = importlib.util.spec_from_file_location("analysis_windows_nkref", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _run(*args: str):
    return CliRunner().invoke(app, ["analyze", *args], catch_exceptions=True)


def _read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), float_precision="round_trip")


@pytest.fixture
def long_seconds_file(tmp_path):
    """pyhrv 60-min sample (BSD-3-Clause) as Kubios-style text in seconds with a header."""
    rr = np.load(DATA / "pyhrv_SampleNNISeriesLong.npy")
    path = tmp_path / "long.txt"
    path.write_text("RR (s)\n" + "\n".join(f"{v / 1000:.3f}" for v in rr) + "\n")
    return path, rr.astype(np.float64)


def test_csv_on_stdout_equals_compute_windows(long_seconds_file):
    path, rr = long_seconds_file
    result = _run(str(path))
    assert result.exit_code == 0, result.output
    frame = _read_csv(result.stdout)
    assert list(frame.columns) == list(COLUMNS)
    expected = compute_windows(rr)
    assert len(frame) == 12
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, rtol=1e-12)


def test_no_clean_equals_neurokit2_per_window(long_seconds_file):
    path, rr = long_seconds_file
    result = _run(str(path), "--no-clean")
    assert result.exit_code == 0, result.output
    frame = _read_csv(result.stdout)
    nkref = _nk_reference()
    compared = nkref.assert_matches_nk(frame, rr, np.cumsum(rr) / 1000.0, 300.0)
    assert compared >= 12 * 11


def test_json_and_window_option(long_seconds_file):
    path, rr = long_seconds_file
    result = _run(str(path), "--format", "json", "--window", "60")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(compute_windows(rr, window_s=60.0)) == 60
    assert list(records[0]) == list(COLUMNS)
    # 60 s windows cannot hold LF: JSON carries null, never a number, and quality says why.
    assert records[0]["lf_ms2"] is None
    assert "lf_ms2, lf_hf need >= 120 s" in records[0]["quality"]


def test_parquet_needs_out_and_round_trips(long_seconds_file, tmp_path):
    path, rr = long_seconds_file
    result = _run(str(path), "--format", "parquet")
    assert isinstance(result.exception, AnalyzeUsageError)
    out = tmp_path / "w.parquet"
    result = _run(str(path), "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    pd.testing.assert_frame_equal(pd.read_parquet(out), compute_windows(rr))


def test_csv_to_out_file(tmp_path):
    out = tmp_path / "w.csv"
    result = _run(str(DATA / "polar_h10_rr.csv"), "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = _read_csv(out.read_text())
    rr = pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)
    pd.testing.assert_frame_equal(frame, compute_windows(rr), check_dtype=False, rtol=1e-12)
    assert frame["artifact_share"].iloc[0] > 0  # the wearer's PVCs were corrected


def test_24_hour_file_gives_288_rows(tmp_path):
    rr = simulate_rr(86_400, seed=2024)
    path = tmp_path / "day.txt"
    path.write_text("\n".join(f"{v:.3f}" for v in rr) + "\n")
    result = _run(str(path))
    assert result.exit_code == 0, result.output
    frame = _read_csv(result.stdout)
    assert len(frame) == 288
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame["window_start_s"]) == [300.0 * k for k in range(288)]


def test_ecg_recording(tmp_path):
    npz = DATA / "polar_h10_ecg130hz.npz"
    result = _run("--ecg", str(npz))
    assert result.exit_code == 0, result.output
    frame = _read_csv(result.stdout)
    with np.load(npz) as data:
        ecg, offsets = data["ecg_uV"], data["t_offset_us"]
    rr = ecg_to_rr(ecg, 1e6 / float(np.median(np.diff(offsets))), sample_times_s=offsets / 1e6)
    expected = compute_windows_timed(rr.r_peak_times_s[1:], rr.rr_ms)
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, rtol=1e-12)
    assert len(frame) == 2  # about 10 minutes


def test_file_and_ecg_are_exclusive(tmp_path):
    result = _run(str(DATA / "polar_h10_rr.csv"), "--ecg", str(DATA / "polar_h10_ecg130hz.npz"))
    assert isinstance(result.exception, AnalyzeUsageError)
    assert isinstance(_run().exception, AnalyzeUsageError)


def test_bad_bytes_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"800\n810\n8\xff0\n")
    result = _run(str(path))
    assert isinstance(result.exception, RRFileError)
    assert result.exception.line == 3


def test_bad_file_one_line_error_and_nonzero_exit(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("RR (ms)\n800\n810\n8l0\n820\n")
    proc = subprocess.run(
        [str(SOMATRACE), "analyze", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "line 4" in lines[0] and "8l0" in lines[0]


def test_progress_bar_on_stderr(long_seconds_file):
    path, _ = long_seconds_file
    result = _run(str(path), "--progress")
    assert result.exit_code == 0, result.output
    assert "analyze" in result.stderr and "done" in result.stderr
    assert result.stdout.startswith("window_start_s,")
    quiet = _run(str(path), "--no-progress")
    assert quiet.stderr == ""


def test_resolution_option_sets_the_correction_floor(tmp_path):
    """A 1/128 s file: detected by default; --resolution-ms 0 gives neurokit2's thresholds."""
    from neurokit2.ecg.ecg_simulate import _ecg_simulate_rrprocess

    from analysis.simulate import beats_from_tachogram, round_beat_times

    rng = np.random.default_rng(1)
    tachogram = _ecg_simulate_rrprocess(hrmean=72, hrstd=1.0, sfrr=1, n=3600, rng=rng)
    _, rr = round_beat_times(beats_from_tachogram(tachogram), 1 / 128)  # RMSSD ~ 14 ms
    path = tmp_path / "at128.txt"
    path.write_text("\n".join(f"{v:.4f}" for v in rr) + "\n")
    detected = _read_csv(_run(str(path)).stdout)
    given = _read_csv(_run(str(path), "--resolution-ms", "7.8125").stdout)
    pd.testing.assert_frame_equal(detected, given)
    expected = compute_windows(rr, resolution_ms=0.0)
    plain = _read_csv(_run(str(path), "--resolution-ms", "0").stdout)
    np.testing.assert_allclose(plain["artifact_share"], expected["artifact_share"])
    assert plain["artifact_share"].sum() > detected["artifact_share"].sum()
    bad = _run(str(path), "--resolution-ms", "-1")
    assert isinstance(bad.exception, AnalyzeUsageError)
    assert "--resolution-ms" in str(bad.exception)
