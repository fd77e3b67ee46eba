"""Somatrace analysis: pure HRV computation, RR arrays in, typed results out (no I/O, no DB)."""

from analysis.clean import CleanResult, clean_rr
from analysis.errors import AnalysisError
from analysis.quality import split_quality
from analysis.windows import COLUMNS, compute_windows, compute_windows_timed

__all__: list[str] = [
    "COLUMNS",
    "AnalysisError",
    "CleanResult",
    "clean_rr",
    "compute_windows",
    "compute_windows_timed",
    "split_quality",
]
