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
    from analysis.windows import COLUMNS, compute_windows, compute_windows_timed

_EXPORTS: dict[str, str] = {
    "COLUMNS": "analysis.windows",
    "AnalysisError": "analysis.errors",
    "CleanResult": "analysis.clean",
    "clean_rr": "analysis.clean",
    "compute_windows": "analysis.windows",
    "compute_windows_timed": "analysis.windows",
    "split_quality": "analysis.quality",
}

__all__: list[str] = [
    "COLUMNS",
    "AnalysisError",
    "CleanResult",
    "clean_rr",
    "compute_windows",
    "compute_windows_timed",
    "split_quality",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
