"""Somatrace analysis: pure HRV computation, RR arrays in, typed results out (no I/O, no DB).

The public names load on first use, so importing ``analysis.errors`` (e.g. by the CLI) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.clean import CleanResult, clean_rr
    from analysis.errors import AnalysisError
    from analysis.quality import split_quality
    from analysis.trends import (
        compute_trends,
        daily_trend,
        daily_values,
        session_report,
        session_verdicts,
    )
    from analysis.windows import COLUMNS, compute_windows, compute_windows_timed

_EXPORTS: dict[str, str] = {
    "COLUMNS": "analysis.windows",
    "AnalysisError": "analysis.errors",
    "CleanResult": "analysis.clean",
    "clean_rr": "analysis.clean",
    "compute_windows": "analysis.windows",
    "compute_windows_timed": "analysis.windows",
    "split_quality": "analysis.quality",
    # trends and verdicts (analysis.trends is the façade)
    "compute_trends": "analysis.trends",
    "daily_trend": "analysis.trends",
    "daily_values": "analysis.trends",
    "session_report": "analysis.trends",
    "session_verdicts": "analysis.trends",
}

__all__: list[str] = [
    "COLUMNS",
    "AnalysisError",
    "CleanResult",
    "clean_rr",
    "compute_trends",
    "compute_windows",
    "compute_windows_timed",
    "daily_trend",
    "daily_values",
    "session_report",
    "session_verdicts",
    "split_quality",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
