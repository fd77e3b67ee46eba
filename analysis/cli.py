"""``somatrace analyze``: windowed HRV markers of an RR (or ECG) file, for researchers.

The only module of ``analysis`` that touches files: it reads, calls ``analysis.windows`` and writes
CSV, JSON or Parquet. Errors are typed (``AnalysisError``); ``somatrace.cli`` prints them as one line.
"""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from analysis.bounds import DEFAULT_WINDOW_S
from analysis.errors import AnalysisError
from analysis.rrfile import RRFileError, parse_rr_text

if (
    TYPE_CHECKING
):  # the numeric stack loads only when a command runs, keeping `somatrace --help` fast
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray


class OutputFormat(StrEnum):
    """Output formats of ``somatrace analyze``."""

    csv = "csv"
    json = "json"
    parquet = "parquet"


class AnalyzeUsageError(AnalysisError):
    """Inconsistent command-line options (e.g. Parquet to the terminal)."""


def _steps() -> tuple[str, ...]:
    from analysis.windows import STAGES

    return ("read", *STAGES, "write")


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to the root ``somatrace`` app."""
    app.command("analyze")(analyze)


def analyze(
    file: Path | None = typer.Argument(
        None,
        help="RR file: one RR per line (s or ms, detected; header allowed) or CSV with rr_ms.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    window: float = typer.Option(DEFAULT_WINDOW_S, "--window", help="Window length in seconds."),
    output_format: OutputFormat = typer.Option(OutputFormat.csv, "--format", help="Output format."),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of standard output."),
    no_clean: bool = typer.Option(False, "--no-clean", help="Skip artifact correction."),
    resolution_ms: float | None = typer.Option(
        None,
        "--resolution-ms",
        help=(
            "Time resolution of the RR values in ms (0.9765625 for a chest strap, 7.8125 for a "
            "128 Hz file); detected from the values when omitted. Sets the artifact-correction "
            "threshold floor; 0 turns it off."
        ),
    ),
    ecg: Path | None = typer.Option(
        None,
        "--ecg",
        help="Analyse an ECG recording (.npz with ecg_uV, t_offset_us) instead of an RR file.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar on stderr (default: when a terminal)."
    ),
) -> None:
    """Write HRV markers per window (one row per window, CSV on stdout by default)."""
    if (file is None) == (ecg is None):
        raise AnalyzeUsageError("give exactly one of FILE or --ecg FILE.npz")
    if output_format is OutputFormat.parquet and out is None:
        raise AnalyzeUsageError("--format parquet needs --out PATH (binary output)")
    if not (math.isfinite(window) and window > 0):
        raise AnalyzeUsageError(f"--window must be a positive number of seconds, got {window}")
    if resolution_ms is not None and not (math.isfinite(resolution_ms) and resolution_ms >= 0):
        raise AnalyzeUsageError(f"--resolution-ms must be a number of ms >= 0, got {resolution_ms}")
    from analysis.windows import compute_windows, compute_windows_timed

    show = sys.stderr.isatty() if progress is None else progress
    bar = _Bar(show)
    with bar:
        bar.step("read")
        if ecg is not None:
            beat_t_s, rr_ms = _read_ecg(ecg)
            frame = compute_windows_timed(
                beat_t_s,
                rr_ms,
                window,
                clean=not no_clean,
                progress=bar.step,
                resolution_ms=resolution_ms,
            )
        elif file is not None:
            series = parse_rr_text(_read_text(file))
            frame = compute_windows(
                series.rr_ms,
                window,
                clean=not no_clean,
                progress=bar.step,
                resolution_ms=resolution_ms,
            )
        bar.step("write")
        _write(frame, output_format, out)
        bar.finish()


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RRFileError(f"not UTF-8 text ({exc.reason})", line=line) from exc


def _read_ecg(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    import numpy as np

    from analysis.ecg import ecg_to_rr

    try:
        with np.load(path) as npz:
            ecg_uv = np.asarray(npz["ecg_uV"], dtype=np.float64)
            offsets_us = np.asarray(npz["t_offset_us"], dtype=np.float64)
    except KeyError as exc:
        raise RRFileError(f"{path.name} lacks array {exc}", line=0) from exc
    except (OSError, ValueError) as exc:
        raise RRFileError(f"{path.name} is not a readable .npz file: {exc}", line=0) from exc
    if ecg_uv.ndim != 1 or offsets_us.shape != ecg_uv.shape or ecg_uv.size < 2:
        raise RRFileError("ecg_uV and t_offset_us must be 1-D arrays of equal length", line=0)
    step_us = float(np.median(np.diff(offsets_us)))
    if not step_us > 0:
        raise RRFileError("t_offset_us must increase", line=0)
    # The strap's own sample stamps remove its clock drift (analysis.ecg).
    result = ecg_to_rr(ecg_uv, sampling_rate_hz=1e6 / step_us, sample_times_s=offsets_us / 1e6)
    # rr_ms[i] ends at r_peak_times_s[i + 1].
    beat_t_s = np.asarray(result.r_peak_times_s[1:], dtype=np.float64)
    return beat_t_s, np.asarray(result.rr_ms, dtype=np.float64)


def _write(frame: pd.DataFrame, fmt: OutputFormat, out: Path | None) -> None:
    if fmt is OutputFormat.parquet:
        if out is None:
            raise AnalyzeUsageError("--format parquet needs --out PATH (binary output)")
        frame.to_parquet(out, index=False)
        return
    if fmt is OutputFormat.csv:
        text = frame.to_csv(index=False)
    else:
        records = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")
        ]
        text = json.dumps(records, allow_nan=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        out.write_text(text, encoding="utf-8")


class _Bar:
    """A rich progress bar on stderr over the analysis steps, or nothing."""

    def __init__(self, show: bool) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._done = 0
        if show:
            self._progress = Progress(
                TextColumn("[bold]analyze[/] {task.description:<12}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._task = self._progress.add_task("", total=len(_steps()))

    def __enter__(self) -> _Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def step(self, name: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self._done, description=name)
            self._done += 1

    def finish(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=len(_steps()), description="done")
