"""The RR file parser: Kubios-style text (s or ms, header allowed) and CSV with rr_ms; line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.rrfile import RRFileError, parse_rr_text

DATA = Path(__file__).resolve().parents[2] / "data"


def test_milliseconds_one_per_line():
    series = parse_rr_text("812\n790.5\n\n805\n")
    np.testing.assert_array_equal(series.rr_ms, [812.0, 790.5, 805.0])
    assert (series.unit, series.kind, series.header) == ("ms", "text", None)
    np.testing.assert_array_equal(series.lines, [1, 2, 4])


def test_seconds_detected_and_header_allowed():
    series = parse_rr_text("RR interval (s)\n0.812\n0.790\r\n0.805\n")
    np.testing.assert_allclose(series.rr_ms, [812.0, 790.0, 805.0], rtol=1e-12)
    assert series.unit == "s"
    assert series.header == "RR interval (s)"


def test_comments_and_surrounding_spaces_are_ignored():
    series = parse_rr_text("# exported by a tool\n  800 \n\t810\n# end\n")
    np.testing.assert_array_equal(series.rr_ms, [800.0, 810.0])


def test_polar_csv_reads_rr_ms_column():
    text = (DATA / "polar_h10_rr.csv").read_text()
    series = parse_rr_text(text)
    assert series.kind == "csv"
    assert series.rr_ms.size == 798
    np.testing.assert_array_equal(series.rr_ms[:3], [421.0, 379.0, 1073.0])  # a PVC pattern


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_separators_and_quoted_header(sep):
    text = sep.join(['"time_s"', '"RR_ms"']) + "\n" + f"0.8{sep}800\n1.61{sep}810\n"
    series = parse_rr_text(text)
    np.testing.assert_array_equal(series.rr_ms, [800.0, 810.0])
    np.testing.assert_array_equal(series.lines, [2, 3])


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("800\n810\nabc\n", 3, "cannot read 'abc'"),
        ("800\n-5\n", 2, "positive"),
        ("800\n0\n", 2, "positive"),
        ("800\nnan\n", 2, "positive finite"),
        ("800\ninf\n", 2, "positive finite"),
        ("800\n810 820\n", 2, "one RR value per line"),
        ("800\n810,820\n", 2, "one RR value per line"),
        ("RR\nms\n800\n", 2, "cannot read 'ms'"),
        ("t,rr\n1,800\n", 1, "no 'rr_ms' column"),
        ("t,rr_ms\n1,800\n2\n", 3, "rr_ms' is column 2"),
        ("t,rr_ms\n1,800\n2,\n", 3, "cannot read ''"),
        ("t,rr_ms\n1,0.8\n2,0.81\n", 1, "look like seconds"),
        ("RR (ms)\n", 1, "no RR values found after the header"),
        ("rr_ms,t\n", 1, "header but no rows"),
        ("--\n800\n", 1, "cannot read '--'"),
    ],
)
def test_bad_files_name_the_line(text, line, fragment):
    with pytest.raises(RRFileError) as info:
        parse_rr_text(text)
    assert info.value.line == line
    assert info.value.fields["line"] == line
    assert str(info.value).startswith(f"line {line}: ")
    assert fragment in str(info.value)
    assert isinstance(info.value, AnalysisError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text):
    with pytest.raises(RRFileError, match="empty") as info:
        parse_rr_text(text)
    assert info.value.line == 0
