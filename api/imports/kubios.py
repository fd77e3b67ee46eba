"""Kubios RR text: one RR interval per line (s or ms), optional header lines, optionally a time
column before it; no absolute time, so the import needs a ``start``.

Pure parser of ``api.imports``; the unit is taken from the values (all below 10 → seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from api.imports.errors import ImportFileError, MissingStart
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import decimals, epoch_ms, parse_number, text_lines
from api.imports.timeline import ChunkBuffer, RrTimeline

#: Values all below this are seconds, else milliseconds.
SECONDS_BELOW = 10.0
#: Header lines allowed before the first value.
MAX_HEADER_LINES = 50


def numeric_rows(
    fh: BinaryIO, ctx: ImportContext, *, allow_header: bool = True
) -> Iterator[tuple[int, list[str]]]:
    """Data rows of a numeric RR text: ``(line, fields)``; header lines only before the first row."""
    seen_value = False
    for number, line in text_lines(fh, ctx.file_name):
        stripped = line.strip()
        if not stripped:
            continue
        fields = stripped.replace(";", " ").replace("\t", " ").split()
        if all(parse_number(f) is not None for f in fields) and 1 <= len(fields) <= 2:
            seen_value = True
            yield number, fields
            continue
        if seen_value or not allow_header or number > MAX_HEADER_LINES:
            raise ImportFileError(ctx.file_name, f"not an RR value: {stripped[:60]!r}", line=number)


def looks_like_rr_text(head: str) -> bool:
    """Whether a file starts like numeric RR values (after at most a few header lines): its first
    three data lines are values (the parser then names any bad line further on)."""
    values = 0
    for raw in head.splitlines()[:MAX_HEADER_LINES]:
        fields = raw.strip().replace(";", " ").replace("\t", " ").split()
        if not fields:
            continue
        if 1 <= len(fields) <= 2 and all(parse_number(f) is not None for f in fields):
            values += 1
            if values == 3:
                return True
        elif values:
            return False
    return False


def _read_rr(fh: BinaryIO, ctx: ImportContext) -> tuple[list[tuple[int, float, str]], bool]:
    rows: list[tuple[int, float, str]] = []
    for number, fields in numeric_rows(fh, ctx):
        text = fields[-1]
        value = parse_number(text)
        assert value is not None
        rows.append((number, value, text))
    if not rows:
        raise ImportFileError(ctx.file_name, "holds no RR values")
    seconds = max(v for _, v, _ in rows) < SECONDS_BELOW
    return rows, seconds


def parse_kubios(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of a Kubios RR text file placed from ``ctx.start``.

    Raises
    ------
    MissingStart
        No ``start`` was given (the file holds no absolute time).
    ImportFileError
        A line that is not a value after the first value, or no values at all.
    """
    if ctx.start is None:
        raise MissingStart(
            ctx.file_name,
            "a Kubios RR text file holds no absolute time: send a `start` form field "
            "(ISO 8601 with offset, e.g. 2026-03-01T07:05:00+01:00)",
        )
    rows, seconds = _read_rr(fh, ctx)
    places = max(decimals(t) for _, _, t in rows)
    resolution_ms = (1000.0 if seconds else 1.0) / (10**places)
    return ParsedImport("kubios", max(resolution_ms, 0.001), _beats(rows, seconds, ctx))


def _beats(
    rows: list[tuple[int, float, str]], seconds: bool, ctx: ImportContext
) -> Iterator[BeatChunk | Summary]:
    assert ctx.start is not None
    buffer = ChunkBuffer("Kubios RR text")
    timeline = RrTimeline(buffer)
    timeline.anchor(epoch_ms(ctx.start), gap=False)
    for _, value, _ in rows:
        timeline.add(round(value * 1000.0, 3) if seconds else value)
        yield from buffer.full()
    yield from buffer.rest()
