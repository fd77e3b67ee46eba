"""HRV4Training CSV exports: one row per reading (``timestamp_measurement`` or ``date``, HR, SDNN,
rMSSD, ...) and, when the export includes them, the reading's RR intervals in an RR column.

Pure parser of ``api.imports``: RR lists become beats from the reading's start; the app's own
per-reading values are kept as summaries, never mixed into markers computed from beats.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO, Final

from api.imports.errors import ImportFileError
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import epoch_ms, local_datetime, parse_number, text_lines
from api.imports.timeline import ChunkBuffer, RrTimeline

#: Header names (lower case) of the reading time, first match wins.
TIME_COLUMNS: Final[tuple[str, ...]] = ("timestamp_measurement", "date_time", "datetime", "date")
#: Header names (lower case) of the RR list column.
RR_COLUMNS: Final[tuple[str, ...]] = (
    "rr",
    "rrs",
    "rr_intervals",
    "rr intervals",
    "rr_ms",
    "rr intervals (ms)",
)
#: Per-reading values kept as summaries: header (lower case) -> metric.
SUMMARY_COLUMNS: Final[dict[str, str]] = {"rmssd": "rmssd_ms", "sdnn": "sdnn_ms", "hr": "hr_bpm"}
_SPLIT = re.compile(r"[\s;,|]+")


def _columns(header: list[str]) -> dict[str, int]:
    return {h.strip().lower(): i for i, h in enumerate(header)}


def looks_like_hrv4training(head: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    try:
        header = next(csv.reader([first], delimiter=_delimiter(first)))
    except (csv.Error, StopIteration):
        return False
    cols = _columns(header)
    return ("hrv4t_recovery_points" in cols or "timestamp_measurement" in cols) and "rmssd" in cols


def _delimiter(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


def parse_hrv4training(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of every reading with an RR list, and the app's per-reading values as summaries.

    Raises
    ------
    ImportFileError
        No time or rMSSD column, a bad time or value (naming the line), or no RR list at all
        (HRV4Training's summary export alone holds no beats).
    """
    return ParsedImport("hrv4training", 1.0, _rows(fh, ctx))


def _rows(fh: BinaryIO, ctx: ImportContext) -> Iterator[BeatChunk | Summary]:
    lines = text_lines(fh, ctx.file_name)
    try:
        header_no, header_line = next(lines)
    except StopIteration:
        raise ImportFileError(ctx.file_name, "is empty") from None
    delimiter = _delimiter(header_line)
    cols = _columns(next(csv.reader([header_line], delimiter=delimiter)))
    time_col = next((cols[c] for c in TIME_COLUMNS if c in cols), None)
    rr_col = next((cols[c] for c in RR_COLUMNS if c in cols), None)
    if time_col is None:
        raise ImportFileError(
            ctx.file_name, "no timestamp_measurement or date column", line=header_no
        )
    if rr_col is None:
        raise ImportFileError(
            ctx.file_name,
            "this HRV4Training export holds per-reading summaries but no RR intervals; export the "
            "readings with their RR intervals",
            line=header_no,
        )
    device = "HRV4Training"
    buffer = ChunkBuffer(device)
    readings = 0
    for number, line in lines:
        if not line.strip():
            continue
        try:
            row = next(csv.reader(io.StringIO(line), delimiter=delimiter))
        except csv.Error as exc:
            raise ImportFileError(ctx.file_name, f"not CSV ({exc})", line=number) from None
        if len(row) <= max(time_col, rr_col):
            raise ImportFileError(ctx.file_name, "fewer columns than the header", line=number)
        try:
            start = local_datetime(row[time_col], ctx.tz)
        except ValueError:
            raise ImportFileError(
                ctx.file_name, f"not a date and time: {row[time_col][:40]!r}", line=number
            ) from None
        for name, metric in SUMMARY_COLUMNS.items():
            if name in cols and cols[name] < len(row):
                value = parse_number(row[cols[name]])
                if value is not None:
                    yield Summary(device=device, metric=metric, start=start, end=None, value=value)
        values = [v for v in _SPLIT.split(row[rr_col].strip()) if v]
        if not values:
            continue
        timeline = RrTimeline(buffer)  # readings are independent (and may be listed newest first)
        timeline.anchor(epoch_ms(start), gap=False)
        for text in values:
            rr = parse_number(text)
            if rr is None:
                raise ImportFileError(
                    ctx.file_name, f"not an RR value in ms: {text[:20]!r}", line=number
                )
            timeline.add(rr)
        readings += 1
        yield from buffer.full()
    if readings == 0:
        raise ImportFileError(ctx.file_name, "no reading in this export has RR intervals")
    yield from buffer.rest()
