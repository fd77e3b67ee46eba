"""Elite HRV exports: one reading per text file, one RR interval in whole ms per line, the reading's
local start time in the file name (``2017-06-29 13-11-53.txt``).

Pure parser of ``api.imports``; a name without that time needs a ``start`` like Kubios RR text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from api.imports.errors import ImportFileError, MissingStart
from api.imports.kubios import numeric_rows
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import epoch_ms
from api.imports.timeline import ChunkBuffer, RrTimeline

#: Elite HRV's export file name: the reading's local start time.
FILE_NAME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2}) (\d{2})-(\d{2})-(\d{2})(?:\s*\(\d+\))?\.txt$", re.IGNORECASE
)


def start_from_name(ctx: ImportContext) -> datetime | None:
    """The reading's start from an Elite HRV file name, in the patient's time zone."""
    m = FILE_NAME.search(ctx.file_name.replace("\\", "/").rsplit("/", 1)[-1])
    if m is None:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=ctx.tz)
    except ValueError:
        return None


def looks_like_elite_hrv(head: str, ctx: ImportContext) -> bool:
    """Whole-ms integers one per line under an Elite HRV file name."""
    if start_from_name(ctx) is None:
        return False
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()][:3]
    return len(lines) == 3 and all(ln.isdigit() for ln in lines)


def parse_elite_hrv(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of one Elite HRV reading: RR in ms from the start in its file name (or ``ctx.start``)."""
    start = ctx.start or start_from_name(ctx)
    if start is None:
        raise MissingStart(
            ctx.file_name,
            "this Elite HRV file's name holds no reading time (expected 'YYYY-MM-DD HH-MM-SS.txt'): "
            "send a `start` form field (ISO 8601 with offset)",
        )
    return ParsedImport("elite_hrv", 1.0, _beats(fh, ctx, epoch_ms(start)))


def _beats(fh: BinaryIO, ctx: ImportContext, start_ms: float) -> Iterator[BeatChunk | Summary]:
    buffer = ChunkBuffer("Elite HRV")
    timeline = RrTimeline(buffer)
    timeline.anchor(start_ms, gap=False)
    n = 0
    for number, fields in numeric_rows(fh, ctx, allow_header=False):
        if len(fields) != 1 or not fields[0].isdigit():
            raise ImportFileError(
                ctx.file_name,
                f"expected one whole RR value in ms, got {' '.join(fields)!r}",
                line=number,
            )
        timeline.add(float(fields[0]))
        n += 1
        yield from buffer.full()
    if n == 0:
        raise ImportFileError(ctx.file_name, "holds no RR values")
    yield from buffer.rest()
